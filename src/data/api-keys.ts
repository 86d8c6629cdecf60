import { insertedId, type Db } from './database.js'

export interface ApiKeyRow {
  id: number
  name: string
  scope: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
}

const columns = ['id', 'name', 'scope', 'created_at', 'last_used_at', 'revoked_at'] as const

export async function insertApiKey (db: Db, key: { name: string, scope: string, keyHash: string }, now: number): Promise<number> {
  const [row] = await db('api_keys').insert({ name: key.name, scope: key.scope, key_hash: key.keyHash, created_at: now }).returning('id')
  return insertedId(row)
}

/** Newest first; revoked keys stay listed. */
export async function listApiKeys (db: Db): Promise<ApiKeyRow[]> {
  return (await db('api_keys').orderBy('id', 'desc').select(columns)).map(normalize)
}

export async function findApiKey (db: Db, id: number): Promise<ApiKeyRow | undefined> {
  const row = await db('api_keys').where({ id }).first(columns)
  return row ? normalize(row) : undefined
}

/** The live (not revoked) key with this hash. */
export async function findLiveApiKeyByHash (db: Db, keyHash: string): Promise<ApiKeyRow | undefined> {
  const row = await db('api_keys').where({ key_hash: keyHash }).whereNull('revoked_at').first(columns)
  return row ? normalize(row) : undefined
}

/** Marks the key used at `now` unless that was already recorded less than `graceMs` ago. */
export async function touchApiKey (db: Db, id: number, now: number, graceMs: number): Promise<void> {
  await db('api_keys').where({ id }).where((q) => { void q.whereNull('last_used_at').orWhere('last_used_at', '<', now - graceMs) }).update({ last_used_at: now })
}

/** True when this call revoked it; false when it was revoked already or does not exist. */
export async function revokeApiKey (db: Db, id: number, now: number): Promise<boolean> {
  return await db('api_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: now }) === 1
}

// Times may come back as strings from a driver that keeps big integers exact.
function normalize (row: Record<string, unknown>): ApiKeyRow {
  const time = (value: unknown): number | null => value === null || value === undefined ? null : Number(value)
  return {
    id: Number(row.id),
    name: String(row.name),
    scope: String(row.scope),
    created_at: Number(row.created_at),
    last_used_at: time(row.last_used_at),
    revoked_at: time(row.revoked_at)
  }
}
