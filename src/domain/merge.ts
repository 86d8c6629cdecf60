import type { Db } from '../data/database.js'
import { findTicketById, type TicketRow } from '../data/tickets.js'
import { TesseraError } from './errors.js'
import { refusedBecauseMerged, type StaffAction } from './permissions.js'

// Merges keep chains flat (see repointMerges), so one hop is the norm; the bound only
// protects against a loop left in older data.
const maxHops = 10

/**
 * Where a ticket's replies go: the ticket it was merged into, followed to the end, or the
 * ticket itself when it was never merged.
 */
export async function mergeDestination (db: Db, ticket: TicketRow): Promise<TicketRow> {
  let current = ticket
  const seen = new Set([ticket.id])
  for (let hop = 0; hop < maxHops && current.merged_into_id !== null && !seen.has(current.merged_into_id); hop++) {
    const next = await findTicketById(db, current.merged_into_id)
    if (!next) break
    seen.add(next.id)
    current = next
  }
  return current
}

/**
 * A merge must leave every thread with one home: never into itself, never a ticket that
 * is already merged, never into one that was itself merged elsewhere (which is also what
 * refuses a loop: A into B, then B into A).
 */
export function assertMergeable (source: TicketRow, target: TicketRow, targetDestination: TicketRow): void {
  const refuse = (message: string): never => { throw new TesseraError('TESSERA_INVALID_INPUT', message) }
  if (source.id === target.id) refuse('A ticket cannot be merged into itself.')
  if (source.merged_into_id !== null) refuse(`Ticket ${source.number} is already merged into another ticket.`)
  if (target.merged_into_id !== null) {
    if (targetDestination.id === source.id) refuse(`Ticket ${target.number} was merged into this one; merging back would make a loop.`)
    refuse(`Ticket ${target.number} was itself merged into ticket ${targetDestination.number}; merge into ${targetDestination.number} instead.`)
  }
  if (target.status === 'closed') throw new TesseraError('TESSERA_TRANSITION_REFUSED', 'A closed ticket cannot receive a merge; reopen it first.')
}

/** A merged ticket stays merged: see `refusedBecauseMerged` for what that rules out. */
export function assertNotMerged (action: StaffAction, ticket: Pick<TicketRow, 'number' | 'merged_into_id'>): void {
  if (refusedBecauseMerged(action, ticket)) {
    throw new TesseraError('TESSERA_TRANSITION_REFUSED', `Ticket ${ticket.number} was merged into another ticket; work on that one instead.`)
  }
}

/**
 * Merging one person's ticket into another person's never shows either of them the
 * other's conversation: the moved entries stay visible to staff only.
 */
export function mergeCrossesRequesters (source: Pick<TicketRow, 'requester_id'>, target: Pick<TicketRow, 'requester_id'>): boolean {
  return source.requester_id !== target.requester_id
}
