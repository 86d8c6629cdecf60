import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import type { Knex } from 'knex'
import {
  clearSignInThrottle, countAgents, deleteSignInEventsBefore, deleteStaleSignInThrottles, findAgent, findAgentByEmail,
  findPasswordReset, insertAgent, recordSignInEvent, retirePasswordResets, returnSignInSlot,
  setAgentPassword, setDepartmentRole, takeSignInSlot, usePasswordReset, type AgentRow, type SignInOutcome
} from '../data/agents.js'
import { listDepartments } from '../data/catalog.js'
import type { Db } from '../data/database.js'
import { enqueueMessage } from '../data/outbox.js'
import { insertPendingPasswordReset } from '../data/password-resets.js'
import { deleteAgentSessions } from '../data/sessions.js'
import { getSetting, putSetting, takeSetting } from '../data/settings.js'
import { normalizeEmail } from './email-address.js'
import { TesseraError } from './errors.js'
import { hashToken, newAccessToken } from './secrets.js'

function scrypt (password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keylen, options, (err, key) => { if (err) reject(err); else resolve(key) })
  })
}

// N=2^15 takes ~50 ms on a desktop core: slow for guessing, quick enough for a sign-in.
let cost = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }

/**
 * The cost of new hashes (AppOptions.passwordHashCost). Only the tests lower it: at the
 * default, hashing the fixtures' passwords was most of the suite's CPU time. A stored hash
 * carries its own cost, so verifying never depends on this.
 */
export function usePasswordHashCost (N: number): void {
  cost = { ...cost, N }
}

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

/** How long a link to choose a password works: an invitation a week, a reset an hour. */
export const passwordLinkValidMs = { invitation: 7 * 24 * 60 * 60_000, password_reset: 60 * 60_000 } as const

/**
 * Queues the mail that carries a link to choose a password (its token is minted when the
 * mail is composed), inside the caller's transaction.
 */
export async function queuePasswordLink (trx: Db, agent: { id: number, name: string, email: string }, kind: keyof typeof passwordLinkValidMs, at: number): Promise<void> {
  const resetId = await insertPendingPasswordReset(trx, agent.id, at + passwordLinkValidMs[kind])
  await enqueueMessage(trx, { template: kind, toAddress: agent.email, ticketId: null, payload: { name: agent.name, resetId } }, at)
}

/**
 * Sign-in throttling: an account (or an address) gets this many password checks that fail;
 * the next attempt is refused unchecked until the window has passed since the last one.
 * A right password gives its slot back, but does not forgive the failures before it.
 */
export const signInLimits = { failures: 5, windowMs: 15 * 60_000, addressFailures: 20 }

/** How long administrators can read back sign-in events. */
const signInHistoryMs = 90 * 24 * 60 * 60_000

const accountSubject = (email: string): string => `account:${email}`
const addressSubject = (address: string): string => `address:${address}`

export interface AccountsOptions {
  now?: () => number
}

export type Accounts = ReturnType<typeof createAccounts>

