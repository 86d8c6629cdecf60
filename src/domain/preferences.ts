import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import { findAgentByEmail } from '../data/agents.js'
import { findAgentSettings, signatureChoices, updateAgentSettings, type AgentSettingsPatch, type AgentSettingsRow, type SignatureChoice } from '../data/agent-preferences.js'
import { isUniqueViolation } from '../data/database.js'
import { queueNames, type QueueName } from '../data/queues.js'
import { deleteAgentSessions } from '../data/sessions.js'
import { hashPassword, passwordMinLength, verifyPassword } from './accounts.js'
import { changedFields, recordAdminChange } from './admin-log.js'
import { agentEmailMaxLength, agentNameMaxLength } from './admin/agents.js'
import { normalizeEmail } from './email-address.js'
import { notFound, TesseraError } from './errors.js'
import { hashToken } from './secrets.js'
import { signatureMaxLength } from './signatures.js'
import { sanitizeLine, sanitizeText } from './text.js'
import { isDateStyle, isTimeZone, type DateStyle } from './time-format.js'

/** Queue pages an agent may choose; the panel's own is 50. */
export const rowsPerPageRange = { min: 10, max: 200 } as const
export const defaultRowsPerPage = 50

/** What the preferences form sends, as typed. Empty strings mean "the desk's default" where one exists. */
export interface PreferencesInput {
  name: string
  email: string
  currentPassword: string
  newPassword: string
  confirmPassword: string
  signature: string
  defaultSignature: string
  defaultQueue: string
  rowsPerPage: string
  timeZone: string
  dateStyle: string
  awayUntil: string
}

export type PreferenceField = keyof PreferencesInput
export type PreferenceErrors = Partial<Record<PreferenceField, string>>

/** Bad input for one field of the preferences form: the message goes next to that field. */
export class PreferenceInputError extends TesseraError {
  constructor (readonly field: PreferenceField, message: string) {
    super('TESSERA_INVALID_INPUT', message)
  }
}

const emailShape = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

/** The offset of `zone` from UTC at the instant, in ms. */
function zoneOffset (ms: number, zone: string): number {
  const parts: Record<string, number> = {}
  for (const { type, value } of new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(ms)) {
    if (type !== 'literal') parts[type] = Number(value)
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) - Math.floor(ms / 1000) * 1000
}

/** The first instant of the day `date` (YYYY-MM-DD) in `zone`; undefined when there is no such day. */
export function startOfDay (date: string, zone: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  if (!match) return undefined
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const utc = Date.UTC(year, month - 1, day)
  const check = new Date(utc)
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined
  // Twice: the offset at local midnight may differ from the one at UTC midnight (a DST change between).
  const first = utc - zoneOffset(utc, zone)
  return utc - zoneOffset(first, zone)
}

/** The day (YYYY-MM-DD) the instant falls on in `zone`, for the form's date field. */
export function dayOf (ms: number, zone: string): string {
  return new Date(ms + zoneOffset(ms, zone)).toISOString().slice(0, 10)
}

/** What the agent may choose, checked; the password fields are checked by `updatePreferences`. */
export interface ParsedPreferences {
  name: string
  email: string
  signature: string | null
  defaultSignature: SignatureChoice
  defaultQueue: QueueName | null
  rowsPerPage: number | null
  timeZone: string | null
  dateStyle: DateStyle | null
  awayUntil: number | null
}

/**
 * The preferences the form describes, or a message per field. `deskZone` is where a date
 * ends when the agent chose no zone of their own; `now` makes a day already begun refused.
 */
