import type { Db } from './database.js'

export async function insertApiKey (db: Db, name: string, keyHash: string, now: number): Promise<void> {
  await db('api_keys').insert({ name, key_hash: keyHash, created_at: now })
}

/** The key with this hash, marked as used now; undefined when there is none. */
export async function useApiKey (db: Db, keyHash: string, now: number): Promise<{ id: number, name: string } | undefined> {
  const key = await db('api_keys').where({ key_hash: keyHash }).first('id', 'name')
  if (key) await db('api_keys').where({ id: key.id }).update({ last_used_at: now })
  return key
}
