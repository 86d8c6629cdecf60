import { findAgent, listDepartmentAgents } from '../data/agents.js'
import type { Db } from '../data/database.js'
import type { TicketRow } from '../data/tickets.js'

export type SlaNoticeTarget = 'first_response' | 'resolution'

const targetLabels: Record<SlaNoticeTarget, string> = { first_response: 'First response', resolution: 'Resolution' }

/** Who hears that a ticket's SLA target is near or missed: its assignee, else its department's managers. */
export async function slaRecipients (trx: Db, ticket: Pick<TicketRow, 'assignee_id' | 'department_id'>): Promise<string[]> {
  const assignee = ticket.assignee_id === null ? undefined : await findAgent(trx, ticket.assignee_id)
  if (assignee?.active) return [assignee.email]
  return (await listDepartmentAgents(trx, ticket.department_id, ['manager'])).map((agent) => agent.email)
}

export function slaNoticePayload (target: SlaNoticeTarget, dueAt: number): Record<string, string> {
  return { target, targetLabel: targetLabels[target], dueAt: new Date(dueAt).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' }
}
