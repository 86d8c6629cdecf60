import { listOf, preparedRead, type Db, type ListRead } from './database.js'
import type { AgentAccess } from './agents.js'
import { agentScope, whereInScope, type AgentScope } from './queues.js'
import { ticketIdIn, type TicketRef } from './tickets.js'

/** A ticket related to another, as the ticket page lists it. */
export interface LinkedTicket {
  id: number
  number: string
  subject: string
  status: 'open' | 'pending' | 'resolved' | 'closed'
}

/** A pair is stored once, smaller id first, so linking from either side finds the same row. */
function pair (a: number, b: number): { ticket_id: number, linked_ticket_id: number } {
  return a < b ? { ticket_id: a, linked_ticket_id: b } : { ticket_id: b, linked_ticket_id: a }
}

export async function ticketsLinked (db: Db, a: number, b: number): Promise<boolean> {
  return await db('ticket_links').where(pair(a, b)).first('id') !== undefined
}

/** Links the two; a concurrent link of the same pair trips the unique index. */
export async function insertTicketLink (db: Db, a: number, b: number, agentId: number | null, at: number): Promise<void> {
  await db('ticket_links').insert({ ...pair(a, b), created_by: agentId, created_at: at })
}

/** Unlinks the two; false when they were not linked. */
export async function deleteTicketLink (db: Db, a: number, b: number): Promise<boolean> {
  return await db('ticket_links').where(pair(a, b)).delete() > 0
}

/** The tickets linked to this one that the agent may see, in number order: a list a page reads with others. */
export function linkedTicketsList (db: Db, access: AgentAccess, ticket: TicketRef): ListRead<LinkedTicket[]> {
  return listOf(linkedTickets(db, { ticket, scope: agentScope(access, 'read') }), ['id', 'number', 'subject', 'status'])
}

const linkedTickets = preparedRead((db, { ticket, scope }: { ticket: TicketRef, scope: AgentScope }) =>
  whereInScope(db('tickets as t')
    .whereIn('t.id', db('ticket_links').where('ticket_id', ticketIdIn(db, ticket)).select('linked_ticket_id')
      .union((u) => { void u.from('ticket_links').where('linked_ticket_id', ticketIdIn(db, ticket)).select('ticket_id') }))
    .whereNull('t.deleted_at')
    .orderBy('t.number')
    .select('t.id', 't.number', 't.subject', 't.status'), scope, 'read'))
