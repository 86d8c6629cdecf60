import { insertedId, listOf, preparedRead, readList, type Db, type ListRead } from './database.js'
import { ticketIdIn, type TicketRef } from './tickets.js'

/** A colleague on a ticket's thread besides its requester. */
export interface ParticipantRow {
  id: number
  ticket_id: number
  email: string
  name: string
  added_by_agent_id: number | null
  created_at: number
}

const participantColumns: ReadonlyArray<keyof ParticipantRow> = ['id', 'ticket_id', 'email', 'name', 'added_by_agent_id', 'created_at']

export async function listParticipants (db: Db, ticketId: number): Promise<ParticipantRow[]> {
  return await readList(db, participantsList(db, { id: ticketId }))
}

/** The ticket's participants in the order they were added, as a list a page reads with others. */
export function participantsList (db: Db, ticket: TicketRef): ListRead<ParticipantRow[]> {
  return listOf(participants(db, { ticket }), participantColumns)
}

const participants = preparedRead((db, { ticket }: { ticket: TicketRef }) =>
  db('ticket_participants').where('ticket_id', ticketIdIn(db, ticket)).orderBy('id').select(participantColumns))

export async function findParticipant (db: Db, ticketId: number, email: string): Promise<ParticipantRow | undefined> {
  return await db<ParticipantRow>('ticket_participants').where({ ticket_id: ticketId, email }).first()
}

export async function findParticipantById (db: Db, ticketId: number, id: number): Promise<ParticipantRow | undefined> {
  return await db<ParticipantRow>('ticket_participants').where({ ticket_id: ticketId, id }).first()
}

export async function insertParticipant (db: Db, row: Omit<ParticipantRow, 'id'>): Promise<number> {
  const [inserted] = await db('ticket_participants').insert(row).returning('id')
  return insertedId(inserted)
}

export async function deleteParticipant (db: Db, ticketId: number, id: number): Promise<boolean> {
  return await db('ticket_participants').where({ ticket_id: ticketId, id }).delete() === 1
}

/**
 * The ticket a message answers when it names one of the Message-IDs of that ticket's
 * conversation with the client side: mail we sent to its requester or a participant, or mail
 * one of them sent us. Knowing one means having had the conversation in hand (a colleague in
 * Cc did); our notices to agents do not count.
 */
export async function findTicketIdByThreadMessageId (db: Db, messageIds: readonly string[]): Promise<number | undefined> {
  if (messageIds.length === 0) return undefined
  const sent = await db('outbox as o').join('tickets as t', 't.id', 'o.ticket_id').join('requesters as r', 'r.id', 't.requester_id')
    .leftJoin('ticket_participants as p', (on) => { on.on('p.ticket_id', 'o.ticket_id').andOn('p.email', 'o.to_address') })
    .whereIn('o.message_id', messageIds)
    .andWhere((q) => { void q.whereRaw('r.email = o.to_address').orWhereNotNull('p.id') })
    .orderBy('o.id', 'desc').first('o.ticket_id')
  if (sent) return sent.ticket_id as number
  const received = await db('thread_entries').whereIn('message_id', messageIds).whereNotNull('requester_id').orderBy('id', 'desc').first('ticket_id', 'merged_from_id')
  return (received?.merged_from_id ?? received?.ticket_id) as number | undefined
}
