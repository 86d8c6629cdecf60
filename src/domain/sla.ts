import type { Knex } from 'knex'
import { mapList, transactionRetryingDeadlocks, type Db, type ListRead } from '../data/database.js'
import {
  findPlanWithSchedule, topicAndDepartmentPlansList, findTicketSla, listSlaChecksDue, updateTicketSla, updateTicketSlaIf,
  type SlaOutcome, type SlaPlanWithSchedule, type TicketSla, type TicketSlaPatch
} from '../data/sla.js'
import { type TicketRow, type TicketStatus } from '../data/tickets.js'
import { addBusinessMinutes, businessMinutesBetween, type Schedule, type Window } from './business-hours.js'
import { noticeSlaBreach, noticeSlaWarning } from './notices.js'
import { recordEvent, systemActor } from './ticket-events.js'

/*
 * SLA clocks on tickets. A ticket keeps the plan it started with (its topic's, else its
 * department's) and two targets, first response and resolution, each with a due time, an
 * 80 % warning instant and an outcome set when it happened: at the first agent reply or the
 * resolution (met or breached), or by the pass when the due time goes by (breached).
 * Pending pauses both clocks; back to open, the business minutes that were left count on
 * from then. A reopen after resolution restarts the resolution clock only.
 * Every change is a `sla` event by Tessera; `after_state.change` says which.
 */

export type SlaTarget = 'first_response' | 'resolution'
export const slaTargets: readonly SlaTarget[] = ['first_response', 'resolution']

/** The share of a target after which the people working the ticket are warned. */
export const warnShare = 0.8

export type SlaChange = 'started' | 'paused' | 'resumed' | 'restarted' | 'warned' | SlaOutcome

export interface SlaEvent { change: SlaChange, target?: SlaTarget, [key: string]: unknown }

/** Schedules read back, by their stored columns: the same columns give the same object, whose local days business-hours.ts keeps. */
const schedules = new Map<string, Schedule>()
const keptSchedulesAtMost = 100

/** A stored schedule, read back; null columns (no schedule) are around the clock. */
export function scheduleOf (row: Pick<SlaPlanWithSchedule, 'time_zone' | 'windows' | 'holidays'>): Schedule | null {
  if (row.time_zone === null || row.windows === null) return null
  const key = JSON.stringify([row.time_zone, row.windows, row.holidays])
  const known = schedules.get(key)
  if (known !== undefined) return known
  const windows = JSON.parse(row.windows) as Record<string, Window[]>
  const holidays = JSON.parse(row.holidays ?? '[]') as Array<{ date: string }>
  const schedule: Schedule = { timeZone: row.time_zone, windows, holidays: new Set(holidays.map((h) => h.date)) }
  if (schedules.size >= keptSchedulesAtMost) schedules.clear()
  schedules.set(key, schedule)
  return schedule
}

function targetMinutes (plan: SlaPlanWithSchedule, target: SlaTarget): number {
  return (target === 'first_response' ? plan.first_response_hours : plan.resolution_hours) * 60
}

function startTarget (plan: SlaPlanWithSchedule, schedule: Schedule | null, target: SlaTarget, at: number): TicketSlaPatch {
  const minutes = targetMinutes(plan, target)
  return {
    [`${target}_due_at`]: addBusinessMinutes(schedule, at, minutes),
    [`${target}_warn_at`]: addBusinessMinutes(schedule, at, minutes * warnShare),
    [`${target}_outcome`]: null
  }
}

/** Whether the target is still to be done (its due time matters for queues). */
function outstanding (clock: TicketSla, target: SlaTarget): boolean {
  if (clock[`${target}_due_at`] === null || (clock.status !== 'open' && clock.status !== 'pending')) return false
  return target === 'resolution' || clock.first_response_at === null
}

/** The queue's due time and the pass's next look, from the targets as they now stand. */
function derived (clock: TicketSla): Pick<TicketSla, 'sla_due_at' | 'sla_check_at'> {
  const dues: number[] = []
  const checks: number[] = []
  for (const target of slaTargets) {
    const due = clock[`${target}_due_at`]
    if (due === null) continue
    if (outstanding(clock, target)) dues.push(due)
    if (clock[`${target}_outcome`] === null) {
      checks.push(due)
      const warn = clock[`${target}_warn_at`]
      if (warn !== null) checks.push(warn)
    }
  }
  return { sla_due_at: dues.length > 0 ? Math.min(...dues) : null, sla_check_at: checks.length > 0 ? Math.min(...checks) : null }
}

