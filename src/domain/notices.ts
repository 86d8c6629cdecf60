import { allInTransaction, mapList, readList, type Db, type ListRead } from '../data/database.js'
import { departmentsAgentsList, findAgent, findAgents, listDepartmentAgents, type AgentRow, type DepartmentRole, type DepartmentsAgent } from '../data/agents.js'
import type { NewTicketAudience } from '../data/catalog.js'
import { enqueueMessages } from '../data/outbox.js'
import { listTeamAgentsWhoCanOpen } from '../data/queues.js'
import { settingsList } from '../data/settings.js'
import type { TicketRow } from '../data/tickets.js'
import type { Actor } from './permissions.js'
import { slaRecipients, slaNoticePayload, type SlaNoticeTarget } from './sla-notices.js'
import type { StoredFile } from '../attachments/store.js'

/**
 * Every notice Tessera sends, to whom, and what it is for. `link` names the private link its
 * mail carries (minted when the mail is composed, see `src/domain/outbox.ts`): the ticket's
 * private link, a link to choose a password (payload.resetId names the reset), a survey
 * link (`src/domain/survey-links.ts`; the closed notice carries one too when payload.survey
 * is true), or none.
 */
export const notices = {
  ticket_received: { audience: 'requester', description: 'Ticket received, with its number and private link', link: 'ticket' },
  agent_response: { audience: 'requester', description: 'An agent answered', link: 'ticket' },
  ticket_resolved: { audience: 'requester', description: 'Ticket resolved, with links to confirm or reply', link: 'ticket' },
  ticket_closed: { audience: 'requester', description: 'Ticket closed, with the private link', link: 'ticket' },
  access_link: { audience: 'requester', description: 'A fresh private link was requested', link: 'ticket' },
  ticket_merged: { audience: 'requester', description: 'Their ticket was merged into another', link: 'ticket' },
  pending_reminder: { audience: 'requester', description: 'Reminder that a pending ticket waits for their answer', link: 'ticket' },
  survey_invitation: { audience: 'requester', description: 'How did we do? The satisfaction survey, when it is sent after a delay or the client closed the ticket', link: 'survey' },
  participant_copy: { audience: 'participant', description: 'An agent answered: a copy to the participants kept in Cc (no private link)', link: null },
  new_ticket: { audience: 'agent', description: 'New ticket in my department', link: null },
  ticket_assigned: { audience: 'agent', description: 'Ticket assigned to me or my team', link: null },
  client_message: { audience: 'agent', description: 'New client message on my ticket', link: null },
  ticket_transferred: { audience: 'agent', description: 'Ticket transferred to my department', link: null },
  sla_warning: { audience: 'agent', description: 'A ticket I work reached 80 % of an SLA target', link: null },
  sla_breach: { audience: 'agent', description: 'A ticket I work missed an SLA target', link: null },
  survey_not_good: { audience: 'agent', description: 'A requester rated my ticket (or one in the department I manage) Not good', link: null },
  password_reset: { audience: 'agent', description: 'Password reset link', link: 'password' },
  invitation: { audience: 'agent', description: 'Invitation to the staff panel', link: 'password' },
  test_message: { audience: 'agent', description: 'Test message sent from the outbox page', link: null }
} as const

export type NoticeTemplate = keyof typeof notices

/** Notices are on unless the setting `notice.<template>` is "off". Those of `templates` that are on, read in one query. */
async function enabledNotices (db: Db, templates: readonly NoticeTemplate[]): Promise<Set<NoticeTemplate>> {
  if (templates.length === 0) return new Set()
  return await readList(db, enabledNoticesList(db, templates))
}

function enabledNoticesList (db: Db, templates: readonly NoticeTemplate[]): ListRead<Set<NoticeTemplate>> {
  const wanted = [...new Set(templates)]
  const stored = settingsList(db, wanted.map((template) => `notice.${template}`))
  return mapList(stored, (found) => new Set(wanted.filter((template) => found.get(`notice.${template}`) !== 'off')))
}