export function parsePreferences (input: PreferencesInput, deskZone: string, now: number): { preferences?: ParsedPreferences, errors: PreferenceErrors } {
  const errors: PreferenceErrors = {}
  const name = sanitizeLine(input.name, input.name.length)
  if (name === '') errors.name = 'Enter your name.'
  else if ([...name].length > agentNameMaxLength) errors.name = `Name must be ${agentNameMaxLength} characters or fewer.`
  const email = normalizeEmail(input.email)
  if (email.length > agentEmailMaxLength) errors.email = `E-mail address must be ${agentEmailMaxLength} characters or fewer.`
  else if (!emailShape.test(email)) errors.email = 'Enter an e-mail address like name@example.com.'
  const signature = sanitizeText(input.signature, input.signature.length).trim()
  if ([...signature].length > signatureMaxLength) errors.signature = `Signature must be ${signatureMaxLength} characters or fewer.`
  const defaultSignature = signatureChoices.find((choice) => choice === input.defaultSignature)
  if (defaultSignature === undefined) errors.defaultSignature = 'Choose my signature, the department’s or none.'
  const defaultQueue = input.defaultQueue === '' ? null : queueNames.find((queue) => queue === input.defaultQueue)
  if (defaultQueue === undefined) errors.defaultQueue = 'Choose one of the queues listed.'
  const rowsText = input.rowsPerPage.trim()
  const rows = /^[0-9]{1,4}$/.test(rowsText) ? Number(rowsText) : NaN
  if (rowsText !== '' && !(rows >= rowsPerPageRange.min && rows <= rowsPerPageRange.max)) {
    errors.rowsPerPage = `Rows per page must be a whole number from ${rowsPerPageRange.min} to ${rowsPerPageRange.max}, or empty for ${defaultRowsPerPage}.`
  }
  const timeZone = input.timeZone === '' ? null : input.timeZone
  if (timeZone !== null && !isTimeZone(timeZone)) errors.timeZone = 'Choose a time zone from the list.'
  const dateStyle = input.dateStyle === '' ? null : input.dateStyle
  if (dateStyle !== null && !isDateStyle(dateStyle)) errors.dateStyle = 'Choose one of the date styles listed.'
  const awayText = input.awayUntil.trim()
  const awayUntil = awayText === '' ? null : startOfDay(awayText, timeZone !== null && isTimeZone(timeZone) ? timeZone : deskZone)
  if (awayUntil === undefined) errors.awayUntil = 'Enter the day you are back as a date, like 2026-12-24, or leave it empty.'
  else if (awayUntil !== null && awayUntil <= now) errors.awayUntil = 'The day you are back must be after today.'
  if (Object.keys(errors).length > 0) return { errors }
  return {
    errors,
    preferences: {
      name,
      email,
      signature: signature === '' ? null : signature,
      defaultSignature: defaultSignature!,
      defaultQueue: defaultQueue!,
      rowsPerPage: rowsText === '' ? null : rows,
      timeZone,
      dateStyle: dateStyle as DateStyle | null,
      awayUntil: awayUntil!
    }
  }
}

/** The row's values in the form's terms, for the admin log and for showing the form. */
function asLogged (row: AgentSettingsRow): Record<string, unknown> {
  return {
    name: row.name,
    email: row.email,
    signature: row.signature,
    defaultSignature: row.default_signature ?? 'mine',
    defaultQueue: row.default_queue,
    rowsPerPage: row.rows_per_page === null ? null : Number(row.rows_per_page),
    timeZone: row.time_zone,
    dateStyle: row.date_style,
    awayUntil: row.away_until === null ? null : Number(row.away_until)
  }
}

export type Preferences = ReturnType<typeof createPreferences>

/**
 * An agent's own settings (the preferences page). A change runs in one transaction and is
 * recorded in the admin log under "Agent preferences" (the agent is the one who made it); a
 * new password is logged as changed, never as a value.
 */
