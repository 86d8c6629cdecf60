import type { Db } from './database.js'

/** A stored staff session; `sid_hash` is the SHA-256 of the id the cookie carries. */
export interface SessionRow {
  sidHash: string
  data: string
  agentId: number | null
  expiresAt: number
}

export async function saveSession (db: Db, row: SessionRow): Promise<void> {
  await db('sessions')
    .insert({ sid: row.sidHash, data: row.data, agent_id: row.agentId, expires_at: row.expiresAt })
    .onConflict('sid').merge(['data', 'agent_id', 'expires_at'])
}

/** An unexpired session: its data and when it expires. */
export async function findSession (db: Db, sidHash: string, now: number): Promise<{ data: string, expiresAt: number } | undefined> {
  const row: { data: string, expires_at: number | string } | undefined = await db('sessions').where({ sid: sidHash }).andWhere('expires_at', '>', now).first('data', 'expires_at')
  return row === undefined ? undefined : { data: row.data, expiresAt: Number(row.expires_at) }
}

export async function deleteSession (db: Db, sidHash: string): Promise<void> {
  await db('sessions').where({ sid: sidHash }).delete()
}

export async function deleteExpiredSessions (db: Db, now: number): Promise<void> {
  await db('sessions').where('expires_at', '<=', now).delete()
}

/** Signs an agent out everywhere, or everywhere but the session whose id hashes to `keepSidHash`. */
export async function deleteAgentSessions (db: Db, agentId: number, keepSidHash?: string): Promise<number> {
  const rows = db('sessions').where({ agent_id: agentId })
  if (keepSidHash !== undefined) rows.whereNot({ sid: keepSidHash })
  return await rows.delete()
}