/*
 * Who hears about what happens to a ticket: one function per notice, called by the
 * lifecycle verb that causes it inside its transaction, so a notice exists exactly when the
 * change does. Agents hear only about tickets they can open, and never about what they did
 * themselves.
 */

type NoticeTicket = Pick<TicketRow, 'id' | 'number' | 'subject' | 'status' | 'department_id' | 'assignee_id' | 'team_id'>
interface Person { name: string, email: string }
/** An agent read with when they are back, if away (agents.away_until), so no second query asks. */
interface AgentRecipient { id: number, email: string, away_until: number | string | null }

interface Notice { template: NoticeTemplate, to: readonly string[], ticket: NoticeTicket, payload: Record<string, unknown>, at: number }

async function queue (trx: Db, template: NoticeTemplate, to: readonly string[], ticket: NoticeTicket, payload: Record<string, unknown>, at: number): Promise<void> {
  await queueAll(trx, [{ template, to, ticket, payload, at }])
}

/** Queues each notice that is on to each of its addresses once, in one statement. */
async function queueAll (trx: Db, notices: readonly Notice[]): Promise<void> {
  await queueEnabled(trx, notices, await enabledNotices(trx, notices.filter((notice) => notice.to.length > 0).map((notice) => notice.template)))
}

/** queueAll, for a caller that read which notices are on beside its other reads. */
async function queueEnabled (trx: Db, notices: readonly Notice[], enabled: ReadonlySet<NoticeTemplate>): Promise<void> {
  const messages = []
  for (const { template, to, ticket, payload, at } of notices) {
    if (to.length === 0 || !enabled.has(template)) continue
    for (const address of new Set(to)) {
      messages.push({ template, toAddress: address, ticketId: ticket.id, payload: { number: ticket.number, subject: ticket.subject, ...payload }, at })
    }
  }
  await enqueueMessages(trx, messages)
}

/** The agents not away at `at` (see the preferences page): an away agent gets no notices. */
function present<A extends AgentRecipient> (agents: readonly A[], at: number): A[] {
  return agents.filter((agent) => agent.away_until === null || Number(agent.away_until) <= at)
}

function except (agents: readonly AgentRecipient[], actor: Actor | null): string[] {
  return agents.filter((agent) => !(actor?.kind === 'agent' && actor.access.id === agent.id)).map((agent) => agent.email)
}

/** ticket_received → the requester, with the private link. */
export interface NewTicketNotice { ticket: NoticeTicket, requester: Person, message: string, at: number, receipt: boolean }

/** Who may hear of new tickets in some departments, and which notices are on. */
export interface NewTicketRecipients {
  members: DepartmentsAgent[]
  enabled: Set<NoticeTemplate>
}

/**
 * What noticeNewTickets needs to know beforehand, as two lists new tickets opened together
 * read with their others as soon as their departments are known, instead of after the
 * tickets are written: the departments' agents, and whether each notice is on (ticket_assigned
 * too, which routing may send).
 */
export function newTicketRecipientsLists (db: Db, departmentIds: readonly number[]): { members: ListRead<DepartmentsAgent[]>, enabled: ListRead<Set<NoticeTemplate>> } {
  return { members: departmentsAgentsList(db, departmentIds), enabled: enabledNoticesList(db, ['ticket_received', 'new_ticket', 'ticket_assigned']) }
}

/**
 * For each new ticket: ticket_received → the requester, when `receipt`; new_ticket → whom
 * the ticket's department names: its agents and managers, its managers, or nobody (read
 * beforehand by newTicketRecipients). The notices of tickets opened together are queued at once.
 */
