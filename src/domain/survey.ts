import type { Knex } from 'knex'
import { transactionRetryingDeadlocks, type Db } from '../data/database.js'
import { findRequester } from '../data/requesters.js'
import { readSettings } from '../data/settings.js'
import {
  countRatings, findSurveyByTicket, findSurveyByTokenHash, insertSurvey, listDueInvitations, updateSurvey, updateSurveyIf,
  type RatingCounts, type SurveyRating, type SurveyRow
} from '../data/surveys.js'
import { findTicketById, type TicketRow } from '../data/tickets.js'
import type { AgentAccess } from '../data/agents.js'
import { deskNumberRanges, deskSettingKeys } from './desk-settings.js'
import { notFound, TesseraError } from './errors.js'
import { noticeSurveyInvitation, noticeSurveyNotGood } from './notices.js'
import type { Actor } from './permissions.js'
import { hashToken } from './secrets.js'
import { recordEvent } from './ticket-events.js'

/*
 * The follow-up step: after a ticket closes, its requester is asked "How did we do?". The
 * survey row is created in the transaction that closes the ticket; the invitation goes with
 * the closed notice or, after a delay, by `surveyPass`. A rating is recorded only by a POST
 * from the survey page, and can be changed for seven days after the first one.
 */

export const surveyRatings: readonly SurveyRating[] = ['great', 'okay', 'not_good']
export const ratingLabels: Readonly<Record<SurveyRating, string>> = { great: 'Great', okay: 'Okay', not_good: 'Not good' }
export const surveyChangeDays = 7
export const surveyChangeMs = surveyChangeDays * 86400_000
export const surveyCommentLimit = 2000

export type { SurveyRating, SurveyRow } from '../data/surveys.js'

export function isRating (value: unknown): value is SurveyRating {
  return typeof value === 'string' && (surveyRatings as readonly string[]).includes(value)
}

/** Whether the rating may still be given or changed at `at`. */
export function surveyChangeable (survey: Pick<SurveyRow, 'rated_at'>, at: number): boolean {
  return survey.rated_at === null || at <= survey.rated_at + surveyChangeMs
}

/**
 * The two survey settings, read inside the closing transaction (on SQLite its connection is
 * the only one, so the cached desk settings cannot be awaited there).
 */
async function surveySettings (db: Db): Promise<{ enabled: boolean, delayMs: number }> {
  const stored = await readSettings(db, [deskSettingKeys.surveyEnabled, deskSettingKeys.surveyDelayHours])
  const hours = Number(stored.get(deskSettingKeys.surveyDelayHours) ?? 0)
  const { min, max } = deskNumberRanges.surveyDelayHours
  return {
    enabled: stored.get(deskSettingKeys.surveyEnabled) !== 'false',
    delayMs: Number.isInteger(hours) && hours >= min && hours <= max ? hours * 3600_000 : 0
  }
}

async function recordSurveyEvent (trx: Db, ticketId: number, actor: Actor, type: 'survey_sent' | 'survey_rated', before: unknown, after: unknown, at: number): Promise<void> {
  await recordEvent(trx, ticketId, actor, type, before, after, at)
}

interface Person { name: string, email: string }

/**
 * Called by the lifecycle inside the transaction that closes a ticket (by an agent, by the
 * client confirming, or by Tessera). Creates the ticket's survey, or schedules it again when
 * an earlier closure's invitation never went out. Answers whether the closed notice being
 * queued in the same transaction carries the survey; when the closure sends no notice
 * (`closedNotice` false) and there is no delay, the invitation is queued here.
 */
