import type { AgentAccess } from '../data/agents.js'
import { insertAdminEvent } from '../data/admin-log.js'
import type { Db } from '../data/database.js'

/**
 * What an administrator can change, with the name the log page shows for it. Every admin
 * verb records its change here, in the same transaction as the change itself, so nothing an
 * administrator does is silent and nothing is logged that did not happen.
 */
export const adminSubjects = {
  department: 'Departments',
  help_topic: 'Help topics',
  team: 'Teams',
  agent: 'Agents',
  canned_response: 'Canned responses',
  notice: 'Notices',
  setting: 'Settings',
  api_key: 'API keys',
  outbox: 'Outbox',
  requester: 'Requesters',
  sla_plan: 'SLA plans',
  sla_schedule: 'SLA schedules',
  preferences: 'Agent preferences',
  blocked_sender: 'Blocked senders',
  two_factor: 'Two-factor sign-in'
} as const

export type AdminSubject = keyof typeof adminSubjects

export function isAdminSubject (value: unknown): value is AdminSubject {
  return typeof value === 'string' && Object.hasOwn(adminSubjects, value)
}

export interface AdminChange {
  subject: AdminSubject
  /** The row changed; null for desk-wide things (a setting, a notice). */
  subjectId: number | null
  /** A verb in the past tense as data: created, renamed, archived, disabled, … */
  action: string
  /** Only the fields that changed, before and after; omitted for creations and removals. */
  before?: unknown
  after?: unknown
}

/** Records one admin change; call it inside the transaction that makes the change. */
export async function recordAdminChange (trx: Db, admin: Pick<AgentAccess, 'id'> | null, change: AdminChange, at: number): Promise<void> {
  await insertAdminEvent(trx, {
    agentId: admin?.id ?? null,
    subjectType: change.subject,
    subjectId: change.subjectId,
    action: change.action,
    before: change.before,
    after: change.after
  }, at)
}

/** The fields of `after` whose values differ from `before`, as a before/after pair for the log. */
export function changedFields<T extends Record<string, unknown>> (before: T, after: Partial<T>): { before: Partial<T>, after: Partial<T> } | undefined {
  const was: Partial<T> = {}
  const now: Partial<T> = {}
  for (const key of Object.keys(after) as Array<keyof T>) {
    if (after[key] === undefined || after[key] === before[key]) continue
    was[key] = before[key]
    now[key] = after[key]
  }
  return Object.keys(now).length === 0 ? undefined : { before: was, after: now }
}
