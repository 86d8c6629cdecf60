import type { Db } from '../data/database.js'
import { findTicketView, listAccessTokenHashes, type TicketView } from '../data/tickets.js'
import { tokenMatchesAny } from './secrets.js'

export const ticketNumberPattern = /^[0-9]{6,12}$/

/**
 * The only way a requester reaches a ticket: its number plus a private-link token that
 * matches one of the ticket's stored hashes. Anything else is simply not found.
 */
export async function findTicketForToken (db: Db, number: string, token: string | undefined): Promise<TicketView | undefined> {
  if (!token || !ticketNumberPattern.test(number)) return undefined
  const ticket = await findTicketView(db, number)
  if (!ticket) return undefined
  return tokenMatchesAny(token, await listAccessTokenHashes(db, ticket.id)) ? ticket : undefined
}
