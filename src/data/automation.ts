import type { Db } from './database.js'
import { liveLeases } from './job-leases.js'

/*
 * What the automation passes look for. Each query walks one index range in order
 * (status, then a time) and stops after `limit` rows: tickets_status_resolved for
 * auto-close, tickets_pending_remind for reminders, tickets_status_reminded_live for
 * auto-resolve; never the whole table. The last two carry reminded_at, last_activity_at
 * and deleted_at, so the comparison of the two times is made on index entries
 * (test/data/automation-indexes.test.ts pins the plans).
 */

/** Resolved tickets resolved at or before `cutoff`, oldest first, that no live lease holds. */
export async function listResolvedSince (db: Db, job: string, cutoff: number, now: number, limit: number): Promise<number[]> {
  const rows: Array<{ id: number }> = await db('tickets as t')
    .where('t.status', 'resolved').andWhere('t.resolved_at', '<=', cutoff).whereNull('t.deleted_at')
    .whereNotExists(liveLeases(db, job, 't.id', now))
    .orderBy([{ column: 't.resolved_at' }, { column: 't.id' }]).limit(limit).select('t.id')
  return rows.map((row) => Number(row.id))
}

/*
 * A reminder is stamped after the ticket's last activity (which lies days back); anything
 * that happens from then on, even within the same millisecond, brings last_activity_at
 * level with it or past it: that ticket was answered and may need a reminder again.
 */

/** Pending tickets quiet since `cutoff` and not reminded since their last activity. */
export async function listPendingToRemind (db: Db, job: string, cutoff: number, now: number, limit: number): Promise<number[]> {
  const rows: Array<{ id: number }> = await db('tickets as t')
    .where('t.status', 'pending').andWhere('t.last_activity_at', '<=', cutoff).whereNull('t.deleted_at')
    .andWhere((q) => { void q.whereNull('t.reminded_at').orWhereRaw('t.reminded_at <= t.last_activity_at') })
    .whereNotExists(liveLeases(db, job, 't.id', now))
    .orderBy([{ column: 't.last_activity_at' }, { column: 't.id' }]).limit(limit).select('t.id')
  return rows.map((row) => Number(row.id))
}

/** Pending tickets reminded at or before `cutoff` with nothing happening since. */
export async function listRemindedUnanswered (db: Db, job: string, cutoff: number, now: number, limit: number): Promise<number[]> {
  const rows: Array<{ id: number }> = await db('tickets as t')
    .where('t.status', 'pending').andWhere('t.reminded_at', '<=', cutoff).whereNull('t.deleted_at')
    .andWhereRaw('t.reminded_at > t.last_activity_at')
    .whereNotExists(liveLeases(db, job, 't.id', now))
    .orderBy([{ column: 't.reminded_at' }, { column: 't.id' }]).limit(limit).select('t.id')
  return rows.map((row) => Number(row.id))
}

/**
 * Marks the reminder sent, only while the ticket still needs one: of two instances (or two
 * runs) exactly one succeeds.
 */
export async function markReminded (trx: Db, ticketId: number, cutoff: number, at: number): Promise<boolean> {
  const updated = await trx('tickets').where({ id: ticketId, status: 'pending' }).andWhere('last_activity_at', '<=', cutoff).whereNull('deleted_at')
    .andWhere((q) => { void q.whereNull('reminded_at').orWhereRaw('reminded_at <= last_activity_at') })
    .update({ reminded_at: at })
  return updated === 1
}

/** A ticket's automation timestamps, read again just before acting on it. */
export async function findAutomationState (db: Db, ticketId: number): Promise<{ reminded_at: number | null } | undefined> {
  const row: { reminded_at: number | string | null } | undefined = await db('tickets').where({ id: ticketId }).first('reminded_at')
  return row && { reminded_at: row.reminded_at === null ? null : Number(row.reminded_at) }
}
