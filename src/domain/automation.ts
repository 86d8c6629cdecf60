import type { Knex } from 'knex'
import { markReminded } from '../data/automation.js'
import { transactionRetryingDeadlocks } from '../data/database.js'
import { findRequester } from '../data/requesters.js'
import { findTicketById } from '../data/tickets.js'
import { noticePendingReminder } from './notices.js'
import { recordEvent, systemActor } from './ticket-events.js'

export const dayMs = 86_400_000

/**
 * Reminds the client of a pending ticket quiet for `days`: marks it reminded, records the
 * event and queues the notice in one transaction, and only while it still needs a reminder,
 * so a second run, or another instance at the same moment, sends nothing more.
 */
export async function remindClient (db: Knex, ticketId: number, days: number, at: number): Promise<boolean> {
  return await transactionRetryingDeadlocks(db, async (trx) => {
    if (!await markReminded(trx, ticketId, at - days * dayMs, at)) return false
    const ticket = await findTicketById(trx, ticketId)
    const requester = ticket && await findRequester(trx, ticket.requester_id)
    if (!ticket || !requester) return false
    await recordEvent(trx, ticket.id, systemActor, 'client_reminded', null, { days }, at)
    await noticePendingReminder(trx, ticket, requester, days, at)
    return true
  })
}
