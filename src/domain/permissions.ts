import type { AgentAccess, DepartmentRole } from '../data/agents.js'
import type { TicketRow } from '../data/tickets.js'
import type { Verb } from './lifecycle.js'

export type StaffAction = Verb | 'read' | 'delete'

const rank: Record<DepartmentRole, number> = { view: 1, agent: 2, manager: 3 }

/** The least role each action needs; everything not named here is everyday agent work. */
const needs: Partial<Record<StaffAction, DepartmentRole>> = {
  read: 'view',
  merge: 'manager',
  delete: 'manager'
}

/**
 * An agent's role on a ticket: administrators manage everything, others have the role of
 * the ticket's department, and anyone the ticket is assigned to may work it.
 */
export function roleOn (access: AgentAccess, ticket: Pick<TicketRow, 'department_id' | 'assignee_id'>): DepartmentRole | null {
  if (access.isAdmin) return 'manager'
  const role = access.roles[ticket.department_id] ?? null
  if (ticket.assignee_id === access.id && (role === null || rank[role] < rank.agent)) return 'agent'
  return role
}

export function may (access: AgentAccess, ticket: Pick<TicketRow, 'department_id' | 'assignee_id'>, action: StaffAction): boolean {
  const role = roleOn(access, ticket)
  return role !== null && rank[role] >= rank[needs[action] ?? 'agent']
}
