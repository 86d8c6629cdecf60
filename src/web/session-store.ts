import type { Knex } from 'knex'
import type { Session } from 'fastify'
import type { SessionStore } from '@fastify/session'
import { deleteExpiredSessions, deleteSession, findSessionData, saveSession } from '../data/sessions.js'
import { hashToken } from '../domain/secrets.js'

const defaultLifetimeMs = 12 * 60 * 60_000

/**
 * @fastify/session's store, backed by the sessions table, so any app instance can serve any
 * request and a restart signs nobody out. Only the hash of a session id is stored: someone
 * who reads the table cannot use what they read as a cookie. Expired rows are ignored on
 * read and swept on write.
 */
export class DatabaseSessionStore implements SessionStore {
  private lastSweep = 0

  constructor (private readonly db: Knex, private readonly now: () => number = Date.now) {}

  set (sid: string, session: Session, callback: (err?: unknown) => void): void {
    const at = this.now()
    const cookie = (session as { cookie?: { expires?: Date | string | null } }).cookie
    const expiresAt = cookie?.expires ? new Date(cookie.expires).getTime() : at + defaultLifetimeMs
    saveSession(this.db, { sidHash: hashToken(sid), data: JSON.stringify(session), agentId: session.agentId ?? null, expiresAt })
      .then(async () => { await this.sweep(at) })
      .then(() => callback(), callback)
  }

  get (sid: string, callback: (err: unknown, result?: Session | null) => void): void {
    findSessionData(this.db, hashToken(sid), this.now())
      .then((data) => callback(null, data === undefined ? null : JSON.parse(data) as Session), callback)
  }

  destroy (sid: string, callback: (err?: unknown) => void): void {
    deleteSession(this.db, hashToken(sid)).then(() => callback(), callback)
  }

  private async sweep (at: number): Promise<void> {
    if (at - this.lastSweep < 60 * 60_000) return
    this.lastSweep = at
    await deleteExpiredSessions(this.db, at)
  }
}
