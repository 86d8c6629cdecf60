import type { Db } from '../data/database.js'
import {
  addToReportDays, firstResponseBuckets, resolutionBuckets, type ReportChange, type ReportCounts, type ReportKey
} from '../data/reports.js'
import { findPlanWithSchedule } from '../data/sla.js'
import { findSurveyByTicket, type SurveyRating } from '../data/surveys.js'
import { findTicketById, type EventType, type TicketRow, type TicketStatus } from '../data/tickets.js'
import { businessMinutesBetween } from './business-hours.js'
import type { TicketEvent } from './ticket-events.js'
import { scheduleOf } from './sla.js'

/*
 * The daily report counters, kept in the transaction of the change that moves them. The
 * one home of the rule is here, called by recordEvent: every change to a ticket records an
 * event, so no verb can change a ticket without the counters following, and a report page
 * never reads the tickets table. Each count lands on the UTC day of the event and on the
 * ticket's placement (department, team, agent, help topic) at that moment:
 * - created: a new ticket (placed where its opening put it: routing or the opener's choice
 *   made in the same instant count as where it arrived);
 * - resolved: open or pending to resolved or closed, with the time since the ticket was
 *   created; reopened: resolved or closed back to open;
 * - backlog: +1 when a ticket becomes open or pending (created, reopened, restored from the
 *   trash), −1 when it stops (resolved, closed, merged, deleted); a change of placement
 *   moves an open ticket's 1 from the old placement to the new one;
 * - first_responses: the first agent reply, with the time since the ticket was created;
 * - sla_*: each SLA target judged met or breached (src/domain/sla.ts);
 * - survey_*: a rating, on the day it was first given and where the ticket was when it
 *   closed (as the satisfaction page counts it); a changed rating moves there.
 * Durations count business minutes when the ticket's SLA plan has a schedule, otherwise
 * wall-clock minutes, into fixed buckets (below) from which percentiles are estimated.
 */

const dayMs = 86_400_000

/** The UTC day of an instant, as whole days since 1970-01-01. */
export function utcDay (at: number): number {
  return Math.floor(at / dayMs)
}

/**
 * Upper edges (exclusive), in minutes, of the duration buckets; the last bucket holds 90
 * days and more. Each bucket is at most a third wider than its lower edge from 4 minutes to
 * 7 days, and at most half wider beyond, so an estimate read from a bucket is that close.
 */
export const bucketEdges: readonly number[] = [
  1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 75, 90, 120, 150, 180, 240, 300, 360, 480, 600, 720,
  960, 1200, 1440, 1920, 2400, 2880, 3600, 4320, 5760, 7200, 8640, 10080, 14400, 20160, 28800, 40320, 60480, 86400, 129600
]

export function bucketOf (minutes: number): number {
  const index = bucketEdges.findIndex((edge) => minutes < edge)
  return index === -1 ? bucketEdges.length : index
}

const inBacklog = (status: TicketStatus): boolean => status === 'open' || status === 'pending'

export function keyOf (ticket: Pick<TicketRow, 'department_id' | 'team_id' | 'assignee_id' | 'help_topic_id'>): ReportKey {
  return { department_id: ticket.department_id, team_id: ticket.team_id ?? 0, agent_id: ticket.assignee_id ?? 0, topic_id: ticket.help_topic_id ?? 0 }
}

function sameKey (a: ReportKey, b: ReportKey): boolean {
  return a.department_id === b.department_id && a.team_id === b.team_id && a.agent_id === b.agent_id && a.topic_id === b.topic_id
}

/** Minutes from the ticket's creation to `at`, in its SLA plan's business hours if it has a schedule. */
async function minutesSinceCreated (trx: Db, ticket: TicketRow & { sla_plan_id?: number | null }, at: number): Promise<number> {
  const plan = ticket.sla_plan_id == null ? undefined : await findPlanWithSchedule(trx, ticket.sla_plan_id)
  return businessMinutesBetween(plan ? scheduleOf(plan) : null, ticket.created_at, at)
}

function stateOf (value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? value as Record<string, unknown> : {}
}