export async function startSurvey (trx: Db, ticket: TicketRow, at: number, options: { closedNotice: boolean, requester?: Person }): Promise<boolean> {
  if (ticket.merged_into_id !== null) return false
  const settings = await surveySettings(trx)
  if (!settings.enabled) return false
  const existing = await findSurveyByTicket(trx, ticket.id)
  // Already asked once: the rating stays changeable in its window; nobody is asked twice.
  if (existing?.invited_at != null) {
    await updateSurvey(trx, existing.id, { closed_at: at, department_id: ticket.department_id, agent_id: ticket.assignee_id, team_id: ticket.team_id })
    return false
  }
  const now = settings.delayMs === 0
  const fields = {
    department_id: ticket.department_id,
    agent_id: ticket.assignee_id,
    team_id: ticket.team_id,
    closed_at: at,
    invite_due_at: now ? null : at + settings.delayMs,
    invited_at: now ? at : null
  }
  if (existing) await updateSurvey(trx, existing.id, fields)
  else await insertSurvey(trx, { ticket_id: ticket.id, ...fields, created_at: at })
  if (!now) return false
  if (!options.closedNotice) {
    const requester = options.requester ?? await findRequester(trx, ticket.requester_id)
    if (requester) await noticeSurveyInvitation(trx, ticket, requester, at)
  }
  await recordSurveyEvent(trx, ticket.id, { kind: 'system' }, 'survey_sent', null, { via: options.closedNotice ? 'closed_notice' : 'invitation' }, at)
  return options.closedNotice
}

/**
 * Sends the invitations whose delay has passed. Idempotent and safe on several instances:
 * each survey is claimed by clearing its due time where it still holds what was read, so
 * one pass sends it and any other finds nothing. A ticket reopened meanwhile is not asked
 * (its next closure schedules the survey again). Returns how many were sent.
 */
export async function surveyPass (db: Knex, at: number, limit = 100): Promise<number> {
  let sent = 0
  for (const survey of await listDueInvitations(db, at, limit)) {
    const went = await transactionRetryingDeadlocks(db, async (trx) => {
      const ticket = await findTicketById(trx, survey.ticket_id)
      const ask = ticket !== undefined && ticket.status === 'closed' && ticket.deleted_at === null && ticket.merged_into_id === null
      if (!await updateSurveyIf(trx, survey.id, { invite_due_at: survey.invite_due_at }, { invite_due_at: null, invited_at: ask ? at : null })) return false
      if (!ask) return false
      const requester = await findRequester(trx, ticket.requester_id)
      if (!requester) return false
      await noticeSurveyInvitation(trx, ticket, requester, at)
      await recordSurveyEvent(trx, ticket.id, { kind: 'system' }, 'survey_sent', null, { via: 'invitation' }, at)
      return true
    })
    if (went) sent++
  }
  return sent
}

export interface RatingInput {
  rating: string
  comment: string
}

export interface RatingErrors { rating?: string, comment?: string }

/** The rating and comment the form describes, or a message per field. */
export function parseRating (input: RatingInput): { rating?: SurveyRating, comment: string, errors: RatingErrors } {
  const errors: RatingErrors = {}
  const comment = input.comment.trim().replace(/\r\n?/g, '\n')
  if (!isRating(input.rating)) errors.rating = 'Choose Great, Okay or Not good.'
  if ([...comment].length > surveyCommentLimit) errors.comment = `Your comment must be ${surveyCommentLimit} characters or fewer.`
  return { rating: errors.rating === undefined && isRating(input.rating) ? input.rating : undefined, comment, errors }
}

export interface SurveyScore {
  id: number | null
  great: number
  okay: number
  notGood: number
  total: number
  /** % Great minus % Not good, from -100 to 100. */
  score: number
}

function addUp (rows: readonly RatingCounts[], key: (row: RatingCounts) => number | null): SurveyScore[] {
  const byKey = new Map<number | null, SurveyScore>()
  for (const row of rows) {
    const id = key(row)
    const sum = byKey.get(id) ?? { id, great: 0, okay: 0, notGood: 0, total: 0, score: 0 }
    sum.great += row.great
    sum.okay += row.okay
    sum.notGood += row.not_good
    sum.total += row.great + row.okay + row.not_good
    byKey.set(id, sum)
  }
  const scores = [...byKey.values()]
  for (const s of scores) s.score = s.total === 0 ? 0 : Math.round((s.great - s.notGood) * 100 / s.total)
  return scores.sort((a, b) => b.score - a.score || b.total - a.total)
}

