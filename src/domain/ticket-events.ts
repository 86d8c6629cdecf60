import { allInTransaction, type Db } from '../data/database.js'
import { insertEvents, type EventType, type TicketRow } from '../data/tickets.js'
import type { Actor } from './permissions.js'
import { countEvents } from './report-counts.js'

/** The system actor: what the desk does by itself (routing, clocks, automation). */
export const systemActor: Actor = { kind: 'system' }

/**
 * Records one thing that happened to a ticket, with who did it and when: every verb in every
 * module writes its events through here, so a row always names its actor the same way, and
 * the report counters follow every change in its transaction (src/domain/report-counts.ts).
 * A verb that holds the ticket as it stands after the change passes it as `ticketNow`, and
 * spares the counters a read of it.
 */
export async function recordEvent (trx: Db, ticketId: number, actor: Actor, type: EventType, before: unknown, after: unknown, at: number, ticketNow?: TicketRow): Promise<void> {
  await recordEvents(trx, [{ ticketId, actor, type, before, after, at, ticketNow }])
}

export interface TicketEvent {
  ticketId: number
  actor: Actor
  type: EventType
  before: unknown
  after: unknown
  at: number
  ticketNow?: TicketRow
}

/** recordEvent for several events at once (new tickets opened together): one statement for the events, one for the counters. */
export async function recordEvents (trx: Db, events: readonly TicketEvent[]): Promise<void> {
  const rows = events.map(({ ticketId, actor, type, before, after, at }) => ({
    ticket_id: ticketId,
    type,
    actor_kind: actor.kind,
    agent_id: actor.kind === 'agent' ? actor.access.id : null,
    requester_id: actor.kind === 'requester' ? actor.requesterId : null,
    before_state: before === null || before === undefined ? null : JSON.stringify(before),
    after_state: after === null || after === undefined ? null : JSON.stringify(after),
    created_at: at
  }))
  // The counters are taken from the events themselves, not from their rows: both at once.
  await allInTransaction([insertEvents(trx, rows), countEvents(trx, events)])
}
