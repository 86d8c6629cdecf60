import type { Knex } from 'knex'
import type { AgentAccess } from '../../data/agents.js'
import { isUniqueViolation, type Db } from '../../data/database.js'
import {
  findPlan, findPlanByName, findSchedule, findScheduleByName, insertPlan, insertSchedule, listPlanChoices, setPlanOf,
  updatePlan, updateSchedule, type PlanFields, type ScheduleFields
} from '../../data/sla.js'
import { changedFields, recordAdminChange } from '../admin-log.js'
import { hasHours, isTimeZone, type Window } from '../business-hours.js'
import { notFound } from '../errors.js'
import { FieldInputError, nameMaxLength } from './catalog.js'

/** ISO weekdays with the form field that holds each one's hours. */
export const weekdays = [
  { day: 1, field: 'monday', label: 'Monday' },
  { day: 2, field: 'tuesday', label: 'Tuesday' },
  { day: 3, field: 'wednesday', label: 'Wednesday' },
  { day: 4, field: 'thursday', label: 'Thursday' },
  { day: 5, field: 'friday', label: 'Friday' },
  { day: 6, field: 'saturday', label: 'Saturday' },
  { day: 7, field: 'sunday', label: 'Sunday' }
] as const

export type WeekdayField = typeof weekdays[number]['field']

export interface PlanInput { name: string, firstResponseHours: string, resolutionHours: string, scheduleId: number | null }
export interface ScheduleInput { name: string, timeZone: string, hours: Record<WeekdayField, string>, holidays: string }

/** A year's worth of hours is plenty for any target; more is a typo. */
const maxTargetHours = 8760
const maxHolidays = 200

function cleanName (value: string, what: string): string {
  const name = value.trim()
  if (name === '') throw new FieldInputError('name', `Enter a name for the ${what}.`)
  if ([...name].length > nameMaxLength) throw new FieldInputError('name', `The name must be ${nameMaxLength} characters or fewer.`)
  return name
}

function cleanHours (field: string, value: string): number {
  const text = value.trim()
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > maxTargetHours) {
    throw new FieldInputError(field, `Enter a whole number of hours from 1 to ${maxTargetHours}, like 8.`)
  }
  return Number(text)
}

function minutesOf (text: string): number | undefined {
  const match = /^([0-9]{1,2}):([0-9]{2})$/.exec(text.trim())
  if (!match) return undefined
  const hours = Number(match[1])
  const minutes = Number(match[2])
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) return undefined
  return hours * 60 + minutes
}

/** "09:00-12:00, 13:00-17:00" → minute windows; empty is a day without hours. */
export function parseWindows (field: string, label: string, value: string): Window[] {
  const text = value.trim()
  if (text === '') return []
  const windows: Window[] = []
  for (const part of text.split(',')) {
    const [from = '', to = '', extra] = part.split(/[-–]/)
    const start = minutesOf(from)
    const end = minutesOf(to)
    if (extra !== undefined || start === undefined || end === undefined || end <= start) {
      throw new FieldInputError(field, `${label}: write the hours like 09:00-17:00, several separated by commas, or leave it empty for a day off.`)
    }
    windows.push([start, end])
  }
  windows.sort((a, b) => a[0] - b[0])
  for (let i = 1; i < windows.length; i++) {
    if (windows[i]![0] < windows[i - 1]![1]) throw new FieldInputError(field, `${label}: the hours overlap.`)
  }
  return windows
}

