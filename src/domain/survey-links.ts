import type { Db } from '../data/database.js'
import type { OutboxRow } from '../data/outbox.js'
import { findSurveyByTicket, insertSurveyToken } from '../data/surveys.js'
import { newAccessToken } from './secrets.js'

/**
 * The survey token a mail asking "How did we do?" carries, minted as the mail is composed,
 * like the private links: only its hash is stored, the raw token exists only in the mail.
 * Undefined for mail without a survey (payload.survey) or a ticket without one any more.
 */
export async function mintSurveyToken (db: Db, row: Pick<OutboxRow, 'ticket_id' | 'payload'>, at: number): Promise<string | undefined> {
  if (row.ticket_id === null || (JSON.parse(row.payload) as { survey?: unknown }).survey !== true) return undefined
  const survey = await findSurveyByTicket(db, row.ticket_id)
  if (!survey) return undefined
  const { token, hash } = newAccessToken()
  await insertSurveyToken(db, survey.id, hash, at)
  return token
}