export async function noticeNewTickets (trx: Db, recipients: NewTicketRecipients, opened: readonly NewTicketNotice[]): Promise<void> {
  const { members, enabled } = recipients
  const told = members.filter(hearsOfNewTickets)
  const notices: Notice[] = []
  for (const { ticket, requester, message, at, receipt } of opened) {
    if (receipt) notices.push({ template: 'ticket_received', to: [requester.email], ticket, payload: { name: requester.name }, at })
    const audience = told.filter((agent) => agent.department_id === ticket.department_id)
    notices.push({ template: 'new_ticket', to: except(present(audience, at), null), ticket, payload: { requesterName: requester.name, message }, at })
  }
  await queueEnabled(trx, notices, enabled)
}

/** A department tells its agents and managers of its new tickets, or its managers only, or nobody. */
function hearsOfNewTickets (member: { role: DepartmentRole, new_ticket_notice: NewTicketAudience }): boolean {
  if (member.new_ticket_notice === 'nobody') return false
  return member.new_ticket_notice === 'managers' ? member.role === 'manager' : true
}

/** agent_response → the requester, with the answer, its files and a private link. */
export async function noticeAgentResponse (trx: Db, ticket: NoticeTicket, requester: Person, agentName: string, body: string, at: number, files: readonly StoredFile[] = []): Promise<void> {
  const attached = files.map((f) => ({ name: f.filename, sha256: f.sha256, size: f.size, type: f.contentType }))
  await queue(trx, 'agent_response', [requester.email], ticket, { name: requester.name, agentName, body, sentAt: at, ...(attached.length > 0 ? { files: attached } : {}) }, at)
}

/** participant_copy → colleagues on the thread the agent kept in Cc: the answer, never the requester's private link. */
export async function noticeParticipantCopy (trx: Db, ticket: NoticeTicket, to: readonly string[], agentName: string, body: string, at: number): Promise<void> {
  await queue(trx, 'participant_copy', to, ticket, { agentName, body }, at)
}

/** ticket_resolved → the requester, with links to confirm or reply. */
export async function noticeTicketResolved (trx: Db, ticket: NoticeTicket, requester: Person, at: number): Promise<void> {
  await queue(trx, 'ticket_resolved', [requester.email], ticket, { name: requester.name }, at)
}

/** ticket_closed → the requester; with the survey's links when `survey` (sent at once). */
export async function noticeTicketClosed (trx: Db, ticket: NoticeTicket, requester: Person, at: number, survey = false): Promise<void> {
  await queue(trx, 'ticket_closed', [requester.email], ticket, { name: requester.name, ...(survey ? { survey: true } : {}) }, at)
}

/** survey_invitation → the requester of a closed ticket, with the survey's links. */
export async function noticeSurveyInvitation (trx: Db, ticket: NoticeTicket, requester: Person, at: number): Promise<void> {
  await queue(trx, 'survey_invitation', [requester.email], ticket, { name: requester.name, survey: true }, at)
}

/** survey_not_good → the agent who had the ticket and the department's managers. */
export async function noticeSurveyNotGood (trx: Db, ticket: NoticeTicket, agentId: number | null, comment: string, at: number): Promise<void> {
  const agent = agentId === null ? undefined : await findAgent(trx, agentId)
  const managers = await listDepartmentAgents(trx, ticket.department_id, ['manager'])
  await queue(trx, 'survey_not_good', [...(agent?.active ? [agent.email] : []), ...managers.map((m) => m.email)], ticket, { comment }, at)
}