export function formatWindows (windows: readonly Window[] | undefined): string {
  const time = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`
  return (windows ?? []).map(([start, end]) => `${time(start)}-${time(end)}`).join(', ')
}

/** One holiday a line: "2026-12-25 Christmas" (the name is optional). */
export function parseHolidays (value: string): Array<{ date: string, name: string }> {
  const holidays: Array<{ date: string, name: string }> = []
  for (const line of value.split(/\r?\n/)) {
    if (line.trim() === '') continue
    const match = /^\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*(.*)$/.exec(line)
    const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined
    if (!match || !date || date.getUTCMonth() !== Number(match[2]) - 1 || date.getUTCDate() !== Number(match[3])) {
      throw new FieldInputError('holidays', `“${line.trim().slice(0, 40)}” is not a date; write one holiday a line, like 2026-12-25 Christmas.`)
    }
    holidays.push({ date: `${match[1]}-${match[2]}-${match[3]}`, name: (match[4] ?? '').trim().slice(0, 80) })
  }
  if (holidays.length > maxHolidays) throw new FieldInputError('holidays', `List at most ${maxHolidays} holidays.`)
  return holidays.sort((a, b) => a.date.localeCompare(b.date))
}

export function formatHolidays (stored: string): string {
  return (JSON.parse(stored) as Array<{ date: string, name: string }>).map((h) => `${h.date} ${h.name}`.trim()).join('\n')
}

/**
 * What an administrator does to SLA plans and schedules, and which plan a department or
 * help topic picks. Each verb runs in one transaction and records its change in the admin
 * log; a change that changes nothing records nothing. Tickets keep the plan they started
 * with: these verbs never touch tickets.
 */
export function createSlaAdmin (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now

  async function nameTaken<T> (what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (err) {
      if (isUniqueViolation(err)) throw new FieldInputError('name', `There is already a ${what} with that name.`)
      throw err
    }
  }

  async function planFields (trx: Db, input: PlanInput, id?: number): Promise<PlanFields> {
    const name = cleanName(input.name, 'plan')
    const existing = await findPlanByName(trx, name)
    if (existing && existing.id !== id) throw new FieldInputError('name', 'There is already a plan with that name.')
    if (input.scheduleId !== null && !await findSchedule(trx, input.scheduleId)) throw new FieldInputError('schedule', 'Choose one of the schedules listed.')
    return {
      name,
      first_response_hours: cleanHours('firstResponse', input.firstResponseHours),
      resolution_hours: cleanHours('resolution', input.resolutionHours),
      schedule_id: input.scheduleId
    }
  }

  async function scheduleFields (trx: Db, input: ScheduleInput, id?: number): Promise<ScheduleFields> {
    const name = cleanName(input.name, 'schedule')
    const existing = await findScheduleByName(trx, name)
    if (existing && existing.id !== id) throw new FieldInputError('name', 'There is already a schedule with that name.')
    const timeZone = input.timeZone.trim()
    if (!isTimeZone(timeZone)) throw new FieldInputError('timeZone', `“${timeZone.slice(0, 64)}” is not a time zone; write it like Europe/Berlin or America/New_York.`)
    const windows: Record<number, Window[]> = {}
    for (const { day, field, label } of weekdays) {
      const parsed = parseWindows(field, label, input.hours[field])
      if (parsed.length > 0) windows[day] = parsed
    }
    if (!hasHours({ timeZone, windows, holidays: new Set() })) throw new FieldInputError('monday', 'Give at least one day some hours, like 09:00-17:00.')
    return { name, time_zone: timeZone, windows: JSON.stringify(windows), holidays: JSON.stringify(parseHolidays(input.holidays)) }
  }

  /**
   * Creating and changing a plan or a schedule: one transaction, the name kept unique, a
   * change that changes nothing recorded nowhere, each recorded in the admin log.
   */
  function editor<Input, Fields extends Record<string, unknown>> (kind: 'plan' | 'schedule', parts: {
    fields: (trx: Db, input: Input, id?: number) => Promise<Fields>
    find: (trx: Db, id: number) => Promise<(Fields & { id: number, created_at: number }) | undefined>
    insert: (trx: Db, fields: Fields, at: number) => Promise<number>
    update: (trx: Db, id: number, fields: Partial<Fields>) => Promise<void>
  }) {
    const subject = kind === 'plan' ? 'sla_plan' : 'sla_schedule'
    return {
      async create (admin: AgentAccess, input: Input): Promise<number> {
        return await nameTaken(kind, async () => await db.transaction(async (trx) => {
          const fields = await parts.fields(trx, input)
          const at = now()
          const id = await parts.insert(trx, fields, at)
          await recordAdminChange(trx, admin, { subject, subjectId: id, action: 'created', after: fields }, at)
          return id
        }))
      },

      async change (admin: AgentAccess, id: number, input: Input): Promise<void> {
        await nameTaken(kind, async () => await db.transaction(async (trx) => {
          const current = await parts.find(trx, id)
          if (!current) throw notFound(kind === 'plan' ? 'That plan' : 'That schedule')
          const { id: _id, created_at: _created, ...state } = current
          const change = changedFields(state as unknown as Fields, await parts.fields(trx, input, id))
          if (!change) return
          await parts.update(trx, id, change.after)
          await recordAdminChange(trx, admin, { subject, subjectId: id, action: 'changed', ...change }, now())
        }))
      }
    }
  }

  const plans = editor('plan', { fields: planFields, find: findPlan, insert: insertPlan, update: updatePlan })
  const schedules = editor('schedule', { fields: scheduleFields, find: findSchedule, insert: insertSchedule, update: updateSchedule })

  return {
    createPlan: plans.create,
    changePlan: plans.change,
    createSchedule: schedules.create,
    changeSchedule: schedules.change,

    /**
     * The plan new tickets of a department or help topic start with (null: none; a topic
     * without one falls back to its department's).
     */
    async choosePlan (admin: AgentAccess, target: { kind: 'department' | 'help_topic', id: number }, planId: number | null): Promise<void> {
      await db.transaction(async (trx) => {
        const choices = await listPlanChoices(trx)
        const current = (target.kind === 'department' ? choices.departments : choices.topics).find((row) => row.id === target.id)
        if (!current) throw new FieldInputError('target', 'Choose one of the departments or help topics listed.')
        if (planId !== null && !await findPlan(trx, planId)) throw new FieldInputError('plan', 'Choose one of the plans listed.')
        if (current.sla_plan_id === planId) return
        await setPlanOf(trx, target.kind === 'department' ? 'departments' : 'help_topics', [target.id], planId)
        await recordAdminChange(trx, admin, { subject: target.kind, subjectId: target.id, action: 'sla_plan_chosen', before: { sla_plan_id: current.sla_plan_id }, after: { sla_plan_id: planId } }, now())
      })
    }
  }
}
