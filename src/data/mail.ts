import type { Db } from './database.js'

/** The ticket of the newest of these Message-IDs that we sent to `address`. */
export async function findTicketIdSentTo (db: Db, messageIds: readonly string[], address: string): Promise<number | undefined> {
  if (messageIds.length === 0) return undefined
  const sent = await db('outbox').whereIn('message_id', messageIds).andWhere({ to_address: address }).whereNotNull('ticket_id')
    .orderBy('id', 'desc').first('ticket_id')
  return sent?.ticket_id as number | undefined
}

/** The ticket of the newest of these Message-IDs that the requester with `address` sent us. */
export async function findTicketIdReceivedFrom (db: Db, messageIds: readonly string[], address: string): Promise<number | undefined> {
  if (messageIds.length === 0) return undefined
  const received = await db('thread_entries as e').join('requesters as r', 'r.id', 'e.requester_id')
    .whereIn('e.message_id', messageIds).andWhere('r.email', address).orderBy('e.id', 'desc').first('e.ticket_id', 'e.merged_from_id')
  // A merge moves entries but not who wrote them: an answer to a moved message belongs to
  // the ticket it was written on, which then follows its merge.
  return (received?.merged_from_id ?? received?.ticket_id) as number | undefined
}

/** The ticket a received message already landed on (its change committed, its record not). */
export async function findTicketIdOfEntry (db: Db, messageId: string): Promise<number | undefined> {
  const entry = await db('thread_entries').where({ message_id: messageId }).orderBy('id').first('ticket_id')
  return entry?.ticket_id as number | undefined
}

/**
 * Message-IDs for References: the ticket's earlier mail to this recipient and the
 * requester's own mail, oldest first. Mail to others (agent notices) is never named, so
 * nothing about it reaches the requester's headers.
 */
export async function listThreadMessageIds (db: Db, ticketId: number, beforeOutboxId: number, toAddress: string): Promise<string[]> {
  const [sent, received] = await Promise.all([
    db('outbox').where({ ticket_id: ticketId, to_address: toAddress }).andWhere('id', '<', beforeOutboxId).whereNotNull('message_id').orderBy('id').select('message_id', 'created_at'),
    // Messages a merge brought from another person's ticket are not this requester's thread.
    db('thread_entries').where({ ticket_id: ticketId, kind: 'message', staff_only: false }).whereNotNull('message_id').orderBy('id').select('message_id', 'created_at')
  ])
  return [...sent, ...received]
    .sort((a: { created_at: number }, b: { created_at: number }) => Number(a.created_at) - Number(b.created_at))
    .map((row: { message_id: string }) => row.message_id)
}

export async function setOutboxMessageId (db: Db, outboxId: number, messageId: string): Promise<void> {
  await db('outbox').where({ id: outboxId }).whereNull('message_id').update({ message_id: messageId })
}

export type InboundOutcome = 'processed' | 'ignored' | 'failed'

export interface InboundRecord {
  outcome: InboundOutcome
  reason: string | null
  ticket_id: number | null
  created_at: number
}

export async function findInboundMessage (db: Db, messageId: string): Promise<InboundRecord | undefined> {
  return await db('inbound_messages').where({ message_id: messageId }).first('outcome', 'reason', 'ticket_id', 'created_at')
}

/** The reason a claim carries while its message is being processed. */
export const processingReason = 'processing'

/** Claims a Message-ID; throws a unique violation when the message was seen before. */
export async function claimInboundMessage (db: Db, messageId: string, now: number): Promise<void> {
  await db('inbound_messages').insert({ message_id: messageId, outcome: 'failed', reason: processingReason, ticket_id: null, created_at: now })
}

/** Takes over a claim a crashed process left; false when someone else took it first. */
export async function takeOverInboundClaim (db: Db, messageId: string, claimedAt: number, now: number): Promise<boolean> {
  const updated = await db('inbound_messages').where({ message_id: messageId, reason: processingReason, created_at: claimedAt })
    .update({ created_at: now })
  return updated === 1
}

export async function recordInboundMessage (db: Db, messageId: string, outcome: InboundOutcome, reason: string | null, ticketId: number | null): Promise<void> {
  await db('inbound_messages').where({ message_id: messageId }).update({ outcome, reason: reason?.slice(0, 255) ?? null, ticket_id: ticketId })
}

export async function forgetInboundMessage (db: Db, messageId: string): Promise<void> {
  await db('inbound_messages').where({ message_id: messageId }).delete()
}

/** The department mail to this address opens tickets in; an archived one opens none. */
export async function findDepartmentIdByEmail (db: Db, address: string): Promise<number | undefined> {
  const row = await db('department_addresses as a').join('departments as d', 'd.id', 'a.department_id')
    .where('a.address', address).whereNull('d.archived_at').first('a.department_id')
  return row?.department_id as number | undefined
}

export async function addDepartmentAddress (db: Db, departmentId: number, address: string): Promise<void> {
  await db('department_addresses').insert({ department_id: departmentId, address: address.toLowerCase() })
}

export async function findDefaultHelpTopic (db: Db, departmentId?: number): Promise<{ id: number } | undefined> {
  const query = db('help_topics as h').join('departments as d', 'd.id', 'h.department_id')
    .where('h.active', true).whereNull('d.archived_at').orderBy(['h.sort_order', 'h.id']).first('h.id')
  if (departmentId !== undefined) query.where('h.department_id', departmentId)
  return await query
}

/** Whether mail has ever come in through any door, or a key exists for the mail intake API. */
export async function hasMailIntake (db: Db): Promise<boolean> {
  const [received, key] = await Promise.all([
    db('inbound_messages').first('id'),
    db('api_keys').first('id')
  ])
  return received !== undefined || key !== undefined
}
