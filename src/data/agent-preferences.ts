import type { Db } from './database.js'

/** Which signature a reply carries unless the agent picks another. */
export const signatureChoices = ['mine', 'department', 'none'] as const
export type SignatureChoice = typeof signatureChoices[number]

/** What an agent chose for themselves; null means the desk's default. */
export interface AgentPreferences {
  timeZone: string | null
  dateStyle: string | null
  rowsPerPage: number | null
  defaultQueue: string | null
  defaultSignature: SignatureChoice | null
  /** Until when the agent is away (epoch ms): no new assignments, no notices. */
  awayUntil: number | null
}

/** The columns loadAgentAccess reads along with who the agent is (every staff request needs them). */
export const preferenceColumns = ['a.time_zone', 'a.date_style', 'a.rows_per_page', 'a.default_queue', 'a.default_signature', 'a.away_until'] as const

export interface PreferenceColumns {
  time_zone: string | null
  date_style: string | null
  rows_per_page: number | string | null
  default_queue: string | null
  default_signature: string | null
  away_until: number | string | null
}

export function toPreferences (row: PreferenceColumns): AgentPreferences {
  const choice = signatureChoices.find((c) => c === row.default_signature)
  return {
    timeZone: row.time_zone,
    dateStyle: row.date_style,
    rowsPerPage: row.rows_per_page === null ? null : Number(row.rows_per_page),
    defaultQueue: row.default_queue,
    defaultSignature: choice ?? null,
    awayUntil: row.away_until === null ? null : Number(row.away_until)
  }
}

/** Everything the preferences page shows and edits, with the agent's name, address and signature. */
export interface AgentSettingsRow extends PreferenceColumns {
  id: number
  name: string
  email: string
  password_hash: string | null
  signature: string | null
}

export async function findAgentSettings (db: Db, agentId: number): Promise<AgentSettingsRow | undefined> {
  return await db('agents as a').where('a.id', agentId).andWhere('a.active', true)
    .first('a.id', 'a.name', 'a.email', 'a.password_hash', 'a.signature', ...preferenceColumns)
}

export type AgentSettingsPatch = Partial<Pick<AgentSettingsRow, 'name' | 'email' | 'password_hash' | 'signature' | 'time_zone' | 'date_style' | 'default_queue' | 'default_signature'>> &
{ rows_per_page?: number | null, away_until?: number | null }

export async function updateAgentSettings (db: Db, agentId: number, patch: AgentSettingsPatch): Promise<void> {
  if (Object.keys(patch).length > 0) await db('agents').where({ id: agentId }).update(patch)
}