async function recordSla (trx: Db, ticketId: number, event: SlaEvent, at: number): Promise<void> {
  await recordEvent(trx, ticketId, systemActor, 'sla', null, event, at)
}

/** Writes what changed, with the derived columns, and records the events. */
async function save (trx: Db, before: TicketSla, after: TicketSla, events: SlaEvent[], at: number): Promise<void> {
  const next = { ...after, ...derived(after) }
  const patch: Record<string, unknown> = {}
  for (const key of Object.keys(next) as Array<keyof TicketSla>) if (next[key] !== before[key]) patch[key] = next[key]
  if (Object.keys(patch).length > 0) await updateTicketSla(trx, before.id, patch as TicketSlaPatch)
  for (const event of events) await recordSla(trx, before.id, event, at)
}

/** The plan each new ticket starts under: its topic's, else its department's; for tickets opened together, one list read with others. */
export function newTicketPlansList (db: Db, tickets: ReadonlyArray<Pick<TicketRow, 'help_topic_id' | 'department_id'>>): ListRead<Array<SlaPlanWithSchedule | undefined>> {
  const plans = topicAndDepartmentPlansList(db, tickets.flatMap((ticket) => ticket.help_topic_id ?? []), tickets.map((ticket) => ticket.department_id))
  return mapList(plans, (found) => tickets.map((ticket) => found.get(`topic:${ticket.help_topic_id ?? ''}`) ?? found.get(`department:${ticket.department_id}`)))
}

/**
 * The clocks of a new (open, unanswered) ticket under `plan`: the columns its row starts
 * with, and the `sla` event that records the start.
 */
export function startClocks (plan: SlaPlanWithSchedule, at: number): { columns: TicketSlaPatch, event: SlaEvent } {
  const schedule = scheduleOf(plan)
  const targets: TicketSlaPatch = { sla_plan_id: plan.id, sla_paused_at: null, ...startTarget(plan, schedule, 'first_response', at), ...startTarget(plan, schedule, 'resolution', at) }
  const clock = { status: 'open', first_response_at: null, ...targets } as TicketSla
  return {
    columns: { ...targets, ...derived(clock) },
    event: { change: 'started', plan: plan.name, first_response_due_at: clock.first_response_due_at, resolution_due_at: clock.resolution_due_at }
  }
}

/**
 * Moves the unfinished targets of a paused clock on by the pause: what was left of each
 * (in business minutes) counts from `at`. A target already past due stays where it was.
 */
function resume (clock: TicketSla, schedule: Schedule | null, at: number): { clock: TicketSla, event: SlaEvent } {
  const pausedAt = clock.sla_paused_at ?? at
  const moved: TicketSla = { ...clock, sla_paused_at: null }
  const shift = (instant: number | null): number | null =>
    instant === null || instant <= pausedAt ? instant : addBusinessMinutes(schedule, at, businessMinutesBetween(schedule, pausedAt, instant))
  for (const target of slaTargets) {
    if (clock[`${target}_outcome`] !== null) continue
    moved[`${target}_due_at`] = shift(clock[`${target}_due_at`])
    moved[`${target}_warn_at`] = shift(clock[`${target}_warn_at`])
  }
  return {
    clock: moved,
    event: { change: 'resumed', paused_minutes: Math.round(businessMinutesBetween(schedule, pausedAt, at)), first_response_due_at: moved.first_response_due_at, resolution_due_at: moved.resolution_due_at }
  }
}

function judge (clock: TicketSla, target: SlaTarget, at: number): { clock: TicketSla, event?: SlaEvent } {
  const due = clock[`${target}_due_at`]
  if (due === null || clock[`${target}_outcome`] !== null) return { clock }
  const outcome: SlaOutcome = at <= due ? 'met' : 'breached'
  return { clock: { ...clock, [`${target}_outcome`]: outcome, [`${target}_warn_at`]: null }, event: { change: outcome, target, due_at: due } }
}

async function planOf (trx: Db, clock: TicketSla): Promise<{ plan?: SlaPlanWithSchedule, schedule: Schedule | null }> {
  const plan = clock.sla_plan_id === null ? undefined : await findPlanWithSchedule(trx, clock.sla_plan_id)
  return { plan, schedule: plan ? scheduleOf(plan) : null }
}