export function createPreferences (db: Knex, options: { now?: () => number, deskZone: () => Promise<string> }) {
  const now = options.now ?? Date.now

  async function current (agentId: number): Promise<AgentSettingsRow> {
    const row = await findAgentSettings(db, agentId)
    if (!row) throw notFound('That agent')
    return row
  }

  return {
    current,

    /** The form's values for the agent as stored. */
    async formValues (agentId: number): Promise<PreferencesInput> {
      const row = await current(agentId)
      const zone = row.time_zone !== null && isTimeZone(row.time_zone) ? row.time_zone : await options.deskZone()
      const away = row.away_until === null || Number(row.away_until) <= now() ? '' : dayOf(Number(row.away_until), zone)
      return {
        name: row.name,
        email: row.email,
        currentPassword: '',
        newPassword: '',
        confirmPassword: '',
        signature: row.signature ?? '',
        defaultSignature: row.default_signature ?? 'mine',
        defaultQueue: row.default_queue ?? '',
        rowsPerPage: row.rows_per_page === null ? '' : String(row.rows_per_page),
        timeZone: row.time_zone ?? '',
        dateStyle: row.date_style ?? '',
        awayUntil: away
      }
    },

    /**
     * Saves the form; throws PreferenceInputError for the field at fault. A new password
     * ends every other session of the agent (a stolen session must not outlive the password
     * it was taken with); `sessionId` is the one making the change, which stays signed in.
     */
    async update (agent: AgentAccess, input: PreferencesInput, sessionId?: string): Promise<{ changed: boolean, otherSessionsEnded: number }> {
      const at = now()
      const { preferences, errors } = parsePreferences(input, await options.deskZone(), at)
      if (!preferences) {
        const [field, message] = Object.entries(errors)[0] as [PreferenceField, string]
        throw new PreferenceInputError(field, message)
      }
      const wantsPassword = input.newPassword !== '' || input.confirmPassword !== ''
      if (wantsPassword && input.newPassword.length < passwordMinLength) throw new PreferenceInputError('newPassword', `Choose a password of at least ${passwordMinLength} characters.`)
      if (wantsPassword && input.confirmPassword !== input.newPassword) throw new PreferenceInputError('confirmPassword', 'The two passwords are not the same.')
      const row = await current(agent.id)
      const emailChanged = preferences.email !== row.email
      if ((emailChanged || wantsPassword) && !await verifyPassword(input.currentPassword, row.password_hash)) {
        throw new PreferenceInputError('currentPassword', input.currentPassword === ''
          ? 'Enter your current password to change your e-mail address or password.'
          : 'That is not your current password.')
      }
      const passwordHash = wantsPassword ? await hashPassword(input.newPassword) : undefined
      try {
        return await db.transaction(async (trx) => {
          const before = await findAgentSettings(trx, agent.id)
          if (!before) throw notFound('That agent')
          if (emailChanged) {
            const holder = await findAgentByEmail(trx, preferences.email)
            if (holder && holder.id !== agent.id) throw new PreferenceInputError('email', 'Another agent already has that e-mail address.')
          }
          const patch: AgentSettingsPatch = {
            name: preferences.name,
            email: preferences.email,
            signature: preferences.signature,
            default_signature: preferences.defaultSignature,
            default_queue: preferences.defaultQueue,
            rows_per_page: preferences.rowsPerPage,
            time_zone: preferences.timeZone,
            date_style: preferences.dateStyle,
            away_until: preferences.awayUntil
          }
          const change = changedFields(asLogged(before), { ...preferences })
          const logged = passwordHash === undefined
            ? change
            : { before: { ...change?.before, password: 'unchanged' }, after: { ...change?.after, password: 'changed' } }
          if (!logged) return { changed: false, otherSessionsEnded: 0 }
          await updateAgentSettings(trx, agent.id, passwordHash === undefined ? patch : { ...patch, password_hash: passwordHash })
          await recordAdminChange(trx, agent, { subject: 'preferences', subjectId: agent.id, action: 'changed', ...logged }, at)
          const otherSessionsEnded = passwordHash === undefined ? 0 : await deleteAgentSessions(trx, agent.id, sessionId === undefined ? undefined : hashToken(sessionId))
          return { changed: true, otherSessionsEnded }
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new PreferenceInputError('email', 'Another agent already has that e-mail address.')
        throw err
      }
    }
  }
}
