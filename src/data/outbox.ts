import { dialectOfDb, type Db } from './database.js'

export interface OutboxMessage {
  template: string
  toAddress: string
  ticketId: number | null
  payload: Record<string, unknown>
}

export interface OutboxRow {
  id: number
  template: string
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
  await db('outbox').insert({
    template: message.template,
    to_address: message.toAddress,
    ticket_id: message.ticketId,
    payload: JSON.stringify(message.payload),
    status: 'queued',
    attempts: 0,
    next_attempt_at: now,
    created_at: now
  })
}

export async function listOutbox (db: Db, filter: { ticketId?: number, toAddress?: string } = {}): Promise<OutboxRow[]> {
  const query = db<OutboxRow>('outbox').orderBy('id')
  if (filter.ticketId !== undefined) query.where({ ticket_id: filter.ticketId })
  if (filter.toAddress !== undefined) query.where({ to_address: filter.toAddress })
  return await query
}

/**
 * Takes up to `limit` due messages for `owner` until `leaseUntil`. PostgreSQL and MariaDB
 * lock candidate rows with SKIP LOCKED so concurrent workers pick different rows; on every
 * database the lease itself is a conditional update, so a row is only ever claimed once.
 */
export async function claimDueMessages (db: Db, owner: string, now: number, leaseUntil: number, limit: number): Promise<OutboxRow[]> {
  const due = (query: ReturnType<Db>): ReturnType<Db> => query
    .where('status', 'queued')
    .andWhere('next_attempt_at', '<=', now)
    .andWhere((q) => { q.whereNull('lease_until').orWhere('lease_until', '<', now) })
  const claim = async (trx: Db, ids: number[]): Promise<number[]> => {
    const claimed: number[] = []
    for (const id of ids) {
      const updated = await due(trx('outbox').where({ id })).update({ lease_owner: owner, lease_until: leaseUntil })
      if (updated === 1) claimed.push(id)
    }
    return claimed
  }
  const ids = dialectOfDb(db) === 'sqlite'
    ? await claim(db, (await due(db('outbox')).orderBy('id').limit(limit).select('id')).map((r: { id: number }) => r.id))
    : await db.transaction(async (trx) => {
      const rows = await due(trx('outbox')).orderBy('id').limit(limit).forUpdate().skipLocked().select('id')
      return await claim(trx, rows.map((r: { id: number }) => r.id))
    })
  if (ids.length === 0) return []
  return await db<OutboxRow>('outbox').whereIn('id', ids).andWhere('lease_owner', owner).orderBy('id')
}

export async function markSent (db: Db, id: number, owner: string, now: number): Promise<void> {
  await db('outbox').where({ id, lease_owner: owner })
    .update({ status: 'sent', sent_at: now, attempts: db.raw('attempts + 1'), lease_owner: null, lease_until: null, last_error: null })
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

/** Gives back rows a stopping worker claimed but did not get to. */
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
