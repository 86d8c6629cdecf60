import type { Knex } from 'knex'
import type { Config } from '../config.js'
import type { AgentAccess } from '../data/agents.js'
import type { Db } from '../data/database.js'
import { putSetting, readSettings } from '../data/settings.js'
import { changedFields, recordAdminChange } from './admin-log.js'
import { TesseraError } from './errors.js'
import { automationDefaults, automationErrors, automationLabels, automationRanges } from './automation-settings.js'
import { isTimeZone } from './time-format.js'

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
  /** Automation (src/domain/automation.ts): days before each step, 0 for never. */
  autoCloseDays: number
  reminderDays: number
  autoResolveDays: number
  /** Whether a closed ticket's requester is asked how we did. */
  surveyEnabled: boolean
  /** Hours after closing before the survey goes out; 0 sends it with the closed notice. */
  surveyDelayHours: number
  /** The IANA time zone clients, mail and agents without one of their own read times in. */
  timeZone: string
  /** Attachments: largest file and largest total (MB), most files, of one message. */
  attachmentFileMb: number
  attachmentMessageMb: number
  attachmentFiles: number
}

/** What the server allows (ATTACHMENT_FILE_MB, ATTACHMENT_MESSAGE_MB, ATTACHMENT_FILES): an administrator may only lower it. */
export interface AttachmentCeilings {
  fileBytes: number
  messageBytes: number
  files: number
}

/** The attachment limits in force, in bytes. */
export interface AttachmentLimits {
  fileBytes: number
  messageBytes: number
  files: number
}

const mebibyte = 1024 * 1024

export function attachmentCeilings (config: Pick<Config, 'attachmentFileBytes' | 'attachmentMessageBytes' | 'attachmentFiles'>): AttachmentCeilings {
  return { fileBytes: config.attachmentFileBytes, messageBytes: config.attachmentMessageBytes, files: config.attachmentFiles }
}

/** The whole megabytes a setting may go up to (at least 1; a fractional ceiling still caps the bytes). */
function wholeMb (bytes: number): number {
  return Math.max(1, Math.floor(bytes / mebibyte))
}

/** The limits a desk's settings give, never above the server's. */
export function attachmentLimitsOf (settings: Pick<DeskSettings, 'attachmentFileMb' | 'attachmentMessageMb' | 'attachmentFiles'>, ceilings: AttachmentCeilings): AttachmentLimits {
  return {
    fileBytes: Math.min(settings.attachmentFileMb * mebibyte, ceilings.fileBytes),
    messageBytes: Math.min(settings.attachmentMessageMb * mebibyte, ceilings.messageBytes),
    files: Math.min(settings.attachmentFiles, ceilings.files)
  }
}

/** The desk's name until an administrator gives it one. */
export const defaultDeskName = 'Tessera Help Desk'

/** What the settings are before an administrator changes them: the environment's values. */
export function deskDefaults (config: Pick<Config, 'reopenWindowMs' | 'ticketRateLimit' | 'attachmentFileBytes' | 'attachmentMessageBytes' | 'attachmentFiles'>): DeskSettings {
  return {
    name: defaultDeskName,
    intro: '',
    siteUrl: '',
    reopenDays: Math.round(config.reopenWindowMs / 86400_000),
    ticketsPerHour: config.ticketRateLimit,
    // What the sign-in form allowed before it was a setting.
    signInsPer15Minutes: 30,
    ...automationDefaults,
    surveyEnabled: true,
    surveyDelayHours: 0,
    timeZone: 'UTC',
    attachmentFileMb: wholeMb(config.attachmentFileBytes),
    attachmentMessageMb: wholeMb(config.attachmentMessageBytes),
    attachmentFiles: config.attachmentFiles
  }
}

/** The `settings` key of each; the first-run checklist looks for `desk.name`. */
export const deskSettingKeys: Readonly<Record<keyof DeskSettings, string>> = {
  name: 'desk.name',
  intro: 'desk.intro',
  siteUrl: 'desk.site_url',
  reopenDays: 'desk.reopen_days',
  ticketsPerHour: 'limits.ticket_creation_per_hour',
  signInsPer15Minutes: 'limits.sign_in_per_15min',
  autoCloseDays: 'automation.auto_close_days',
  reminderDays: 'automation.reminder_days',
  autoResolveDays: 'automation.auto_resolve_days',
  surveyEnabled: 'survey.enabled',
  surveyDelayHours: 'survey.delay_hours',
  timeZone: 'desk.time_zone',
  attachmentFileMb: 'attachments.file_mb',
  attachmentMessageMb: 'attachments.message_mb',
  attachmentFiles: 'attachments.files'
}

export const deskTextLimits = { name: 120, intro: 1000, siteUrl: 500 } as const

/** Inclusive ranges: a window of zero days never reopens; limits of zero would lock everyone out. */
export const deskNumberRanges = {
  reopenDays: { min: 0, max: 365 },
  ticketsPerHour: { min: 1, max: 10_000 },
  signInsPer15Minutes: { min: 1, max: 10_000 },
  ...automationRanges,
  surveyDelayHours: { min: 0, max: 720 }
} as const

/** Every number's range: the fixed ones, and the attachment limits up to the server's. */
export function deskRanges (ceilings: AttachmentCeilings) {
  return {
    ...deskNumberRanges,
    attachmentFileMb: { min: 1, max: wholeMb(ceilings.fileBytes) },
    attachmentMessageMb: { min: 1, max: wholeMb(ceilings.messageBytes) },
    attachmentFiles: { min: 1, max: ceilings.files }
  }
}

export type DeskRanges = ReturnType<typeof deskRanges>

export type DeskSettingsInput = Record<keyof DeskSettings, string>
export type DeskSettingErrors = Partial<Record<keyof DeskSettings, string>>

