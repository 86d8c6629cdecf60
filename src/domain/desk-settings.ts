import type { Knex } from 'knex'
import type { Config } from '../config.js'
import type { AgentAccess } from '../data/agents.js'
import type { Db } from '../data/database.js'
import { putSetting, readSettings } from '../data/settings.js'
import { changedFields, recordAdminChange } from './admin-log.js'
import { TesseraError } from './errors.js'

/** How the desk presents itself and the limits it keeps, as an administrator set them. */
export interface DeskSettings {
  name: string
  /** A few sentences on the portal home; may be empty. */
  intro: string
  /** The desk's own website, linked from the portal; may be empty. */
  siteUrl: string
  /** Days after closing during which a requester's reply reopens the ticket. */
  reopenDays: number
  /** Tickets one address may open per hour on the portal. */
  ticketsPerHour: number
  /** Sign-in attempts one address may make per 15 minutes. */
  signInsPer15Minutes: number
}

/** The desk's name until an administrator gives it one. */
export const defaultDeskName = 'Tessera Help Desk'

/** What the settings are before an administrator changes them: the environment's values. */
export function deskDefaults (config: Pick<Config, 'reopenWindowMs' | 'ticketRateLimit'>): DeskSettings {
  return {
    name: defaultDeskName,
    intro: '',
    siteUrl: '',
    reopenDays: Math.round(config.reopenWindowMs / 86400_000),
    ticketsPerHour: config.ticketRateLimit,
    // What the sign-in form allowed before it was a setting.
    signInsPer15Minutes: 30
  }
}

/** The `settings` key of each; the first-run checklist looks for `desk.name`. */
export const deskSettingKeys: Readonly<Record<keyof DeskSettings, string>> = {
  name: 'desk.name',
  intro: 'desk.intro',
  siteUrl: 'desk.site_url',
  reopenDays: 'desk.reopen_days',
  ticketsPerHour: 'limits.ticket_creation_per_hour',
  signInsPer15Minutes: 'limits.sign_in_per_15min'
}

export const deskTextLimits = { name: 120, intro: 1000, siteUrl: 500 } as const

/** Inclusive ranges: a window of zero days never reopens; limits of zero would lock everyone out. */
export const deskNumberRanges = {
  reopenDays: { min: 0, max: 365 },
  ticketsPerHour: { min: 1, max: 10_000 },
  signInsPer15Minutes: { min: 1, max: 10_000 }
} as const

export type DeskSettingsInput = Record<keyof DeskSettings, string>
export type DeskSettingErrors = Partial<Record<keyof DeskSettings, string>>

const labels: Record<keyof DeskSettings, string> = {
  name: 'Desk name',
  intro: 'Portal introduction',
  siteUrl: 'Your website',
  reopenDays: 'Reopen window',
  ticketsPerHour: 'Tickets per hour',
  signInsPer15Minutes: 'Sign-ins per 15 minutes'
}

