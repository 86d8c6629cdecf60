import type { Db } from './database.js'

export interface TwoFactorRow {
  agent_id: number
  secret_encrypted: string
  /** Null while the agent has not yet confirmed a code. */
  enabled_at: number | null
  /** The last TOTP time step accepted; a code of that step or an earlier one is refused. */
  last_step: number | null
  created_at: number
}

export interface TwoFactorListing { id: number, name: string, email: string, is_admin: boolean, enabled_at: number | null }

export async function findTwoFactor (db: Db, agentId: number): Promise<TwoFactorRow | undefined> {
  const row = await db<TwoFactorRow>('agent_two_factor').where({ agent_id: agentId }).first()
  if (row) {
    row.enabled_at = row.enabled_at === null ? null : Number(row.enabled_at)
    row.last_step = row.last_step === null ? null : Number(row.last_step)
  }
  return row
}

/** A fresh, unconfirmed secret; replaces an unconfirmed one, never a confirmed one. */
export async function putPendingTwoFactor (db: Db, agentId: number, secretEncrypted: string, at: number): Promise<void> {
  await db('agent_two_factor').where({ agent_id: agentId }).whereNull('enabled_at').delete()
  await db('agent_two_factor').insert({ agent_id: agentId, secret_encrypted: secretEncrypted, enabled_at: null, last_step: null, created_at: at })
}

export async function enableTwoFactor (db: Db, agentId: number, step: number, at: number): Promise<boolean> {
  return await db('agent_two_factor').where({ agent_id: agentId }).whereNull('enabled_at').update({ enabled_at: at, last_step: step }) > 0
}

/**
 * Records `step` as used, only when it is later than the last step used: of two requests
 * with the same code, one succeeds.
 */
export async function takeTotpStep (db: Db, agentId: number, step: number): Promise<boolean> {
  return await db('agent_two_factor')
    .where({ agent_id: agentId })
    .whereNotNull('enabled_at')
    .andWhere((q) => { void q.whereNull('last_step').orWhere('last_step', '<', step) })
    .update({ last_step: step }) > 0
}

export async function deleteTwoFactor (db: Db, agentId: number): Promise<boolean> {
  await db('agent_recovery_codes').where({ agent_id: agentId }).delete()
  return await db('agent_two_factor').where({ agent_id: agentId }).delete() > 0
}

export async function replaceRecoveryCodes (db: Db, agentId: number, hashes: readonly string[]): Promise<void> {
  await db('agent_recovery_codes').where({ agent_id: agentId }).delete()
  await db('agent_recovery_codes').insert(hashes.map((hash) => ({ agent_id: agentId, code_hash: hash, used_at: null })))
}

/** Marks the code used; false when it is not one of the agent's or was used already. */
export async function useRecoveryCode (db: Db, agentId: number, hash: string, at: number): Promise<boolean> {
  return await db('agent_recovery_codes').where({ agent_id: agentId, code_hash: hash }).whereNull('used_at').update({ used_at: at }) > 0
}

export async function countUnusedRecoveryCodes (db: Db, agentId: number): Promise<number> {
  const row = await db('agent_recovery_codes').where({ agent_id: agentId }).whereNull('used_at').count({ n: '*' }).first()
  return Number(row?.n ?? 0)
}

/** Every agent, with when they turned two-factor sign-in on (null: not on). */
export async function listTwoFactorStatus (db: Db): Promise<TwoFactorListing[]> {
  const rows: TwoFactorListing[] = await db('agents as a')
    .leftJoin('agent_two_factor as f', 'f.agent_id', 'a.id')
    .where('a.active', true)
    .select('a.id', 'a.name', 'a.email', 'a.is_admin', 'f.enabled_at')
    .orderBy([{ column: 'a.name' }, { column: 'a.id' }])
  return rows.map((row) => ({ ...row, is_admin: Boolean(row.is_admin), enabled_at: row.enabled_at === null ? null : Number(row.enabled_at) }))
}
