import type { Knex } from 'knex'
import { isUniqueViolation, transactionRetryingDeadlocks, type Db } from '../data/database.js'
import { deleteTicketLink, insertTicketLink, ticketsLinked } from '../data/ticket-links.js'
import { type TicketRow } from '../data/tickets.js'
import { TesseraError } from './errors.js'
import { assertRole, type AgentActor } from './permissions.js'
import { recordEvent } from './ticket-events.js'

type Linkable = Pick<TicketRow, 'id' | 'number' | 'department_id' | 'assignee_id' | 'deleted_at'>

/**
 * Related tickets, linked without merging: each keeps its own thread and requester. Linking
 * takes a working role on the ticket and sight of the other (the caller loads it through
 * the agent's scope, so an unseen ticket is never found); each change is an event on both.
 */
export function createTicketLinks (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now

  async function recordBoth (trx: Db, actor: AgentActor, type: 'linked' | 'unlinked', a: Linkable, b: Linkable, at: number): Promise<void> {
    for (const [ticket, other] of [[a, b], [b, a]] as const) {
      const state = { number: other.number }
      await recordEvent(trx, ticket.id, actor, type, type === 'unlinked' ? state : null, type === 'linked' ? state : null, at)
    }
  }

  function check (ticket: Linkable, actor: AgentActor, other: Linkable): void {
    assertRole(actor.access, ticket, 'note')
    assertRole(actor.access, other, 'read')
    if (ticket.id === other.id) throw new TesseraError('TESSERA_INVALID_INPUT', 'A ticket cannot be linked to itself.')
    if (other.deleted_at !== null) throw new TesseraError('TESSERA_INVALID_INPUT', `There is no ticket ${other.number} you can see.`)
  }

  return {
    /** Links the two; already linked is a calm no-op. Answers whether anything changed. */
    async link (ticket: Linkable, actor: AgentActor, other: Linkable): Promise<boolean> {
      check(ticket, actor, other)
      try {
        return await transactionRetryingDeadlocks(db, async (trx) => {
          if (await ticketsLinked(trx, ticket.id, other.id)) return false
          const at = now()
          await insertTicketLink(trx, ticket.id, other.id, actor.access.id, at)
          await recordBoth(trx, actor, 'linked', ticket, other, at)
          return true
        })
      } catch (err) {
        // Someone linked the same two a moment ago: the link exists, as asked.
        if (isUniqueViolation(err)) return false
        throw err
      }
    },

    /** Unlinks the two; not linked is a calm no-op. */
    async unlink (ticket: Linkable, actor: AgentActor, other: Linkable): Promise<boolean> {
      assertRole(actor.access, ticket, 'note')
      assertRole(actor.access, other, 'read')
      return await transactionRetryingDeadlocks(db, async (trx) => {
        if (!await deleteTicketLink(trx, ticket.id, other.id)) return false
        await recordBoth(trx, actor, 'unlinked', ticket, other, now())
        return true
      })
    }
  }
}

export type TicketLinks = ReturnType<typeof createTicketLinks>