const labels: Record<keyof DeskSettings, string> = {
  name: 'Desk name',
  intro: 'Portal introduction',
  siteUrl: 'Your website',
  reopenDays: 'Reopen window',
  ticketsPerHour: 'Tickets per hour',
  signInsPer15Minutes: 'Sign-ins per 15 minutes',
  ...automationLabels,
  surveyEnabled: 'Satisfaction survey',
  surveyDelayHours: 'Survey delay',
  timeZone: 'Time zone',
  attachmentFileMb: 'Largest file',
  attachmentMessageMb: 'Largest total',
  attachmentFiles: 'Most files'
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
export function parseDeskSettings (input: DeskSettingsInput, ranges: DeskRanges): { settings?: DeskSettings, errors: DeskSettingErrors } {
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
  const numbers: Partial<Record<keyof DeskRanges, number>> = {}
  for (const field of Object.keys(ranges) as Array<keyof DeskRanges>) {
    const { min, max } = ranges[field]
    const text = input[field].trim()
    const value = /^[0-9]{1,6}$/.test(text) ? Number(text) : NaN
    if (!(value >= min && value <= max)) errors[field] = `${labels[field]} must be a whole number from ${min} to ${max}.`
    else numbers[field] = value
  }
  Object.assign(errors, automationErrors(numbers, errors))
  if (input.surveyEnabled !== 'true' && input.surveyEnabled !== 'false') errors.surveyEnabled = 'Choose whether the survey is sent.'
  const timeZone = input.timeZone.trim()
  if (!isTimeZone(timeZone)) errors.timeZone = 'Choose a time zone from the list.'
  if (Object.keys(errors).length > 0) return { errors }
  return {
    errors,
    settings: {
      name,
      intro,
      siteUrl,
      reopenDays: numbers.reopenDays!,
      ticketsPerHour: numbers.ticketsPerHour!,
      signInsPer15Minutes: numbers.signInsPer15Minutes!,
      autoCloseDays: numbers.autoCloseDays!,
      reminderDays: numbers.reminderDays!,
      autoResolveDays: numbers.autoResolveDays!,
      surveyEnabled: input.surveyEnabled === 'true',
      surveyDelayHours: numbers.surveyDelayHours!,
      timeZone,
      attachmentFileMb: numbers.attachmentFileMb!,
      attachmentMessageMb: numbers.attachmentMessageMb!,
      attachmentFiles: numbers.attachmentFiles!
    }
  }
}

export interface DeskSettingsOptions {
  /** What applies while nothing is stored: the environment's values and the built-in ones. */
  defaults: DeskSettings
  /** The server's attachment limits, which the desk's may not exceed. */
  ceilings: AttachmentCeilings
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
  const ranges = deskRanges(options.ceilings)
  let cached: { at: number, value: Promise<DeskSettings>, reloading: boolean } | undefined
  // Bumped by forget(), so a reload that started before a change never installs what it read.
  let generation = 0
  let last: DeskSettings | undefined
  let lastJson = ''

  async function load (): Promise<DeskSettings> {
    const stored = await readSettings(db, keys)
    const loaded = fromStored(stored, options.defaults, ranges)
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
    ranges,
    ceilings: options.ceilings,
    /** The attachment limits in force, for forms and for mail in. */
    attachmentLimits: async (): Promise<AttachmentLimits> => attachmentLimitsOf(await current(), options.ceilings),

    /**
     * Saves what the settings form holds (every key, so the desk is named once the form has
     * been saved) and logs the fields that changed; invalid input changes nothing.
     */
    async update (admin: AgentAccess, input: DeskSettingsInput): Promise<{ changed: boolean }> {
      const { settings, errors } = parseDeskSettings(input, ranges)
      if (!settings) throw new TesseraError('TESSERA_INVALID_INPUT', Object.values(errors)[0] ?? 'Those settings are not valid.')
      const changed = await db.transaction(async (trx) => {
        const before = fromStored(await readSettings(trx, keys), options.defaults, ranges)
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

function fromStored (stored: Map<string, string>, defaults: DeskSettings, ranges: DeskRanges): DeskSettings {
  const text = (field: 'name' | 'intro' | 'siteUrl'): string => stored.get(deskSettingKeys[field]) ?? defaults[field]
  const number = (field: keyof DeskRanges): number => {
    const value = Number(stored.get(deskSettingKeys[field]))
    // A stored attachment limit above a ceiling lowered since falls back to the default (the ceiling).
    const { min, max } = ranges[field]
    // A value written by hand outside the range is ignored rather than trusted.
    return stored.has(deskSettingKeys[field]) && Number.isInteger(value) && value >= min && value <= max ? value : defaults[field]
  }
  return {
    name: text('name') || defaults.name,
    intro: text('intro'),
    siteUrl: isWebAddress(text('siteUrl')) ? text('siteUrl') : '',
    reopenDays: number('reopenDays'),
    ticketsPerHour: number('ticketsPerHour'),
    signInsPer15Minutes: number('signInsPer15Minutes'),
    autoCloseDays: number('autoCloseDays'),
    reminderDays: number('reminderDays'),
    autoResolveDays: number('autoResolveDays'),
    surveyEnabled: stored.get(deskSettingKeys.surveyEnabled) !== 'false',
    surveyDelayHours: number('surveyDelayHours'),
    timeZone: isTimeZone(stored.get(deskSettingKeys.timeZone)) ? stored.get(deskSettingKeys.timeZone)! : defaults.timeZone,
    attachmentFileMb: number('attachmentFileMb'),
    attachmentMessageMb: number('attachmentMessageMb'),
    attachmentFiles: number('attachmentFiles')
  }
}