/**
 * The ticket's status changed from `from` to `to` (called by the lifecycle in the same
 * transaction): pending pauses, leaving pending resumes, resolving or closing judges the
 * resolution target, and reopening a resolved or closed ticket restarts it.
 */
export async function slaStatusChanged (trx: Db, ticketId: number, from: TicketStatus, to: TicketStatus, at: number): Promise<void> {
  const before = await findTicketSla(trx, ticketId)
  if (!before || before.sla_plan_id === null) return
  const { plan, schedule } = await planOf(trx, before)
  let clock: TicketSla = { ...before, status: to }
  const events: SlaEvent[] = []
  if (from === 'pending' && clock.sla_paused_at !== null) {
    const resumed = resume(clock, schedule, at)
    clock = resumed.clock
    events.push(resumed.event)
  }
  if (to === 'pending' && clock.sla_paused_at === null) {
    clock.sla_paused_at = at
    events.push({ change: 'paused' })
  }
  if ((to === 'resolved' || to === 'closed') && (from === 'open' || from === 'pending')) {
    const judged = judge(clock, 'resolution', at)
    clock = judged.clock
    if (judged.event) events.push(judged.event)
  }
  if (to === 'open' && (from === 'resolved' || from === 'closed') && plan) {
    clock = { ...clock, ...startTarget(plan, schedule, 'resolution', at) }
    events.push({ change: 'restarted', target: 'resolution', resolution_due_at: clock.resolution_due_at })
  }
  await save(trx, before, clock, events, at)
}

/** The first agent reply: the first-response target is met or breached now. */
export async function slaFirstResponse (trx: Db, ticketId: number, at: number): Promise<void> {
  const before = await findTicketSla(trx, ticketId)
  if (!before || before.first_response_due_at === null || before.first_response_outcome !== null) return
  const clock: TicketSla = { ...before, first_response_at: at }
  // Answered while pending: judged against the due time the pause has moved so far.
  if (clock.sla_paused_at !== null) {
    const { schedule } = await planOf(trx, clock)
    const moved = resume(clock, schedule, at).clock
    clock.first_response_due_at = moved.first_response_due_at
  }
  const judged = judge(clock, 'first_response', at)
  // The stored due time of a paused clock moves only when it resumes.
  const after = { ...judged.clock, first_response_due_at: before.first_response_due_at }
  await save(trx, { ...before, first_response_at: at }, after, judged.event ? [judged.event] : [], at)
}

/**
 * One look at the open tickets whose clock needs it: a target at 80 % warns, a target past
 * due is breached; each notice goes once. Safe to run twice and from several instances at
 * once: each ticket's change is conditional on the check the pass read, so one instance
 * wins and the others change and send nothing. Returns how many tickets it changed.
 */
export async function slaPass (db: Knex, now: number, limit = 200): Promise<number> {
  let changed = 0
  for (const row of await listSlaChecksDue(db, now, limit)) {
    if (row.sla_check_at === null) continue
    const checkAt = row.sla_check_at
    let clock: TicketSla = { ...row }
    const happened: Array<{ target: SlaTarget, change: 'warned' | 'breached', dueAt: number }> = []
    for (const target of slaTargets) {
      const due = clock[`${target}_due_at`]
      const warn = clock[`${target}_warn_at`]
      if (due === null || clock[`${target}_outcome`] !== null) continue
      if (due <= now) {
        clock = { ...clock, [`${target}_outcome`]: 'breached', [`${target}_warn_at`]: null }
        happened.push({ target, change: 'breached', dueAt: due })
      } else if (warn !== null && warn <= now) {
        clock = { ...clock, [`${target}_warn_at`]: null }
        happened.push({ target, change: 'warned', dueAt: due })
      }
    }
    const next = { ...clock, ...derived(clock) }
    const patch: Record<string, unknown> = {}
    for (const key of Object.keys(next) as Array<keyof TicketSla>) if (next[key] !== row[key]) patch[key] = next[key]
    if (Object.keys(patch).length === 0) continue
    const won = await transactionRetryingDeadlocks(db, async (trx) => {
      if (!await updateTicketSlaIf(trx, row.id, checkAt, patch as TicketSlaPatch)) return false
      for (const { target, change, dueAt } of happened) {
        await recordSla(trx, row.id, { change, target, due_at: dueAt }, now)
        if (change === 'warned') await noticeSlaWarning(trx, row, target, dueAt, now)
        else await noticeSlaBreach(trx, row, target, dueAt, now)
      }
      return true
    })
    if (won) changed++
  }
  return changed
}
