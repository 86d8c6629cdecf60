import type { Knex } from 'knex'
import { transactionRetryingDeadlocks, type Db } from '../data/database.js'
import { deleteParticipant, findParticipant, findParticipantById, insertParticipant, listParticipants, type ParticipantRow } from '../data/participants.js'
import { findOrCreateRequester, findRequester } from '../data/requesters.js'
import { insertEntry, updateTicket, type TicketRow } from '../data/tickets.js'
import { normalizeEmail } from './email-address.js'
import { notFound, TesseraError } from './errors.js'
import type { MailOrigin } from './lifecycle.js'
import { mergeCrossesRequesters } from './merge.js'
import { noticeClientMessage, noticeParticipantCopy } from './notices.js'
import { assertRole, type Actor, type AgentActor } from './permissions.js'
import { recordEvent, systemActor } from './ticket-events.js'

/**
 * Participants: colleagues on a ticket's thread besides its requester. A reply by mail from
 * someone who had the conversation in hand (a valid In-Reply-To) adds them; an agent adds
 * and removes them on the ticket page. Each change is an event on the ticket.
 */

const emailShape = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/

export function isParticipantAddress (email: string): boolean {
  return email.length <= 254 && emailShape.test(email)
}

/**
 * A merge brings the merged ticket's participants onto the surviving thread, each once:
 * anyone already there (as its requester or a participant) is left alone. Only when both
 * tickets have one requester: participants receive the agents' replies in copy, so across
 * two requesters they would read the other person's conversation, which a merge never
 * shows (see mergeCrossesRequesters). Inside the merge's transaction; each newcomer is an
 * event on the surviving ticket, by whoever merged.
 */
export async function carryParticipantsOnMerge (trx: Db, source: TicketRow, target: TicketRow, actor: Actor, at: number): Promise<void> {
  if (mergeCrossesRequesters(source, target)) return
  const present = new Set((await listParticipants(trx, target.id)).map((p) => p.email))
  const requester = await requesterEmail(trx, target)
  if (requester !== undefined) present.add(requester)
  const addedBy = actor.kind === 'agent' ? actor.access.id : null
  for (const { email, name } of await listParticipants(trx, source.id)) {
    if (present.has(email)) continue
    present.add(email)
    await insertParticipant(trx, { ticket_id: target.id, email, name, added_by_agent_id: addedBy, created_at: at })
    await recordEvent(trx, target.id, actor, 'participant_added', null, { email, name, merged_from: source.number }, at)
  }
}

async function requesterEmail (trx: Db, ticket: Pick<TicketRow, 'requester_id'>): Promise<string | undefined> {
  const email = (await findRequester(trx, ticket.requester_id))?.email
  return email === undefined ? undefined : normalizeEmail(email)
}

/** An agent's reply goes in copy to the ticket's participants (inside the reply's transaction). */
export async function copyReplyToParticipants (trx: Db, ticket: TicketRow, agentName: string, body: string, at: number): Promise<void> {
  const participants = await listParticipants(trx, ticket.id)
  await noticeParticipantCopy(trx, ticket, participants.map((p) => p.email), agentName, body, at)
}

export type Participants = ReturnType<typeof createParticipants>

export function createParticipants (db: Knex, options: { now: () => number }) {
  const { now } = options

  return {
    list: async (ticket: Pick<TicketRow, 'id'>): Promise<ParticipantRow[]> => await listParticipants(db, ticket.id),

    /** An agent who may reply on the ticket adds a colleague; adding one already there changes nothing. */
    async add (ticket: TicketRow, actor: AgentActor, input: { email: string, name: string }): Promise<boolean> {
      assertRole(actor.access, ticket, 'reply')
      if (ticket.deleted_at !== null) throw notFound('That ticket')
      const email = normalizeEmail(input.email)
      if (!isParticipantAddress(email)) throw new TesseraError('TESSERA_INVALID_INPUT', 'Enter an e-mail address such as name@example.com.')
      const name = input.name.trim() || email.split('@')[0]!
      return await transactionRetryingDeadlocks(db, async (trx) => {
        if (await requesterEmail(trx, ticket) === email) throw new TesseraError('TESSERA_INVALID_INPUT', 'That is the requester’s own address; they are on the thread already.')
        if (await findParticipant(trx, ticket.id, email)) return false
        const at = now()
        await insertParticipant(trx, { ticket_id: ticket.id, email, name, added_by_agent_id: actor.access.id, created_at: at })
        await recordEvent(trx, ticket.id, actor, 'participant_added', null, { email, name }, at)
        return true
      })
    },

    /** An agent takes a colleague off the thread; one already gone is a calm no-op. */
    async remove (ticket: TicketRow, actor: AgentActor, participantId: number): Promise<boolean> {
      assertRole(actor.access, ticket, 'reply')
      return await transactionRetryingDeadlocks(db, async (trx) => {
        const participant = await findParticipantById(trx, ticket.id, participantId)
        if (!participant || !await deleteParticipant(trx, ticket.id, participantId)) return false
        await recordEvent(trx, ticket.id, actor, 'participant_removed', { email: participant.email, name: participant.name }, null, now())
        return true
      })
    },

    /**
     * A colleague's reply by mail: they join the thread (once), their message is an entry
     * by them, and a resolved or pending ticket opens again for an agent to read it.
     * `staffOnly` when the ticket it answered was merged into another requester's.
     */
    async receive (ticket: TicketRow, input: { email: string, name: string, body: string, mail: MailOrigin, staffOnly: boolean, mergedFromId: number | null }): Promise<void> {
      await transactionRetryingDeadlocks(db, async (trx) => {
        const at = now()
        const email = normalizeEmail(input.email)
        const author = await findOrCreateRequester(trx, input.name, email, at)
        if (!await findParticipant(trx, ticket.id, email)) {
          await insertParticipant(trx, { ticket_id: ticket.id, email, name: input.name, added_by_agent_id: null, created_at: at })
          await recordEvent(trx, ticket.id, systemActor, 'participant_added', null, { email, name: input.name, by_mail: true }, at)
        }
        await insertEntry(trx, {
          ticket_id: ticket.id,
          kind: 'message',
          agent_id: null,
          requester_id: author.id,
          body: input.body,
          created_at: at,
          message_id: input.mail.messageId,
          original_body: input.mail.originalBody,
          original_html: input.mail.html ?? null,
          body_shortened: input.mail.shortened ?? false,
          merged_from_id: input.mergedFromId,
          staff_only: input.staffOnly
        })
        await recordEvent(trx, ticket.id, { kind: 'requester', requesterId: author.id }, 'client_replied', null, { participant: email }, at)
        const patch: Partial<TicketRow> = { last_activity_at: at, answered: false }
        if (ticket.status !== 'open' && !input.staffOnly) {
          Object.assign(patch, { status: 'open', resolved_at: null, closed_at: null })
          await recordEvent(trx, ticket.id, systemActor, 'status_changed', { status: ticket.status }, { status: 'open' }, at)
        }
        await updateTicket(trx, ticket.id, patch)
        await noticeClientMessage(trx, ticket, input.body, at)
      })
    }
  }
}
