import type { NoticeTemplate } from '../domain/notices.js'
import type { Db } from './database.js'

export interface OutboxMessage {
  template: NoticeTemplate
  toAddress: string
  ticketId: number | null
  payload: Record<string, unknown>
}

export interface OutboxRow {
  id: number
  template: NoticeTemplate
  to_address: string
  ticket_id: number | null
  payload: string
  status: 'queued' | 'sent' | 'failed'
  attempts: number
  next_attempt_at: number
  created_at: number
  sent_at: number | null
  last_error: string | null
  lease_owner: string | null
  message_id: string | null
}

/** Queues a notice; callers pass their transaction so the notice exists only if the change does. */
export async function enqueueMessage (db: Db, message: OutboxMessage, now: number): Promise<void> {
  await enqueueMessages(db, [{ ...message, at: now }])
}

/** Queues several notices in one statement, each sent from its own instant on. */
export async function enqueueMessages (db: Db, messages: ReadonlyArray<OutboxMessage & { at: number }>): Promise<void> {
  if (messages.length === 0) return
  await db('outbox').insert(messages.map((message) => ({
    template: message.template,
    to_address: message.toAddress,
    ticket_id: message.ticketId,
    payload: JSON.stringify(message.payload),
    status: 'queued',
    attempts: 0,
    next_attempt_at: message.at,
    created_at: message.at
  })))
}

export async function listOutbox (db: Db, filter: { ticketId?: number, toAddress?: string } = {}): Promise<OutboxRow[]> {
  const query = db<OutboxRow>('outbox').orderBy('id')
  if (filter.ticketId !== undefined) query.where({ ticket_id: filter.ticketId })
  if (filter.toAddress !== undefined) query.where({ to_address: filter.toAddress })
  return await query
}

/** Ids of messages due now that no live lease holds, oldest first; nothing is claimed yet. */
export async function listDueMessageIds (db: Db, now: number, limit: number): Promise<number[]> {
  const rows = await due(db('outbox'), now).orderBy('id').limit(limit).select('id')
  return rows.map((row: { id: number }) => row.id)
}

function due (query: ReturnType<Db>, now: number): ReturnType<Db> {
  return query
    .where('status', 'queued')
    .andWhere('next_attempt_at', '<=', now)
    .andWhere((q) => { q.whereNull('lease_until').orWhere('lease_until', '<', now) })
}

/**
 * Takes one due message for `owner` until `leaseUntil`, or returns undefined when another
 * worker holds it or it is no longer due. The lease is a conditional update, so of two
 * workers racing for a row exactly one gets it, on every database.
 */
export async function claimMessage (db: Db, id: number, owner: string, now: number, leaseUntil: number): Promise<OutboxRow | undefined> {
  const updated = await due(db('outbox').where({ id }), now).update({ lease_owner: owner, lease_until: leaseUntil })
  if (updated !== 1) return undefined
  return await db<OutboxRow>('outbox').where({ id, lease_owner: owner }).first()
}

/** Extends a lease this owner still holds; false when it was lost (expired and taken). */
export async function renewLease (db: Db, id: number, owner: string, now: number, leaseUntil: number): Promise<boolean> {
  const updated = await db('outbox').where({ id, lease_owner: owner, status: 'queued' }).andWhere('lease_until', '>', now)
    .update({ lease_until: leaseUntil })
  return updated === 1
}

/** False when the lease had been lost meanwhile (the row is then left as it is). */
export async function markSent (db: Db, id: number, owner: string, now: number): Promise<boolean> {
  const updated = await db('outbox').where({ id, lease_owner: owner })
    .update({ status: 'sent', sent_at: now, attempts: db.raw('attempts + 1'), lease_owner: null, lease_until: null, last_error: null })
  return updated === 1
}

export async function markAttemptFailed (db: Db, id: number, owner: string, error: string, nextAttemptAt: number | null): Promise<void> {
  await db('outbox').where({ id, lease_owner: owner }).update({
    status: nextAttemptAt === null ? 'failed' : 'queued',
    attempts: db.raw('attempts + 1'),
    next_attempt_at: nextAttemptAt ?? db.raw('next_attempt_at'),
    last_error: error.slice(0, 2000),
    lease_owner: null,
    lease_until: null
  })
}

/** Gives back one row without counting an attempt (its send was cut short by a shutdown). */
export async function releaseLease (db: Db, id: number, owner: string): Promise<void> {
  await db('outbox').where({ id, lease_owner: owner, status: 'queued' }).update({ lease_owner: null, lease_until: null })
}

/** Gives back every row a stopping worker still holds. */
export async function releaseLeases (db: Db, owner: string): Promise<void> {
  await db('outbox').where({ lease_owner: owner, status: 'queued' }).update({ lease_owner: null, lease_until: null })
}

export interface OutboxListing extends OutboxRow {
  ticket_number: string | null
}

/** Newest first, optionally one status only; for the admin's outbox page. */
export async function listRecentOutbox (db: Db, status: OutboxRow['status'] | undefined, limit: number): Promise<OutboxListing[]> {
  const query = db('outbox as o').leftJoin('tickets as t', 't.id', 'o.ticket_id')
    .orderBy('o.id', 'desc').limit(limit).select('o.*', 't.number as ticket_number')
  if (status) query.where('o.status', status)
  return await query
}

export async function countOutboxByStatus (db: Db): Promise<Record<string, number>> {
  const rows: Array<{ status: string, n: number | string }> = await db('outbox').groupBy('status').select('status').count({ n: '*' })
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]))
}

/** Puts a failed (or waiting) message back in line to be tried now, with a fresh set of attempts. */
export async function requeueMessage (db: Db, id: number, now: number): Promise<boolean> {
  const updated = await db('outbox').where({ id }).whereIn('status', ['failed', 'queued'])
    .update({ status: 'queued', attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null })
  return updated === 1
}
