import type { Db } from './database.js'

export interface RequesterRow {
  id: number
  name: string
  email: string
  created_at: number
}

/**
 * Finds the requester by e-mail address or creates one with this name. A known requester
 * keeps the name they have: anyone can type anyone's address into the portal.
 */
export async function findOrCreateRequester (db: Db, name: string, email: string, now: number): Promise<RequesterRow> {
  const existing = await db<RequesterRow>('requesters').where({ email }).first()
  if (existing) return existing
  const [row] = await db('requesters').insert({ name, email, created_at: now }).returning('id')
  const id = typeof row === 'object' ? row.id : row
  return { id, name, email, created_at: now }
}

export async function findRequester (db: Db, id: number): Promise<RequesterRow | undefined> {
  return await db<RequesterRow>('requesters').where({ id }).first()
}