/** pending_reminder → the requester of a ticket that has waited for their answer (the scheduler). */
export async function noticePendingReminder (trx: Db, ticket: NoticeTicket, requester: Person, days: number, at: number): Promise<void> {
  await queue(trx, 'pending_reminder', [requester.email], ticket, { name: requester.name, days }, at)
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

/** client_message → the ticket's assignee, while active and not away. */
export async function noticeClientMessage (trx: Db, ticket: NoticeTicket, body: string, at: number): Promise<void> {
  const assignee = ticket.assignee_id === null ? undefined : await findAgent(trx, ticket.assignee_id)
  if (assignee?.active && present([assignee], at).length > 0) await queue(trx, 'client_message', [assignee.email], ticket, { body }, at)
}

/**
 * ticket_assigned → a newly named assignee, and the members of a newly named team who can
 * open the ticket (a team may hold people without a role in its department); never the
 * agent who made the assignment.
 */
export async function noticeTicketAssigned (trx: Db, before: NoticeTicket, after: NoticeTicket, actor: Actor, at: number): Promise<void> {
  await noticeTicketsAssigned(trx, [{ before, after, actor, at }])
}

/** The agents an assignment may name and whether its notice is on, when the caller has read them already (new tickets do, beside their other reads). */
export interface AssigneesRead { agents: ReadonlyMap<number, AgentRow>, enabled: ReadonlySet<NoticeTemplate> }

async function readAssignees (trx: Db, agentIds: readonly number[]): Promise<AssigneesRead> {
  const [agents, enabled] = await allInTransaction([findAgents(trx, agentIds), enabledNotices(trx, ['ticket_assigned'])])
  return { agents, enabled }
}

/** noticeTicketAssigned for new tickets placed together: each agent and team read once. */
export async function noticeTicketsAssigned (trx: Db, changes: ReadonlyArray<{ before: NoticeTicket, after: NoticeTicket, actor: Actor, at: number }>, read?: AssigneesRead): Promise<void> {
  const assigneeOf = ({ before, after }: typeof changes[number]): number | null =>
    after.assignee_id !== null && after.assignee_id !== before.assignee_id ? after.assignee_id : null
  if (changes.length === 0) return
  const { agents, enabled } = read ?? await readAssignees(trx, changes.flatMap((change) => assigneeOf(change) ?? []))
  const teams = new Map<string, Promise<AgentRecipient[]>>()
  const told: Array<{ change: typeof changes[number], recipients: AgentRecipient[] }> = []
  for (const change of changes) {
    const { before, after } = change
    const assigneeId = assigneeOf(change)
    const assignee = assigneeId === null ? undefined : agents.get(assigneeId)
    const teamKey = `${after.team_id ?? ''}:${after.department_id}:${after.assignee_id ?? ''}:${after.status}`
    if (after.team_id !== null && after.team_id !== before.team_id && !teams.has(teamKey)) teams.set(teamKey, listTeamAgentsWhoCanOpen(trx, after.team_id, after))
    const team = after.team_id !== null && after.team_id !== before.team_id ? await teams.get(teamKey)! : []
    told.push({ change, recipients: [...(assignee?.active ? [assignee] : []), ...team] })
  }
  await queueEnabled(trx, told.map(({ change, recipients }) => ({
    template: 'ticket_assigned', to: except(present(recipients, change.at), change.actor), ticket: change.after, payload: {}, at: change.at
  })), enabled)
}

/** ticket_transferred → the agents and managers of the department it moved to, not the mover. */
export async function noticeTicketTransferred (trx: Db, ticket: NoticeTicket, actor: Actor, at: number): Promise<void> {
  await queue(trx, 'ticket_transferred', except(present(await listDepartmentAgents(trx, ticket.department_id), at), actor), ticket, {}, at)
}

/** sla_warning → the assignee, or the department's managers when nobody is assigned. */
export async function noticeSlaWarning (trx: Db, ticket: NoticeTicket, target: SlaNoticeTarget, dueAt: number, at: number): Promise<void> {
  await queue(trx, 'sla_warning', await slaRecipients(trx, ticket), ticket, slaNoticePayload(target, dueAt), at)
}

/** sla_breach → the assignee, or the department's managers when nobody is assigned. */
export async function noticeSlaBreach (trx: Db, ticket: NoticeTicket, target: SlaNoticeTarget, dueAt: number, at: number): Promise<void> {
  await queue(trx, 'sla_breach', await slaRecipients(trx, ticket), ticket, slaNoticePayload(target, dueAt), at)
}
