import type { Db } from '../data/database.js'
import { findAgent, listDepartmentAgents } from '../data/agents.js'
import { findDepartment } from '../data/catalog.js'
import { enqueueMessage } from '../data/outbox.js'
import { listTeamAgentsWhoCanOpen } from '../data/queues.js'
import { getSetting } from '../data/settings.js'
import type { TicketRow } from '../data/tickets.js'
import type { Actor } from './permissions.js'

/**
 * Every notice Tessera sends, to whom, and what it is for. `link` names the private link its
 * mail carries (minted when the mail is composed, see `src/domain/outbox.ts`): the ticket's
 * private link, a link to choose a password (payload.resetId names the reset), or none.
 */
export const notices = {
  ticket_received: { audience: 'requester', description: 'Ticket received, with its number and private link', link: 'ticket' },
  agent_response: { audience: 'requester', description: 'An agent answered', link: 'ticket' },
  ticket_resolved: { audience: 'requester', description: 'Ticket resolved, with links to confirm or reply', link: 'ticket' },
  ticket_closed: { audience: 'requester', description: 'Ticket closed, with the private link', link: 'ticket' },
  access_link: { audience: 'requester', description: 'A fresh private link was requested', link: 'ticket' },
  ticket_merged: { audience: 'requester', description: 'Their ticket was merged into another', link: 'ticket' },
  new_ticket: { audience: 'agent', description: 'New ticket in my department', link: null },
  ticket_assigned: { audience: 'agent', description: 'Ticket assigned to me or my team', link: null },
  client_message: { audience: 'agent', description: 'New client message on my ticket', link: null },
  ticket_transferred: { audience: 'agent', description: 'Ticket transferred to my department', link: null },
  password_reset: { audience: 'agent', description: 'Password reset link', link: 'password' },
  invitation: { audience: 'agent', description: 'Invitation to the staff panel', link: 'password' },
  test_message: { audience: 'agent', description: 'Test message sent from the outbox page', link: null }
} as const

export type NoticeTemplate = keyof typeof notices

/** Notices are on unless the setting `notice.<template>` is "off". */
export async function noticeEnabled (db: Db, template: NoticeTemplate): Promise<boolean> {
  return await getSetting(db, `notice.${template}`) !== 'off'
}

/*
 * Who hears about what happens to a ticket: one function per notice, called by the
 * lifecycle verb that causes it inside its transaction, so a notice exists exactly when the
 * change does. Agents hear only about tickets they can open, and never about what they did
 * themselves.
 */

type NoticeTicket = Pick<TicketRow, 'id' | 'number' | 'subject' | 'status' | 'department_id' | 'assignee_id' | 'team_id'>
interface Person { name: string, email: string }
interface AgentRecipient { id: number, email: string }

async function queue (trx: Db, template: NoticeTemplate, to: readonly string[], ticket: NoticeTicket, payload: Record<string, unknown>, at: number): Promise<void> {
  if (to.length === 0 || !await noticeEnabled(trx, template)) return
  for (const address of new Set(to)) {
    await enqueueMessage(trx, { template, toAddress: address, ticketId: ticket.id, payload: { number: ticket.number, subject: ticket.subject, ...payload } }, at)
  }
}

function except (agents: readonly AgentRecipient[], actor: Actor | null): string[] {
  return agents.filter((agent) => !(actor?.kind === 'agent' && actor.access.id === agent.id)).map((agent) => agent.email)
}

/** ticket_received → the requester, with the private link. */
export async function noticeTicketReceived (trx: Db, ticket: NoticeTicket, requester: Person, at: number): Promise<void> {
  await queue(trx, 'ticket_received', [requester.email], ticket, { name: requester.name }, at)
}

/** new_ticket → whom the ticket's department names: its agents and managers, its managers, or nobody. */
export async function noticeNewTicket (trx: Db, ticket: NoticeTicket, requester: Person, message: string, at: number): Promise<void> {
  const audience = (await findDepartment(trx, ticket.department_id))?.new_ticket_notice ?? 'agents'
  if (audience === 'nobody') return
  const agents = await listDepartmentAgents(trx, ticket.department_id, audience === 'managers' ? ['manager'] : ['agent', 'manager'])
  await queue(trx, 'new_ticket', except(agents, null), ticket, { requesterName: requester.name, message }, at)
}

/** agent_response → the requester, with the answer and a private link. */
export async function noticeAgentResponse (trx: Db, ticket: NoticeTicket, requester: Person, agentName: string, body: string, at: number): Promise<void> {
  await queue(trx, 'agent_response', [requester.email], ticket, { name: requester.name, agentName, body }, at)
}

/** ticket_resolved → the requester, with links to confirm or reply. */
export async function noticeTicketResolved (trx: Db, ticket: NoticeTicket, requester: Person, at: number): Promise<void> {
  await queue(trx, 'ticket_resolved', [requester.email], ticket, { name: requester.name }, at)
}

/** ticket_closed → the requester. */
export async function noticeTicketClosed (trx: Db, ticket: NoticeTicket, requester: Person, at: number): Promise<void> {
  await queue(trx, 'ticket_closed', [requester.email], ticket, { name: requester.name }, at)
}

/** access_link → the requester who asked for a fresh link. */
export async function noticeAccessLink (trx: Db, ticket: NoticeTicket, requester: Person, at: number): Promise<void> {
  await queue(trx, 'access_link', [requester.email], ticket, { name: requester.name }, at)
}

/**
 * ticket_merged → the merged ticket's requester: into their own other ticket, a link to it
 * (`from` names the old number); into someone else's, their own ticket's link only.
 */
export async function noticeTicketMerged (trx: Db, ticket: NoticeTicket, requester: Person, from: string | null, at: number): Promise<void> {
  await queue(trx, 'ticket_merged', [requester.email], ticket, { name: requester.name, ...(from === null ? {} : { from }) }, at)
}

/** client_message → the ticket's assignee, while active. */
export async function noticeClientMessage (trx: Db, ticket: NoticeTicket, body: string, at: number): Promise<void> {
  const assignee = ticket.assignee_id === null ? undefined : await findAgent(trx, ticket.assignee_id)
  if (assignee?.active) await queue(trx, 'client_message', [assignee.email], ticket, { body }, at)
}

/**
 * ticket_assigned → a newly named assignee, and the members of a newly named team who can
 * open the ticket (a team may hold people without a role in its department); never the
 * agent who made the assignment.
 */
export async function noticeTicketAssigned (trx: Db, before: NoticeTicket, after: NoticeTicket, actor: Actor, at: number): Promise<void> {
  const assignee = after.assignee_id !== null && after.assignee_id !== before.assignee_id ? await findAgent(trx, after.assignee_id) : undefined
  const team = after.team_id !== null && after.team_id !== before.team_id ? await listTeamAgentsWhoCanOpen(trx, after.team_id, after) : []
  await queue(trx, 'ticket_assigned', except([...(assignee?.active ? [assignee] : []), ...team], actor), after, {}, at)
}

/** ticket_transferred → the agents and managers of the department it moved to, not the mover. */
export async function noticeTicketTransferred (trx: Db, ticket: NoticeTicket, actor: Actor, at: number): Promise<void> {
  await queue(trx, 'ticket_transferred', except(await listDepartmentAgents(trx, ticket.department_id), actor), ticket, {}, at)
}