/** Departments whose scores this agent may read: all for administrators, those they manage otherwise. */
export function scoreDepartments (access: AgentAccess): number[] | null {
  if (access.isAdmin) return null
  return Object.entries(access.roles).filter(([, role]) => role === 'manager').map(([id]) => Number(id))
}

export function maySeeScores (access: AgentAccess): boolean {
  const departments = scoreDepartments(access)
  return departments === null || departments.length > 0
}

/** A survey counts once its requester has been asked; staff see it from then on too. */
export function surveyShownToStaff (survey: SurveyRow | undefined): SurveyRow | undefined {
  return survey?.invited_at == null ? undefined : survey
}

export function createSurveys (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now

  return {
    now,

    /** The survey a mailed link names; undefined for anything else (the token is checked by hash). */
    async findByToken (token: string): Promise<SurveyRow | undefined> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
      return await findSurveyByTokenHash(db, hashToken(token))
    },

    /** The ticket's survey once its requester has been asked; staff see it from then on too. */
    async findForTicket (ticketId: number): Promise<SurveyRow | undefined> {
      return surveyShownToStaff(await findSurveyByTicket(db, ticketId))
    },

    /**
     * The requester rates (or changes their rating) from the survey page. The same answer
     * again is a calm no-op; after the change window it is refused. A first "Not good" tells
     * the agent who had the ticket and the department's managers.
     */
    async rate (survey: SurveyRow, ticket: TicketRow, input: RatingInput): Promise<{ changed: boolean }> {
      if (survey.ticket_id !== ticket.id || survey.invited_at === null) throw notFound('That survey')
      const { rating, comment, errors } = parseRating(input)
      if (!rating) throw new TesseraError('TESSERA_INVALID_INPUT', errors.rating ?? errors.comment ?? 'Choose an answer.')
      if (errors.comment) throw new TesseraError('TESSERA_INVALID_INPUT', errors.comment)
      const at = now()
      if (!surveyChangeable(survey, at)) {
        throw new TesseraError('TESSERA_TRANSITION_REFUSED', `Your answer can be changed for ${surveyChangeDays} days after you first gave it; that time has passed. Thank you for it.`)
      }
      if (survey.rating === rating && (survey.comment ?? '') === comment) return { changed: false }
      await transactionRetryingDeadlocks(db, async (trx) => {
        const saved = await updateSurveyIf(trx, survey.id, { rating: survey.rating, changed_at: survey.changed_at },
          { rating, comment: comment === '' ? null : comment, rated_at: survey.rated_at ?? at, changed_at: at })
        if (!saved) throw new TesseraError('TESSERA_CONFLICT', 'Your answer was changed from another page a moment ago. Look at it again, then send yours.')
        const actor: Actor = { kind: 'requester', requesterId: ticket.requester_id }
        await recordSurveyEvent(trx, ticket.id, actor, 'survey_rated', survey.rating === null ? null : { rating: survey.rating }, { rating, comment: comment === '' ? null : comment }, at)
        if (rating === 'not_good' && survey.rating !== 'not_good') await noticeSurveyNotGood(trx, ticket, survey.agent_id ?? ticket.assignee_id, comment, at)
      })
      return { changed: true }
    },

    /** Scores per department, agent and team of the closures, within what this agent may read. */
    async scores (access: AgentAccess): Promise<{ departments: SurveyScore[], agents: SurveyScore[], teams: SurveyScore[] }> {
      const rows = await countRatings(db, scoreDepartments(access))
      return {
        departments: addUp(rows, (row) => row.department_id),
        agents: addUp(rows, (row) => row.agent_id),
        teams: addUp(rows.filter((row) => row.team_id !== null), (row) => row.team_id)
      }
    }
  }
}

export type Surveys = ReturnType<typeof createSurveys>
