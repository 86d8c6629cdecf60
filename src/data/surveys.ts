import { insertedId, type Db } from './database.js'

export type SurveyRating = 'great' | 'okay' | 'not_good'

export interface SurveyRow {
  id: number
  ticket_id: number
  department_id: number
  agent_id: number | null
  team_id: number | null
  closed_at: number
  /** Set while the invitation waits for the delay after closing; null once sent (or sent at once). */
  invite_due_at: number | null
  invited_at: number | null
  rating: SurveyRating | null
  comment: string | null
  /** The first rating; the window to change it counts from here. */
  rated_at: number | null
  changed_at: number | null
  created_at: number
}

const columns = ['id', 'ticket_id', 'department_id', 'agent_id', 'team_id', 'closed_at', 'invite_due_at', 'invited_at',
  'rating', 'comment', 'rated_at', 'changed_at', 'created_at'] as const satisfies ReadonlyArray<keyof SurveyRow>

const numeric = ['id', 'ticket_id', 'department_id', 'agent_id', 'team_id', 'closed_at', 'invite_due_at', 'invited_at', 'rated_at', 'changed_at', 'created_at'] as const

// PostgreSQL hands bigint columns back as strings; the rows are numbers everywhere else.
function toSurvey (row: SurveyRow | undefined): SurveyRow | undefined {
  if (!row) return undefined
  for (const column of numeric) {
    const value = row[column] as unknown
    if (value !== null && value !== undefined) Object.assign(row, { [column]: Number(value) })
  }
  return row
}

/** What `joinedSurveyColumns` selects, by the names the columns come out under. */
export const joinedSurveyNames: readonly string[] = columns.map((column) => `survey_${column}`)

/** A ticket's survey columns for a query that joins satisfaction_surveys as `alias`, named `survey_<column>`. */
export function joinedSurveyColumns (alias: string): string[] {
  return columns.map((column) => `${alias}.${column} as survey_${column}`)
}

/**
 * The survey of a row that joined it (see joinedSurveyColumns), if it has one. The row keeps
 * its survey columns: deleting them would turn it into a slow dictionary for every page
 * that reads it afterwards.
 */
export function joinedSurvey (row: Record<string, unknown>): SurveyRow | undefined {
  if (row.survey_id === null || row.survey_id === undefined) return undefined
  const survey: Record<string, unknown> = {}
  for (let i = 0; i < columns.length; i++) survey[columns[i]!] = row[joinedSurveyNames[i]!]
  return toSurvey(survey as unknown as SurveyRow)
}

export async function findSurveyByTicket (db: Db, ticketId: number): Promise<SurveyRow | undefined> {
  return toSurvey(await db<SurveyRow>('satisfaction_surveys').where({ ticket_id: ticketId }).first())
}

export async function findSurveyByTokenHash (db: Db, tokenHash: string): Promise<SurveyRow | undefined> {
  return toSurvey(await db('satisfaction_surveys as s')
    .join('survey_tokens as st', 'st.survey_id', 's.id')
    .where('st.token_hash', tokenHash)
    .first('s.*') as SurveyRow | undefined)
}

export async function insertSurvey (db: Db, survey: Omit<SurveyRow, 'id' | 'rating' | 'comment' | 'rated_at' | 'changed_at'>): Promise<number> {
  const [row] = await db('satisfaction_surveys').insert(survey).returning('id')
  return insertedId(row)
}

export async function updateSurvey (db: Db, id: number, patch: Partial<SurveyRow>): Promise<void> {
  await db('satisfaction_surveys').where({ id }).update(patch)
}

/** Applies `patch` only while the survey still holds `unchanged`; false when another request came first. */
export async function updateSurveyIf (db: Db, id: number, unchanged: Partial<SurveyRow>, patch: Partial<SurveyRow>): Promise<boolean> {
  return await db('satisfaction_surveys').where({ id }).andWhere(unchanged).update(patch) > 0
}

export async function insertSurveyToken (db: Db, surveyId: number, tokenHash: string, at: number): Promise<void> {
  await db('survey_tokens').insert({ survey_id: surveyId, token_hash: tokenHash, created_at: at })
}

/** Surveys whose invitation is due by `at`, oldest first (read by index on invite_due_at). */
export async function listDueInvitations (db: Db, at: number, limit: number): Promise<SurveyRow[]> {
  const rows: SurveyRow[] = await db('satisfaction_surveys').where('invite_due_at', '<=', at).orderBy('invite_due_at').limit(limit)
  return rows.map((row) => toSurvey(row)!)
}

export interface RatingCounts {
  department_id: number
  agent_id: number | null
  team_id: number | null
  great: number
  okay: number
  not_good: number
}

/**
 * Ratings counted per department, agent and team of the closure, in one grouped query over
 * the scores index; `departmentIds` null for every department.
 */
export async function countRatings (db: Db, departmentIds: readonly number[] | null): Promise<RatingCounts[]> {
  const query = db('satisfaction_surveys')
    .whereNotNull('rating')
    .groupBy('department_id', 'agent_id', 'team_id')
    .select('department_id', 'agent_id', 'team_id')
    .select(db.raw('sum(case when rating = ? then 1 else 0 end) as great', ['great']))
    .select(db.raw('sum(case when rating = ? then 1 else 0 end) as okay', ['okay']))
    .select(db.raw('sum(case when rating = ? then 1 else 0 end) as not_good', ['not_good']))
  if (departmentIds !== null) void query.whereIn('department_id', departmentIds)
  const rows: RatingCounts[] = await query
  return rows.map((row) => ({
    department_id: Number(row.department_id),
    agent_id: row.agent_id === null ? null : Number(row.agent_id),
    team_id: row.team_id === null ? null : Number(row.team_id),
    great: Number(row.great),
    okay: Number(row.okay),
    not_good: Number(row.not_good)
  }))
}