export function createAccounts (db: Knex, options: AccountsOptions = {}) {
  const now = options.now ?? Date.now
  // A hash to compare against when the e-mail is unknown, so timing does not reveal which
  // addresses have accounts.
  let decoyHash: Promise<string> | undefined
  let lastSweep = 0

  async function sweepSignInRecords (at: number): Promise<void> {
    if (at - lastSweep < 60 * 60_000) return
    lastSweep = at
    await deleteStaleSignInThrottles(db, at - signInLimits.windowMs)
    await deleteSignInEventsBefore(db, at - signInHistoryMs)
  }

  async function signInEvent (email: string, address: string, agentId: number | null, outcome: SignInOutcome, at: number): Promise<void> {
    await recordSignInEvent(db, { email, address: address.slice(0, 64), agent_id: agentId, outcome, created_at: at })
  }

  /** Adds the agent row (and an administrator's manager role everywhere) inside `trx`. */
  async function addAgent (trx: Knex.Transaction, input: { name: string, email: string, isAdmin: boolean }, passwordHash: string | null): Promise<number> {
    const email = normalizeEmail(input.email)
    if (await findAgentByEmail(trx, email)) {
      throw new TesseraError('TESSERA_CONFLICT', 'An agent with that e-mail address already exists.')
    }
    const id = await insertAgent(trx, { name: input.name, email, passwordHash, isAdmin: input.isAdmin }, now())
    if (input.isAdmin) {
      for (const department of await listDepartments(trx)) await setDepartmentRole(trx, id, department.id, 'manager')
    }
    return id
  }

  async function newPasswordHash (password: string): Promise<string> {
    if (password.length < passwordMinLength) {
      throw new TesseraError('TESSERA_INVALID_INPUT', `A password needs at least ${passwordMinLength} characters.`)
    }
    return await hashPassword(password)
  }

  async function createAgent (input: { name: string, email: string, password: string, isAdmin: boolean }): Promise<number> {
    const passwordHash = await newPasswordHash(input.password)
    return await db.transaction(async (trx) => await addAgent(trx, input, passwordHash))
  }

  /**
   * What a live password link is for: an invitation (the agent has never had a password,
   * so they choose one) or a reset (they choose a new one); undefined when it is not live.
   */
  async function resetLinkKind (token: string): Promise<'invitation' | 'reset' | undefined> {
    const reset = await findPasswordReset(db, hashToken(token))
    if (reset === undefined || reset.used_at !== null || reset.expires_at <= now()) return undefined
    const agent = await findAgent(db, reset.agent_id)
    return agent?.password_hash === null ? 'invitation' : 'reset'
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
        await queuePasswordLink(trx, { id, name: input.name, email: normalizeEmail(input.email) }, 'invitation', at)
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

    /**
     * Creates the first administrator. Taking the token and adding the agent are one
     * transaction: of requests arriving together, one takes the token and the rest find it
     * gone, so there is only ever one first administrator.
     */
    async completeSetup (token: string, input: { name: string, email: string, password: string }): Promise<number> {
      const passwordHash = await newPasswordHash(input.password)
      return await db.transaction(async (trx) => {
        if (!await takeSetting(trx, 'setup_token_hash', hashToken(token)) || await countAgents(trx) > 0) {
          throw new TesseraError('TESSERA_NOT_FOUND', 'This setup link has already been used.')
        }
        return await addAgent(trx, { ...input, isAdmin: true }, passwordHash)
      })
    },

    /**
     * Checks a sign-in. Each attempt first takes a slot for its account and its address
     * (shared by every instance through the database), and only then is the password
     * checked; past the limit, even a right password waits. Every attempt is recorded.
     */
    async signIn (typedEmail: string, password: string, address: string): Promise<AgentRow> {
      const email = normalizeEmail(typedEmail)
      const at = now()
      await sweepSignInRecords(at)
      const account = accountSubject(email)
      let allowed = await takeSignInSlot(db, account, signInLimits.failures, signInLimits.windowMs, at)
      if (allowed && !await takeSignInSlot(db, addressSubject(address), signInLimits.addressFailures, signInLimits.windowMs, at)) {
        await returnSignInSlot(db, account)
        allowed = false
      }
      const agent = await findAgentByEmail(db, email)
      if (!allowed) {
        await signInEvent(email, address, agent?.id ?? null, 'locked', at)
        throw new TesseraError('TESSERA_RATE_LIMITED', 'Too many failed sign-ins. Please wait 15 minutes or reset your password.')
      }
      const ok = agent?.active === true
        ? await verifyPassword(password, agent.password_hash)
        : await verifyPassword(password, await (decoyHash ??= hashPassword(randomBytes(16).toString('hex')))) && false
      if (!ok || !agent) {
        await signInEvent(email, address, agent?.id ?? null, 'failed', at)
        throw new TesseraError('TESSERA_NOT_SIGNED_IN', 'That e-mail address and password do not match.')
      }
      await returnSignInSlot(db, account)
      await returnSignInSlot(db, addressSubject(address))
      await signInEvent(email, address, agent.id, 'succeeded', at)
      return agent
    },

    /** Queues a reset link when the address belongs to an agent; silent either way. */
    async requestPasswordReset (email: string): Promise<void> {
      const agent = await findAgentByEmail(db, normalizeEmail(email))
      if (!agent?.active) return
      const at = now()
      await db.transaction(async (trx) => { await queuePasswordLink(trx, agent, 'password_reset', at) })
    },

    async isValidResetToken (token: string): Promise<boolean> {
      return await resetLinkKind(token) !== undefined
    },

    resetLinkKind,

    /**
     * Sets a new password through a reset link. The link is used up together with every
     * other link the agent still has, every session of the agent ends (whoever held one
     * must sign in with the new password), and the sign-in lockout on the account is lifted.
     */
    async resetPassword (token: string, password: string, address: string): Promise<number> {
      const passwordHash = await newPasswordHash(password)
      const at = now()
      const expired = new TesseraError('TESSERA_NOT_FOUND', 'This reset link has expired or was already used. Ask for a new one.')
      return await db.transaction(async (trx) => {
        const reset = await findPasswordReset(trx, hashToken(token))
        if (!reset || reset.expires_at <= at || !await usePasswordReset(trx, reset.id, at)) throw expired
        const agent = await findAgent(trx, reset.agent_id)
        if (!agent) throw expired
        await setAgentPassword(trx, agent.id, passwordHash)
        await retirePasswordResets(trx, agent.id, at)
        await deleteAgentSessions(trx, agent.id)
        await clearSignInThrottle(trx, accountSubject(agent.email))
        await recordSignInEvent(trx, { email: agent.email, address: address.slice(0, 64), agent_id: agent.id, outcome: 'password_reset', created_at: at })
        return agent.id
      })
    }
  }
}
