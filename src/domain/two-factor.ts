import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } from 'node:crypto'
import type { Knex } from 'knex'
import { Secret, TOTP } from 'otpauth'
import { findAgent, type AgentAccess, returnSignInSlot, takeSignInSlot } from '../data/agents.js'
import { getSetting, putSetting } from '../data/settings.js'
import {
  countUnusedRecoveryCodes, deleteTwoFactor, enableTwoFactor, findTwoFactor, listTwoFactorStatus, putPendingTwoFactor,
  replaceRecoveryCodes, takeTotpStep, useRecoveryCode, type TwoFactorListing
} from '../data/two-factor.js'
import { verifyPassword, signInLimits } from './accounts.js'
import { recordAdminChange } from './admin-log.js'
import { TesseraError } from './errors.js'
import { hashToken } from './secrets.js'

/*
 * Two-factor sign-in for staff: time-based one-time passwords (RFC 6238, 30-second steps,
 * six digits, SHA-1 as every authenticator app expects) and ten single-use recovery codes.
 * The TOTP secret must be readable to check codes, so it is encrypted (AES-256-GCM with a
 * key derived from SESSION_SECRET); recovery codes are only kept as hashes. A code is good
 * once: the step it belongs to is remembered and no earlier or equal step is taken again.
 */

export const twoFactorRequirements = {
  off: 'Nobody (each agent may turn it on)',
  admins: 'Administrators',
  everyone: 'Everyone'
} as const
export type TwoFactorRequirement = keyof typeof twoFactorRequirements

export function isTwoFactorRequirement (value: unknown): value is TwoFactorRequirement {
  return typeof value === 'string' && Object.hasOwn(twoFactorRequirements, value)
}

export const twoFactorSettingKey = 'security.two_factor_required'
export const recoveryCodeCount = 10
/** One step either side of now: a phone's clock a little off still works. */
const totpWindow = 1
const issuerFallback = 'Tessera'

const totpCodePattern = /^[0-9]{6}$/
/** Ten characters in two groups, without look-alikes (0/O, 1/l/I). */
const recoveryAlphabet = 'abcdefghjkmnpqrstuvwxyz23456789'
const recoveryCodePattern = /^[a-z2-9]{5}-?[a-z2-9]{5}$/

function newRecoveryCode (): string {
  let code = ''
  for (let i = 0; i < 10; i++) code += recoveryAlphabet[randomInt(recoveryAlphabet.length)]
  return `${code.slice(0, 5)}-${code.slice(5)}`
}

/** What a person typed as a code: spaces and dashes dropped, lower case. */
function typedCode (text: string): string {
  return text.replace(/[\s-]/g, '').toLowerCase()
}

function recoveryHash (code: string): string {
  return hashToken(`recovery:${typedCode(code)}`)
}

function sealer (sessionSecret: string) {
  const key = createHash('sha256').update(`tessera two-factor secret\0${sessionSecret}`).digest()
  return {
    seal (plain: string): string {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
    },
    open (sealed: string): string {
      const [version, iv, body, tag] = sealed.split('.')
      if (version !== 'v1' || !iv || !body || !tag) throw new Error('Unreadable two-factor secret')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
    }
  }
}

export interface TwoFactorStatus {
  enabled: boolean
  recoveryCodesLeft: number
}

export interface TwoFactorSetup {
  /** The secret in base32, for typing into an app by hand. */
  secret: string
  /** The otpauth:// address the QR code carries. */
  uri: string
}

const wrongCode = (): TesseraError => new TesseraError('TESSERA_NOT_SIGNED_IN', 'That code is not right, or it was used already. Enter the current code from your app, or an unused recovery code.')

