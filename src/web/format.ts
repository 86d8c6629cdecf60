import type { EventRow, EventType, TicketRow, TicketSource, TicketStatus } from '../data/tickets.js'
import { priorityValues, type Priority } from '../domain/lifecycle.js'
import { describeSlaEvent } from './sla-format.js'
import { isRating, ratingLabels } from '../domain/survey.js'

// Staff set a ticket pending while they wait on the client; the client reads the same
// status as a request to act.
const statusLabels: Record<TicketStatus, string> = {
  open: 'Open',
  pending: 'Pending',
  resolved: 'Resolved',
  closed: 'Closed'
}
const clientStatusLabels: Record<TicketStatus, string> = { ...statusLabels, pending: 'Waiting for you' }

const priorityLabels: Readonly<Record<Priority, string>> = { 1: 'Low', 2: 'Normal', 3: 'High', 4: 'Urgent' }

/** The priorities as a menu offers them, lowest first. */
export const priorities: ReadonlyArray<{ value: Priority, label: string }> = priorityValues.map((value) => ({ value, label: priorityLabels[value] }))

export function priorityLabel (priority: number): string {
  return priorities.find((p) => p.value === priority)?.label ?? String(priority)
}

/** The phase a client sees on the step indicator, derived from what the desk has done. */
export type ClientPhase = 'submitted' | 'assigned' | 'in_progress' | 'resolved' | 'closed'

export function clientPhase (ticket: Pick<TicketRow, 'status' | 'assignee_id' | 'team_id' | 'first_response_at'>): ClientPhase {
  if (ticket.status === 'closed') return 'closed'
  if (ticket.status === 'resolved') return 'resolved'
  if (ticket.status === 'pending' || ticket.first_response_at !== null) return 'in_progress'
  if (ticket.assignee_id !== null || ticket.team_id !== null) return 'assigned'
  return 'submitted'
}

/** How long ago, in the largest whole unit: "5 min", "3 h", "12 d". */
export function age (ms: number, now: number): string {
  const minutes = Math.max(0, Math.floor((now - Number(ms)) / 60_000))
  if (minutes < 60) return `${minutes} min`
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h`
  return `${Math.floor(minutes / 1440)} d`
}

export function statusLabel (status: TicketStatus): string {
  return statusLabels[status] ?? status
}

export function clientStatusLabel (status: TicketStatus): string {
  return clientStatusLabels[status] ?? status
}

interface Names {
  agents: Array<{ id: number, name: string }>
  teams: Array<{ id: number, name: string }>
  departments: Array<{ id: number, name: string }>
}

/** Events the thread already shows as entries (a reply is its own entry); the timeline skips them. */
const shownAsEntries: ReadonlySet<EventType> = new Set(['replied', 'client_replied', 'note_added'])

export function inTimeline (event: Pick<EventRow, 'type'>): boolean {
  return !shownAsEntries.has(event.type)
}

/** A survey rating as people read it ("Not good"). */
export function ratingLabel (rating: unknown): string {
  return isRating(rating) ? ratingLabels[rating] : String(rating)
}

/** How the history says a ticket came in; the portal needs no words ("opened the ticket"). */
const howOpened: Readonly<Record<TicketSource, string>> = {
  web: '',
  phone: ' from a phone call',
  walk_in: ' for a visitor at the desk',
  email: ' from an e-mail',
  api: ' through the API',
  other: ' from another channel'
}

/** One line of history for the ticket timeline ("Ada assigned the ticket to Team Printers"). */
export function describeEvent (event: Pick<EventRow, 'type' | 'after_state' | 'before_state'>, names: Names): string {
  const after = JSON.parse(event.after_state ?? '{}') as Record<string, unknown>
  const before = JSON.parse(event.before_state ?? '{}') as Record<string, unknown>
  const nameOf = (list: Array<{ id: number, name: string }>, id: unknown): string | undefined => list.find((x) => x.id === id)?.name
  switch (event.type) {
    case 'created': {
      const how = typeof after.source === 'string' && Object.hasOwn(howOpened, after.source) ? howOpened[after.source as TicketSource] : ''
      if (typeof after.follows_number === 'string') return `opened the ticket${how} as a follow-up to #${after.follows_number}`
      return after.follows ? `opened the ticket${how} as a follow-up` : `opened the ticket${how}`
    }
    case 'assigned': {
      const targets = [nameOf(names.agents, after.assignee_id), nameOf(names.teams, after.team_id)].filter(Boolean)
      const rule = typeof after.rule === 'string' ? ` by the ${after.rule} rule` : ''
      return targets.length > 0 ? `assigned the ticket to ${targets.join(' and ')}${rule}` : 'removed the assignment'
    }
    case 'claimed': return 'claimed the ticket'
    case 'released': return 'released the ticket'
    case 'transferred': return `transferred the ticket from ${nameOf(names.departments, before.department_id) ?? 'another department'} to ${nameOf(names.departments, after.department_id) ?? 'another department'}`
    case 'priority_changed': return `changed the priority from ${priorityLabel(Number(before.priority))} to ${priorityLabel(Number(after.priority))}`
    case 'status_changed': return `changed the status from ${String(before.status)} to ${String(after.status)}`
    case 'merged': return `merged this ticket into ${String(after.merged_into)}`
    case 'merged_in': return `merged ticket ${String(after.from)} into this one${after.across_requesters === true ? ' (another requester\'s: their messages are shown to staff only)' : ''}`
    case 'replied': return 'answered the requester'
    case 'client_replied': return 'replied'
    case 'note_added': return 'added an internal note'
    case 'deleted': return 'moved the ticket to the trash'
    case 'restored': return 'restored the ticket from the trash'
    case 'client_reminded': return `reminded the requester that the ticket waits for their answer (${String(after.days)} days without one)`
    case 'sla': return describeSlaEvent(after)
    case 'survey_sent': return 'asked the requester how we did'
    case 'survey_rated': return `rated our help ${ratingLabel(after.rating)}${typeof before.rating === 'string' ? ` (was ${ratingLabel(before.rating)})` : ''}`
    case 'linked': return `linked this ticket to #${String(after.number)}`
    case 'unlinked': return `unlinked ticket #${String(before.number)}`
    case 'participant_added': return `added ${String(after.name)} <${String(after.email)}> as a participant${after.by_mail === true ? ', who replied by e-mail' : ''}${typeof after.merged_from === 'string' ? `, from merged ticket ${after.merged_from}` : ''}`
    case 'participant_removed': return `removed the participant ${String(before.name)} <${String(before.email)}>`
  }
}

export function actorName (event: { actor_kind: string, agent_id: number | null }, agents: Array<{ id: number, name: string }>, ticket: { requester_name: string }): string {
  if (event.actor_kind === 'requester') return ticket.requester_name
  if (event.actor_kind === 'agent') return agents.find((a) => a.id === event.agent_id)?.name ?? 'A former agent'
  return 'Tessera'
}
