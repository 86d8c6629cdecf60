import type { Knex } from 'knex'
import type { Session } from 'fastify'
import type { SessionStore } from '@fastify/session'
import { deleteExpiredSessions, deleteSession, findSession, saveSession } from '../data/sessions.js'
import { hashToken } from '../domain/secrets.js'

const defaultLifetimeMs = 12 * 60 * 60_000

/**
 * How long this instance trusts what it read about a signed-in agent (their session row,
 * their roles) without asking the database again. Every staff request needs both; changes
 * this instance makes take effect at once (see `watchAccessWrites`), changes made by
 * another instance (a sign-out, a disabled agent) within this long.
 */
export const accessCacheMs = 1000

/**
 * A counter that moves whenever this instance writes to a table a signed-in agent's access
 * is read from: sessions, agents, their department roles and teams. Cached reads of those
 * are valid only while it stands still. It watches the statements themselves, so every
 * writer (sign-out, a password reset, admin pages, the CLI's code run in this process) is
 * covered without having to remember to say so; a write inside a transaction moves it
 * again when that transaction ends, so no read made before the commit outlives it.
 */
export interface AccessWrites { generation: () => number }

const watchers = new WeakMap<Knex, AccessWrites>()
const accessTables = /^\s*(insert|update|delete|replace)\b[\s\S]*?["`](sessions|agents|agent_departments|team_members)["`]/i
const transactionEnd = /^\s*(commit|rollback)\b/i

export function watchAccessWrites (db: Knex): AccessWrites {
  const existing = watchers.get(db)
  if (existing) return existing
  let generation = 0
  // Connections with an open transaction that wrote one of those tables.
  const pending = new Set<unknown>()
  db.on('query', (query: { sql?: string, __knexUid?: unknown, __knexTxId?: unknown }) => {
    const sql = query.sql ?? ''
    if (transactionEnd.test(sql)) {
      if (pending.delete(query.__knexUid)) generation++
    } else if (accessTables.test(sql)) {
      generation++
      if (query.__knexTxId !== undefined) pending.add(query.__knexUid)
    }
  })
  const watcher = { generation: () => generation }
  watchers.set(db, watcher)
  return watcher
}

interface Remembered { data: string, expiresAt: number, until: number, generation: number }

/**
 * @fastify/session's store, backed by the sessions table, so any app instance can serve any
 * request and a restart signs nobody out. Only the hash of a session id is stored: someone
 * who reads the table cannot use what they read as a cookie. Expired rows are ignored on
 * read and swept on write. A row read is remembered for `accessCacheMs`, in this process's
 * memory only, by the id itself: a request that finds it there hashes nothing.
 */
export class DatabaseSessionStore implements SessionStore {
  private lastSweep = 0
  private readonly writes: AccessWrites
  private readonly remembered = new Map<string, Remembered>()

  constructor (private readonly db: Knex, private readonly now: () => number = Date.now) {
    this.writes = watchAccessWrites(db)
  }

  set (sid: string, session: Session, callback: (err?: unknown) => void): void {
    const at = this.now()
    const cookie = (session as { cookie?: { expires?: Date | string | null } }).cookie
    const expiresAt = cookie?.expires ? new Date(cookie.expires).getTime() : at + defaultLifetimeMs
    const sidHash = hashToken(sid)
    this.remembered.delete(sid)
    saveSession(this.db, { sidHash, data: JSON.stringify(session), agentId: session.agentId ?? null, expiresAt })
      .then(async () => { await this.sweep(at) })
      .then(() => callback(), callback)
  }

  get (sid: string, callback: (err: unknown, result?: Session | null) => void): void {
    const at = this.now()
    // Real time, not the app's clock (tests stop that): the point is a short while.
    const wall = Date.now()
    const generation = this.writes.generation()
    const known = this.remembered.get(sid)
    if (known !== undefined && known.generation === generation && wall < known.until && at < known.expiresAt) {
      callback(null, JSON.parse(known.data) as Session)
      return
    }
    findSession(this.db, hashToken(sid), at).then((row) => {
      if (row === undefined) {
        this.remembered.delete(sid)
        callback(null, null)
        return
      }
      if (this.remembered.size >= 10_000) this.remembered.clear()
      this.remembered.set(sid, { data: row.data, expiresAt: row.expiresAt, until: wall + accessCacheMs, generation })
      callback(null, JSON.parse(row.data) as Session)
    }, callback)
  }

  destroy (sid: string, callback: (err?: unknown) => void): void {
    this.remembered.delete(sid)
    deleteSession(this.db, hashToken(sid)).then(() => callback(), callback)
  }

  private async sweep (at: number): Promise<void> {
    if (at - this.lastSweep < 60 * 60_000) return
    this.lastSweep = at
    await deleteExpiredSessions(this.db, at)
  }
}