function isWebAddress (value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

/** The settings the form describes, or a message per field that is not acceptable. */
export function parseDeskSettings (input: DeskSettingsInput): { settings?: DeskSettings, errors: DeskSettingErrors } {
  const errors: DeskSettingErrors = {}
  const name = input.name.trim()
  const intro = input.intro.trim().replace(/\r\n?/g, '\n')
  const siteUrl = input.siteUrl.trim()
  if (name === '') errors.name = 'Enter a name for the desk.'
  else if ([...name].length > deskTextLimits.name) errors.name = `${labels.name} must be ${deskTextLimits.name} characters or fewer.`
  if ([...intro].length > deskTextLimits.intro) errors.intro = `${labels.intro} must be ${deskTextLimits.intro} characters or fewer.`
  if (siteUrl !== '' && ([...siteUrl].length > deskTextLimits.siteUrl || !isWebAddress(siteUrl))) {
    errors.siteUrl = 'Enter a web address starting with https:// or http://, or leave it empty.'
  }
  const numbers: Partial<Record<keyof typeof deskNumberRanges, number>> = {}
  for (const field of Object.keys(deskNumberRanges) as Array<keyof typeof deskNumberRanges>) {
    const { min, max } = deskNumberRanges[field]
    const text = input[field].trim()
    const value = /^[0-9]{1,6}$/.test(text) ? Number(text) : NaN
    if (!(value >= min && value <= max)) errors[field] = `${labels[field]} must be a whole number from ${min} to ${max}.`
    else numbers[field] = value
  }
  if (Object.keys(errors).length > 0) return { errors }
  return {
    errors,
    settings: {
      name,
      intro,
      siteUrl,
      reopenDays: numbers.reopenDays!,
      ticketsPerHour: numbers.ticketsPerHour!,
      signInsPer15Minutes: numbers.signInsPer15Minutes!
    }
  }
}

export interface DeskSettingsOptions {
  /** What applies while nothing is stored: the environment's values and the built-in ones. */
  defaults: DeskSettings
  /** How stale another instance's change may be here; this instance's own show at once. */
  ttlMs?: number
  now?: () => number
}

/**
 * The desk settings, read in one query and kept for a few seconds: the portal and every
 * staff page need them, so most requests read none. The same object comes back until a
 * value changes, so pages rendered from it can be kept until then.
 */
export function createDeskSettings (db: Knex, options: DeskSettingsOptions) {
  const ttlMs = options.ttlMs ?? 5_000
  const now = options.now ?? Date.now
  const keys = Object.values(deskSettingKeys)
  let cached: { at: number, value: Promise<DeskSettings>, reloading: boolean } | undefined
  // Bumped by forget(), so a reload that started before a change never installs what it read.
  let generation = 0
  let last: DeskSettings | undefined
  let lastJson = ''

  async function load (): Promise<DeskSettings> {
    const stored = await readSettings(db, keys)
    const loaded = fromStored(stored, options.defaults)
    const json = JSON.stringify(loaded)
    if (last === undefined || json !== lastJson) {
      last = loaded
      lastJson = json
    }
    return last
  }

  function forget (): void {
    cached = undefined
    generation++
  }

  /**
   * Only the first read (and the first after a change here) waits for the database; later,
   * an expired copy is served while one reload runs, so a busy pool never holds a page up.
   */
  async function current (): Promise<DeskSettings> {
    const at = Date.now()
    const entry = cached
    if (entry === undefined) {
      const value = load()
      const fresh = { at, value, reloading: false }
      cached = fresh
      value.catch(() => { if (cached === fresh) cached = undefined })
      return await value
    }
    if (at - entry.at >= ttlMs && !entry.reloading) {
      entry.reloading = true
      const started = generation
      load().then(
        (value) => { if (generation === started) cached = { at: Date.now(), value: Promise.resolve(value), reloading: false } },
        // A failed reload keeps the old copy; the next request tries again.
        () => { entry.reloading = false }
      )
    }
    return await entry.value
  }

  return {
    current,
    forget,
    /** The settings as last read, without asking the database (for error pages). */
    latest: (): DeskSettings => last ?? options.defaults,
    defaults: options.defaults,

    /**
     * Saves what the settings form holds (every key, so the desk is named once the form has
     * been saved) and logs the fields that changed; invalid input changes nothing.
     */
    async update (admin: AgentAccess, input: DeskSettingsInput): Promise<{ changed: boolean }> {
      const { settings, errors } = parseDeskSettings(input)
      if (!settings) throw new TesseraError('TESSERA_INVALID_INPUT', Object.values(errors)[0] ?? 'Those settings are not valid.')
      const changed = await db.transaction(async (trx) => {
        const before = fromStored(await readSettings(trx, keys), options.defaults)
        await writeAll(trx, settings)
        const change = changedFields({ ...before }, { ...settings })
        if (change) await recordAdminChange(trx, admin, { subject: 'setting', subjectId: null, action: 'changed', ...change }, now())
        return change !== undefined
      })
      forget()
      return { changed }
    }
  }
}

export type DeskSettingsStore = ReturnType<typeof createDeskSettings>

async function writeAll (trx: Db, settings: DeskSettings): Promise<void> {
  for (const field of Object.keys(deskSettingKeys) as Array<keyof DeskSettings>) {
    await putSetting(trx, deskSettingKeys[field], String(settings[field]))
  }
}

function fromStored (stored: Map<string, string>, defaults: DeskSettings): DeskSettings {
  const text = (field: 'name' | 'intro' | 'siteUrl'): string => stored.get(deskSettingKeys[field]) ?? defaults[field]
  const number = (field: keyof typeof deskNumberRanges): number => {
    const value = Number(stored.get(deskSettingKeys[field]))
    const { min, max } = deskNumberRanges[field]
    // A value written by hand outside the range is ignored rather than trusted.
    return stored.has(deskSettingKeys[field]) && Number.isInteger(value) && value >= min && value <= max ? value : defaults[field]
  }
  return {
    name: text('name') || defaults.name,
    intro: text('intro'),
    siteUrl: isWebAddress(text('siteUrl')) ? text('siteUrl') : '',
    reopenDays: number('reopenDays'),
    ticketsPerHour: number('ticketsPerHour'),
    signInsPer15Minutes: number('signInsPer15Minutes')
  }
}
