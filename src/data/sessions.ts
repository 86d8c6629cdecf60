import type { Knex } from 'knex'
import type { Session } from 'fastify'
import type { SessionStore } from '@fastify/session'

const defaultLifetimeMs = 12 * 60 * 60_000

/**
 * Staff sessions in the database, so any app instance can serve any request and a restart
 * signs nobody out. Expired rows are ignored on read and swept on write.
 */
export class DatabaseSessionStore implements SessionStore {
  private lastSweep = 0

  constructor (private readonly db: Knex, private readonly now: () => number = Date.now) {}

  set (sid: string, session: Session, callback: (err?: unknown) => void): void {
    const at = this.now()
    const cookie = (session as { cookie?: { expires?: Date | string | null } }).cookie
    const expires = cookie?.expires ? new Date(cookie.expires).getTime() : at + defaultLifetimeMs
    const row = { sid, data: JSON.stringify(session), expires_at: expires }
    this.db('sessions').insert(row).onConflict('sid').merge(['data', 'expires_at'])
      .then(async () => { await this.sweep(at) })
      .then(() => callback(), callback)
  }

  get (sid: string, callback: (err: unknown, result?: Session | null) => void): void {
    this.db('sessions').where({ sid }).andWhere('expires_at', '>', this.now()).first('data')
      .then((row: { data: string } | undefined) => callback(null, row ? JSON.parse(row.data) as Session : null), callback)
  }

  destroy (sid: string, callback: (err?: unknown) => void): void {
    this.db('sessions').where({ sid }).delete().then(() => callback(), callback)
  }

  private async sweep (at: number): Promise<void> {
    if (at - this.lastSweep < 60 * 60_000) return
    this.lastSweep = at
    await this.db('sessions').where('expires_at', '<=', at).delete()
  }
}
