import { randomBytes } from 'node:crypto'
import type { Db } from '../data/database.js'
import { insertApiKey, useApiKey } from '../data/api-keys.js'
import { hashToken } from './secrets.js'

/** Creates a key for an integration; the returned key is shown once and stored only hashed. */
export async function createApiKey (db: Db, name: string, now = Date.now()): Promise<string> {
  const key = `tsk_${randomBytes(24).toString('base64url')}`
  await insertApiKey(db, name, hashToken(key), now)
  return key
}

export async function authenticateApiKey (db: Db, key: string, now = Date.now()): Promise<{ id: number, name: string } | undefined> {
  if (!/^tsk_[A-Za-z0-9_-]{32}$/.test(key)) return undefined
  return await useApiKey(db, hashToken(key), now)
}