export function createTwoFactor (db: Knex, options: { secret: string, now?: () => number }) {
  const now = options.now ?? Date.now
  const { seal, open } = sealer(options.secret)

  function totpFor (secretBase32: string, label: string, issuer: string): TOTP {
    return new TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secretBase32) })
  }

  /** The time step of `code` when it is right for this secret now, else undefined. */
  function matchingStep (secretBase32: string, code: string, at: number): number | undefined {
    const totp = totpFor(secretBase32, 'x', issuerFallback)
    const delta = totp.validate({ token: code, timestamp: at, window: totpWindow })
    return delta === null ? undefined : totp.counter({ timestamp: at }) + delta
  }

  /**
   * Checks a code from the app (each step once) or a recovery code (each once), limited
   * like passwords: five wrong codes per account in 15 minutes, then even a right one waits.
   */
  async function checkCode (agentId: number, text: string): Promise<'totp' | 'recovery'> {
    const at = now()
    const subject = `two-factor:${agentId}`
    if (!await takeSignInSlot(db, subject, signInLimits.failures, signInLimits.windowMs, at)) {
      throw new TesseraError('TESSERA_RATE_LIMITED', 'Too many wrong codes. Please wait 15 minutes.')
    }
    const code = typedCode(text)
    const row = await findTwoFactor(db, agentId)
    if (row?.enabled_at != null) {
      if (totpCodePattern.test(code)) {
        const step = matchingStep(open(row.secret_encrypted), code, at)
        if (step !== undefined && await takeTotpStep(db, agentId, step)) {
          await returnSignInSlot(db, subject)
          return 'totp'
        }
      } else if (recoveryCodePattern.test(code) && await useRecoveryCode(db, agentId, recoveryHash(code), at)) {
        await returnSignInSlot(db, subject)
        return 'recovery'
      }
    }
    throw wrongCode()
  }

  async function requirement (): Promise<TwoFactorRequirement> {
    const value = await getSetting(db, twoFactorSettingKey)
    return isTwoFactorRequirement(value) ? value : 'off'
  }

  return {
    requirement,

    async isEnabled (agentId: number): Promise<boolean> {
      return (await findTwoFactor(db, agentId))?.enabled_at != null
    },

    /** Whether the desk asks this agent to have two-factor sign-in. */
    async isRequiredFor (agent: { isAdmin: boolean }): Promise<boolean> {
      const required = await requirement()
      return required === 'everyone' || (required === 'admins' && agent.isAdmin)
    },

    async status (agentId: number): Promise<TwoFactorStatus> {
      const row = await findTwoFactor(db, agentId)
      const enabled = row?.enabled_at != null
      return { enabled, recoveryCodesLeft: enabled ? await countUnusedRecoveryCodes(db, agentId) : 0 }
    },

    /**
     * The secret an agent is setting up: the unconfirmed one they have, or a new one. Not
     * offered while two-factor sign-in is on (turn it off first).
     */
    async setup (agent: Pick<AgentAccess, 'id' | 'email'>, issuer: string): Promise<TwoFactorSetup | undefined> {
      const row = await findTwoFactor(db, agent.id)
      if (row?.enabled_at != null) return undefined
      let secret: string
      if (row) {
        secret = open(row.secret_encrypted)
      } else {
        secret = new Secret({ size: 20 }).base32
        await putPendingTwoFactor(db, agent.id, seal(secret), now())
      }
      return { secret, uri: totpFor(secret, agent.email, issuer || issuerFallback).toString() }
    },

    /** The first right code turns it on; the answer is the recovery codes, shown this once. */
    async confirm (agent: Pick<AgentAccess, 'id'>, text: string): Promise<string[]> {
      const code = typedCode(text)
      const at = now()
      return await db.transaction(async (trx) => {
        const row = await findTwoFactor(trx, agent.id)
        if (!row || row.enabled_at !== null) throw new TesseraError('TESSERA_CONFLICT', 'Two-factor sign-in is on already, or its setup expired. Start again from this page.')
        const step = totpCodePattern.test(code) ? matchingStep(open(row.secret_encrypted), code, at) : undefined
        if (step === undefined) throw new TesseraError('TESSERA_INVALID_INPUT', 'That code is not right. Enter the six digits your app shows now.')
        if (!await enableTwoFactor(trx, agent.id, step, at)) throw new TesseraError('TESSERA_CONFLICT', 'Two-factor sign-in was turned on meanwhile.')
        const codes = Array.from({ length: recoveryCodeCount }, newRecoveryCode)
        await replaceRecoveryCodes(trx, agent.id, codes.map(recoveryHash))
        return codes
      })
    },

    /** The second step of signing in. */
    checkCode,

    /**
     * Turns it off: takes the password and a code, so a session left open is not enough.
     * Answers which of the two was refused and why, or undefined when it is off.
     */
    async disable (agent: Pick<AgentAccess, 'id'>, input: { password: string, code: string }): Promise<{ field: 'password' | 'code', error: TesseraError } | undefined> {
      const row = await findAgent(db, agent.id)
      if (!row || !await verifyPassword(input.password, row.password_hash)) {
        return { field: 'password', error: new TesseraError('TESSERA_NOT_SIGNED_IN', 'That password is not right.') }
      }
      try {
        await checkCode(agent.id, input.code)
      } catch (err) {
        if (err instanceof TesseraError) return { field: 'code', error: err }
        throw err
      }
      await db.transaction(async (trx) => { await deleteTwoFactor(trx, agent.id) })
      return undefined
    },

    /** An administrator turns an agent's two-factor sign-in off (a lost phone); logged. */
    async reset (admin: AgentAccess, agentId: number): Promise<boolean> {
      return await db.transaction(async (trx) => {
        const removed = await deleteTwoFactor(trx, agentId)
        if (removed) await recordAdminChange(trx, admin, { subject: 'two_factor', subjectId: agentId, action: 'reset' }, now())
        return removed
      })
    },

    async setRequirement (admin: AgentAccess, value: string): Promise<void> {
      if (!isTwoFactorRequirement(value)) throw new TesseraError('TESSERA_INVALID_INPUT', 'Choose one of the options listed.')
      await db.transaction(async (trx) => {
        const before = await getSetting(trx, twoFactorSettingKey) ?? 'off'
        if (before === value) return
        await putSetting(trx, twoFactorSettingKey, value)
        await recordAdminChange(trx, admin, { subject: 'setting', subjectId: null, action: 'changed', before: { two_factor_required: before }, after: { two_factor_required: value } }, now())
      })
    },

    list: async (): Promise<TwoFactorListing[]> => await listTwoFactorStatus(db)
  }
}

export type TwoFactor = ReturnType<typeof createTwoFactor>
