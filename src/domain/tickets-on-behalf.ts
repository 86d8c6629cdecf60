import type { AgentAccess } from '../data/agents.js'
import type { TicketSource } from '../data/tickets.js'
import { hasRole, leastRole, type AgentActor } from './permissions.js'

/*
 * Tickets an agent opens for someone who phoned, walked in or wrote elsewhere. They go
 * through the lifecycle's one createTicket; what differs is carried in `OnBehalf`.
 */

/** How a ticket reached the desk, with the name pages show. */
export const ticketSources: Readonly<Record<TicketSource, string>> = {
  phone: 'Phone',
  walk_in: 'Walk-in',
  email: 'E-mail',
  web: 'Web',
  api: 'API',
  other: 'Other'
}

/** What an agent may say when opening a ticket by hand (the API is for integrations). */
export const staffTicketSources: readonly TicketSource[] = ['phone', 'walk_in', 'email', 'web', 'other']

export function isStaffTicketSource (value: unknown): value is TicketSource {
  return typeof value === 'string' && (staffTicketSources as readonly string[]).includes(value)
}

export function sourceLabel (source: string): string {
  return Object.hasOwn(ticketSources, source) ? ticketSources[source as TicketSource] : source
}

export interface OnBehalf {
  /** The agent opening it: the ticket's "created" event is theirs. */
  actor: AgentActor
  /** Whether the requester is sent the received notice (with the private link) and a first reply. */
  notify: boolean
  /** Replaces the topic's or department's priority. */
  priority?: number
  /** Who works it, instead of the topic's routing. */
  assignment?: { agentId: number | null, teamId: number | null }
  /** A reply to the requester or an internal note, written in the same step. */
  firstEntry?: { kind: 'response' | 'note', body: string }
}

/** Opening a ticket in a department takes the role that replies there. */
export function mayOpenTicketIn (access: AgentAccess, departmentId: number): boolean {
  return hasRole(access, { department_id: departmentId, assignee_id: null }, leastRole.reply)
}