const ratingColumn: Readonly<Record<SurveyRating, string>> = { great: 'survey_great', okay: 'survey_okay', not_good: 'survey_not_good' }

/** The counters these events move, added to the days' rows in the same transaction (one statement). */
export async function countEvents (trx: Db, events: ReadonlyArray<Omit<TicketEvent, 'actor'>>): Promise<void> {
  const changes: ReportChange[] = []
  for (const { ticketId, type, before, after, at, ticketNow } of events) {
    if (!counted.has(type)) continue
    // Only an agent's first reply counts; the verb says which one that is (see addResponse).
    if (type === 'replied' && stateOf(after).first_response !== true) continue
    const ticket = (ticketNow ?? await findTicketById(trx, ticketId)) as (TicketRow & { sla_plan_id?: number | null }) | undefined
    if (ticket) changes.push(...await changesFor(trx, ticket, type, stateOf(before), stateOf(after), at))
  }
  if (changes.length > 0) await addToReportDays(trx, changes)
}

async function changesFor (trx: Db, ticket: TicketRow & { sla_plan_id?: number | null }, type: EventType, was: Record<string, unknown>, now: Record<string, unknown>, at: number): Promise<ReportChange[]> {
  const day = utcDay(at)
  const key = keyOf(ticket)
  const here = (counts: ReportCounts): ReportChange[] => [{ day, key, counts }]
  switch (type) {
    case 'created':
      return here({ created: 1, backlog: 1 })
    case 'assigned': case 'claimed': case 'released': case 'transferred': {
      const old = keyOf({ ...ticket, ...was } as TicketRow)
      if (sameKey(old, key)) return []
      const arriving = ticket.created_at === at ? 1 : 0
      const open = inBacklog(ticket.status) && ticket.deleted_at === null ? 1 : 0
      return [{ day, key: old, counts: { created: -arriving, backlog: -open } }, { day, key, counts: { created: arriving, backlog: open } }]
    }
    case 'status_changed': {
      const from = was.status as TicketStatus
      const to = now.status as TicketStatus
      if (inBacklog(from) && !inBacklog(to)) {
        const bucket = resolutionBuckets[bucketOf(await minutesSinceCreated(trx, ticket, at))]!
        return here({ resolved: 1, backlog: -1, [bucket]: 1 })
      }
      return !inBacklog(from) && inBacklog(to) ? here({ reopened: 1, backlog: 1 }) : []
    }
    case 'merged':
      return inBacklog(was.status as TicketStatus) ? here({ backlog: -1 }) : []
    case 'deleted': case 'restored':
      return inBacklog(ticket.status) ? here({ backlog: type === 'deleted' ? -1 : 1 }) : []
    case 'replied': {
      const bucket = firstResponseBuckets[bucketOf(await minutesSinceCreated(trx, ticket, at))]!
      return here({ first_responses: 1, [bucket]: 1 })
    }
    case 'sla': {
      const target = now.target === 'first_response' ? 'fr' : now.target === 'resolution' ? 'rt' : null
      if (target === null || (now.change !== 'met' && now.change !== 'breached')) return []
      return here({ [`sla_${target}_${now.change}`]: 1 })
    }
    case 'survey_rated': {
      const survey = await findSurveyByTicket(trx, ticket.id)
      const rating = now.rating as SurveyRating
      if (!survey || !(rating in ratingColumn)) return []
      const counts: ReportCounts = { [ratingColumn[rating]]: 1 }
      const previous = was.rating as SurveyRating | undefined
      if (previous !== undefined && previous in ratingColumn) counts[ratingColumn[previous]] = (counts[ratingColumn[previous]] ?? 0) - 1
      const where = { department_id: survey.department_id, team_id: survey.team_id ?? 0, agent_id: survey.agent_id ?? 0, topic_id: key.topic_id }
      return [{ day: utcDay(survey.rated_at ?? at), key: where, counts }]
    }
    default:
      return []
  }
}

const counted: ReadonlySet<EventType> = new Set<EventType>([
  'created', 'assigned', 'claimed', 'released', 'transferred', 'status_changed', 'merged', 'deleted', 'restored', 'replied', 'sla', 'survey_rated'
])
