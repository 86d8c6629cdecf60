import { randomBytes } from 'node:crypto'
import type { Db } from './database.js'

/**
 * A reset (or invitation) whose link does not exist yet: its hash is random, so no token
 * opens it until the outbox mints one while composing the mail (setPasswordResetHash).
 */
export async function insertPendingPasswordReset (db: Db, agentId: number, expiresAt: number): Promise<number> {
  const [row] = await db('password_resets').insert({ agent_id: agentId, token_hash: randomBytes(32).toString('hex'), expires_at: expiresAt }).returning('id')
  return typeof row === 'object' ? row.id : row
}

/** Points an unused, unexpired reset at a new token's hash; false when it is used, expired or gone. */
export async function setPasswordResetHash (db: Db, id: number, tokenHash: string, now: number): Promise<boolean> {
  const updated = await db('password_resets').where({ id }).whereNull('used_at').andWhere('expires_at', '>', now)
    .update({ token_hash: tokenHash })
  return updated === 1
}
