import { randomBytes } from 'node:crypto'
import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import { findApiKey, findLiveApiKeyByHash, insertApiKey, listApiKeys, revokeApiKey, touchApiKey, type ApiKeyRow } from '../data/api-keys.js'
import { recordAdminChange } from './admin-log.js'
import { TesseraError } from './errors.js'
import { hashToken } from './secrets.js'

/** What a key may be used for, with the name the admin page shows. */
export const apiKeyScopes = {
  mail_intake: 'Mail intake (POST /api/v1/mail/inbound)'
} as const

export type ApiKeyScope = keyof typeof apiKeyScopes

export function isApiKeyScope (value: unknown): value is ApiKeyScope {
  return typeof value === 'string' && Object.hasOwn(apiKeyScopes, value)
}

export const apiKeyNameMaxLength = 120

/** Last-used times are kept to the minute: a busy integration costs no write per request. */
const lastUsedPrecisionMs = 60_000

export type ApiKey = ApiKeyRow

/**
 * Keys for integrations: shown once when created, stored only as a SHA-256 hash, and
 * checked against the database on every request, so a revoked key stops at once.
 */
export function createApiKeys (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now
  // When this instance last recorded each key's use; the database write is conditional too,
  // so several instances together still write at most about once a minute per key.
  const touched = new Map<number, number>()

  return {
    list: async (): Promise<ApiKey[]> => await listApiKeys(db),

    /** A new key; the raw value is returned to be shown once and is never stored. `admin` is null from the command line. */
    async create (admin: AgentAccess | null, input: { name: string, scope: string }): Promise<{ id: number, key: string }> {
      const name = input.name.trim()
      if (name === '' || [...name].length > apiKeyNameMaxLength) throw new TesseraError('TESSERA_INVALID_INPUT', `Give the key a name of 1 to ${apiKeyNameMaxLength} characters.`)
      if (!isApiKeyScope(input.scope)) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose what the key may be used for.')
      const key = `tsk_${randomBytes(24).toString('base64url')}`
      const at = now()
      const id = await db.transaction(async (trx) => {
        const id = await insertApiKey(trx, { name, scope: input.scope, keyHash: hashToken(key) }, at)
        await recordAdminChange(trx, admin, { subject: 'api_key', subjectId: id, action: 'created', after: { name, scope: input.scope } }, at)
        return id
      })
      return { id, key }
    },

    /** Revoking twice is calm: false the second time. */
    async revoke (admin: AgentAccess, id: number): Promise<boolean> {
      return await db.transaction(async (trx) => {
        const at = now()
        const key = await findApiKey(trx, id)
        if (!key) throw new TesseraError('TESSERA_NOT_FOUND', 'That API key does not exist.')
        const revoked = await revokeApiKey(trx, id, at)
        if (revoked) await recordAdminChange(trx, admin, { subject: 'api_key', subjectId: id, action: 'revoked', before: { name: key.name } }, at)
        return revoked
      })
    },

    /** The live key with this value and scope, its use recorded; undefined for anything else. */
    async authenticate (key: string, scope: ApiKeyScope): Promise<ApiKey | undefined> {
      if (!/^tsk_[A-Za-z0-9_-]{32}$/.test(key)) return undefined
      const found = await findLiveApiKeyByHash(db, hashToken(key))
      if (!found || found.scope !== scope) return undefined
      const at = now()
      if (at - (touched.get(found.id) ?? -Infinity) >= lastUsedPrecisionMs) {
        touched.set(found.id, at)
        await touchApiKey(db, found.id, at, lastUsedPrecisionMs)
      }
      return found
    }
  }
}

export type ApiKeys = ReturnType<typeof createApiKeys>

/** A mail-intake key made outside the admin pages (the command line); logged as made by no admin. */
export async function createApiKey (db: Knex, name: string): Promise<string> {
  return (await createApiKeys(db).create(null, { name, scope: 'mail_intake' })).key
}
