import type { AgentAccess, DepartmentRole } from '../data/agents.js'
import type { TicketRow, TicketStatus } from '../data/tickets.js'
import { notFound, TesseraError } from './errors.js'

/**
 * Who may do what to a ticket, and from which status: the one home of that rule. The
 * lifecycle's verbs check it, the ticket page offers exactly what `allowedActions` answers,
 * and the SQL scopes in `src/data/queues.ts` are built from the same two tables below
 * (test/domain/permissions-scope.test.ts pins the two to the same answers).
 */

/**
 * Who causes a change: an agent with the access loaded for this request, a requester on
 * their own ticket, or Tessera itself (jobs, tests).
 */
export type Actor =
  | { kind: 'agent', access: AgentAccess }
  | { kind: 'requester', requesterId: number }
  | { kind: 'system' }

export type AgentActor = Extract<Actor, { kind: 'agent' }>

export function agentActor (access: AgentAccess): AgentActor {
  return { kind: 'agent', access }
}

export const statuses: readonly TicketStatus[] = ['open', 'pending', 'resolved', 'closed']
const working: readonly TicketStatus[] = ['open', 'pending', 'resolved']

export const staffActions = [
  'read', 'reply', 'note', 'assign', 'claim', 'release', 'transfer', 'changePriority',
  'setPending', 'resolve', 'close', 'reopen', 'merge', 'delete'
] as const
/** What an agent can be allowed to do to a ticket. */
export type StaffAction = typeof staffActions[number]
/** What a requester does to their own ticket. */
export type ClientAction = 'clientReply' | 'confirmSolved' | 'clientReopen'
export type TicketAction = StaffAction | ClientAction

/** The lifecycle in one table: the statuses from which each action is allowed. */
export const allowedFrom: Readonly<Record<TicketAction, readonly TicketStatus[]>> = {
  read: statuses,
  reply: working,
  note: statuses,
  assign: working,
  claim: working,
  release: working,
  transfer: working,
  changePriority: working,
  setPending: ['open'],
  resolve: ['open', 'pending'],
  close: working,
  reopen: ['resolved', 'closed'],
  merge: working,
  delete: statuses,
  clientReply: statuses,
  confirmSolved: ['resolved'],
  clientReopen: ['closed']
}

/** The least department role each action needs. */
export const leastRole: Readonly<Record<StaffAction, DepartmentRole>> = {
  read: 'view',
  reply: 'agent',
  note: 'agent',
  assign: 'agent',
  claim: 'agent',
  release: 'agent',
  transfer: 'agent',
  changePriority: 'agent',
  setPending: 'agent',
  resolve: 'agent',
  close: 'agent',
  reopen: 'agent',
  merge: 'manager',
  delete: 'manager'
}

export const roleRank: Readonly<Record<DepartmentRole, number>> = { view: 1, agent: 2, manager: 3 }

/** What a department role allows: every action whose least role it reaches. */
export function actionsOfRole (role: DepartmentRole): StaffAction[] {
  return staffActions.filter((action) => roleRank[role] >= roleRank[leastRole[action]])
}

/** The least role on the target ticket for merging into it: one must be able to work it. */
export const mergeTargetRole: DepartmentRole = 'agent'

const actionLabels: Record<TicketAction, string> = {
  read: 'read',
  reply: 'answered',
  clientReply: 'replied to',
  note: 'noted',
  assign: 'assigned',
  claim: 'claimed',
  release: 'released',
  transfer: 'transferred',
  changePriority: 'given a new priority',
  setPending: 'set to pending',
  resolve: 'resolved',
  close: 'closed',
  reopen: 'reopened',
  confirmSolved: 'confirmed as solved',
  clientReopen: 'reopened by its requester',
  merge: 'merged',
  delete: 'deleted'
}

/** What the rule reads of a ticket. */
export type TicketScope = Pick<TicketRow, 'status' | 'department_id' | 'assignee_id' | 'merged_into_id'>

/**
 * A merged ticket lives on in the ticket it was merged into: nothing may bring it back to
 * work of its own. It can still be read, noted and deleted.
 */
const refusedOnceMerged: ReadonlySet<StaffAction> = new Set(['reopen'])

export function refusedBecauseMerged (action: StaffAction, ticket: Pick<TicketRow, 'merged_into_id'>): boolean {
  return ticket.merged_into_id !== null && refusedOnceMerged.has(action)
}

/**
 * An agent's role on a ticket: administrators manage everything, others have the role of
 * the ticket's department, and anyone the ticket is assigned to may work it.
 */
export function roleOn (access: AgentAccess, ticket: Pick<TicketRow, 'department_id' | 'assignee_id'>): DepartmentRole | null {
  if (access.isAdmin) return 'manager'
  const role = access.roles[ticket.department_id] ?? null
  if (ticket.assignee_id === access.id && (role === null || roleRank[role] < roleRank.agent)) return 'agent'
  return role
}

export function hasRole (access: AgentAccess, ticket: Pick<TicketRow, 'department_id' | 'assignee_id'>, least: DepartmentRole): boolean {
  const role = roleOn(access, ticket)
  return role !== null && roleRank[role] >= roleRank[least]
}

export function canTransition (action: TicketAction, status: TicketStatus): boolean {
  return allowedFrom[action].includes(status)
}

/** The actions this agent may take on this ticket now (role × status). */
export function allowedActions (access: AgentAccess, ticket: TicketScope): ReadonlySet<StaffAction> {
  return new Set(staffActions.filter((action) =>
    hasRole(access, ticket, leastRole[action]) && canTransition(action, ticket.status) && !refusedBecauseMerged(action, ticket)))
}

/**
 * Refuses an agent whose role does not allow the action: a ticket they may not read is
 * simply not found. The status is checked apart (`assertTransition`), after a verb has
 * had the chance to answer a no-op calmly.
 */
export function assertRole (access: AgentAccess, ticket: Pick<TicketRow, 'department_id' | 'assignee_id'>, action: StaffAction): void {
  if (roleOn(access, ticket) === null) throw notFound('That ticket')
  if (!hasRole(access, ticket, leastRole[action])) throw new TesseraError('TESSERA_FORBIDDEN', 'Your role in this department does not allow that.')
}

export function assertTransition (action: TicketAction, status: TicketStatus): void {
  if (!canTransition(action, status)) {
    throw new TesseraError('TESSERA_TRANSITION_REFUSED', `${status === 'open' ? 'An' : 'A'} ${status} ticket cannot be ${actionLabels[action]}.`)
  }
}
