import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { Knex } from 'knex'
import {
  clearLoginFailures, countAgents, countLoginFailures, findAgentByEmail, findPasswordReset, insertAgent,
  markPasswordResetUsed, recordLoginFailure, setAgentPassword, setDepartmentRole, type AgentRow
} from '../data/agents.js'
import { listDepartments } from '../data/catalog.js'
import { enqueueMessage } from '../data/outbox.js'
import { insertPendingPasswordReset } from '../data/password-resets.js'
import { deleteSetting, getSetting, putSetting } from '../data/settings.js'
import { TesseraError } from './errors.js'
import { hashToken, newAccessToken } from './secrets.js'

function scrypt (password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keylen, options, (err, key) => { if (err) reject(err); else resolve(key) })
  })
}

// N=2^15 takes ~50 ms here: slow for guessing, quick enough for a sign-in.
const cost = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }

export async function hashPassword (password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, 32, cost)
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifyPassword (password: string, stored: string | null): Promise<boolean> {
  const parts = (stored ?? '').split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string]
  const expected = Buffer.from(key, 'base64url')
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expected.length,
    { N: Number(n), r: Number(r), p: Number(p), maxmem: cost.maxmem })
  return timingSafeEqual(actual, expected)
}

export const passwordMinLength = 10
const invitationValidMs = 7 * 24 * 60 * 60_000

/** Sign-in throttling: this many failures in the window lock an account or an address. */
export const signInLimits = { failures: 5, windowMs: 15 * 60_000, addressFailures: 20 }

export interface AccountsOptions {
  now?: () => number
}

export type Accounts = ReturnType<typeof createAccounts>

export function createAccounts (db: Knex, options: AccountsOptions = {}) {
  const now = options.now ?? Date.now
  // A hash to compare against when the e-mail is unknown, so timing does not reveal which
  // addresses have accounts.
  let decoyHash: Promise<string> | undefined

  /** Adds the agent row (and an administrator's manager role everywhere) inside `trx`. */
  async function addAgent (trx: Knex.Transaction, input: { name: string, email: string, isAdmin: boolean }, passwordHash: string | null): Promise<number> {
    if (await findAgentByEmail(trx, input.email)) {
      throw new TesseraError('TESSERA_CONFLICT', 'An agent with that e-mail address already exists.', 409)
    }
    const id = await insertAgent(trx, { name: input.name, email: input.email, passwordHash, isAdmin: input.isAdmin }, now())
    if (input.isAdmin) {
      for (const department of await listDepartments(trx)) await setDepartmentRole(trx, id, department.id, 'manager')
    }
    return id
  }

  async function createAgent (input: { name: string, email: string, password: string, isAdmin: boolean }): Promise<number> {
    if (input.password.length < passwordMinLength) {
      throw new TesseraError('TESSERA_INVALID_INPUT', `A password needs at least ${passwordMinLength} characters.`, 422)
    }
    const passwordHash = await hashPassword(input.password)
    return await db.transaction(async (trx) => await addAgent(trx, input, passwordHash))
  }

  return {
    createAgent,

    /**
     * Creates an agent without a password and mails them an invitation whose link (valid a
     * week) lets them choose one; until then nobody can sign in as them.
     */
    async inviteAgent (input: { name: string, email: string, isAdmin: boolean }): Promise<number> {
      const at = now()
      return await db.transaction(async (trx) => {
        const id = await addAgent(trx, input, null)
        const resetId = await insertPendingPasswordReset(trx, id, at + invitationValidMs)
        await enqueueMessage(trx, { template: 'invitation', toAddress: input.email, ticketId: null, payload: { name: input.name, resetId } }, at)
        return id
      })
    },

    async needsSetup (): Promise<boolean> {
      return await countAgents(db) === 0
    },

    /** A one-time setup token for an empty desk; the returned token is shown once (in the log). */
    async issueSetupToken (): Promise<string> {
      const { token, hash } = newAccessToken()
      await putSetting(db, 'setup_token_hash', hash)
      return token
    },

    async isValidSetupToken (token: string): Promise<boolean> {
      const stored = await getSetting(db, 'setup_token_hash')
      return stored !== undefined && stored === hashToken(token) && await countAgents(db) === 0
    },

    async completeSetup (token: string, input: { name: string, email: string, password: string }): Promise<number> {
      if (!await this.isValidSetupToken(token)) throw new TesseraError('TESSERA_NOT_FOUND', 'This setup link has already been used.', 404)
      const id = await createAgent({ ...input, isAdmin: true })
      await deleteSetting(db, 'setup_token_hash')
      return id
    },

    /**
     * Checks a sign-in. Failed attempts are counted per account and per address in the
     * database (shared by every instance); past the limit, even a right password waits.
     */
    async signIn (email: string, password: string, address: string): Promise<AgentRow> {
      const at = now()
      const since = at - signInLimits.windowMs
      const accountKey = `account:${email}`
      const addressKey = `address:${address}`
      if (await countLoginFailures(db, accountKey, since) >= signInLimits.failures ||
          await countLoginFailures(db, addressKey, since) >= signInLimits.addressFailures) {
        throw new TesseraError('TESSERA_FORBIDDEN', 'Too many failed sign-ins. Please wait 15 minutes or reset your password.', 429)
      }
      const agent = await findAgentByEmail(db, email)
      const ok = agent?.active === true
        ? await verifyPassword(password, agent.password_hash)
        : await verifyPassword(password, await (decoyHash ??= hashPassword(randomBytes(16).toString('hex')))) && false
      if (!ok || !agent) {
        await recordLoginFailure(db, [accountKey, addressKey], at)
        throw new TesseraError('TESSERA_FORBIDDEN', 'That e-mail address and password do not match.', 401)
      }
      await clearLoginFailures(db, accountKey)
      return agent
    },

    /** Queues a reset link when the address belongs to an agent; silent either way. */
    async requestPasswordReset (email: string): Promise<void> {
      const agent = await findAgentByEmail(db, email)
      if (!agent?.active) return
      const at = now()
      await db.transaction(async (trx) => {
        const resetId = await insertPendingPasswordReset(trx, agent.id, at + 60 * 60_000)
        await enqueueMessage(trx, { template: 'password_reset', toAddress: agent.email, ticketId: null, payload: { name: agent.name, resetId } }, at)
      })
    },

    async isValidResetToken (token: string): Promise<boolean> {
      const reset = await findPasswordReset(db, hashToken(token))
      return reset !== undefined && reset.used_at === null && reset.expires_at > now()
    },

    async resetPassword (token: string, password: string): Promise<number> {
      if (password.length < passwordMinLength) {
        throw new TesseraError('TESSERA_INVALID_INPUT', `A password needs at least ${passwordMinLength} characters.`, 422)
      }
      const passwordHash = await hashPassword(password)
      return await db.transaction(async (trx) => {
        const reset = await findPasswordReset(trx, hashToken(token))
        if (!reset || reset.used_at !== null || reset.expires_at <= now()) {
          throw new TesseraError('TESSERA_NOT_FOUND', 'This reset link has expired or was already used. Ask for a new one.', 404)
        }
        await setAgentPassword(trx, reset.agent_id, passwordHash)
        await markPasswordResetUsed(trx, reset.id, now())
        return reset.agent_id
      })
    }
  }
}
