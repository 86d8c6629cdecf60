import type { Db } from './database.js'

/** The ticket an e-mail refers to through any of the Message-IDs it quotes. */
export async function findTicketIdByMessageIds (db: Db, messageIds: readonly string[]): Promise<number | undefined> {
  if (messageIds.length === 0) return undefined
  const sent = await db('outbox').whereIn('message_id', messageIds).whereNotNull('ticket_id').orderBy('id', 'desc').first('ticket_id')
  if (sent) return sent.ticket_id as number
  const received = await db('thread_entries').whereIn('message_id', messageIds).orderBy('id', 'desc').first('ticket_id')
  return received?.ticket_id as number | undefined
}

/**
 * Message-IDs for References: the ticket's earlier mail to this recipient and the
 * requester's own mail, oldest first. Mail to others (agent notices) is never named, so
 * nothing about it reaches the requester's headers.
 */
export async function listThreadMessageIds (db: Db, ticketId: number, beforeOutboxId: number, toAddress: string): Promise<string[]> {
  const [sent, received] = await Promise.all([
    db('outbox').where({ ticket_id: ticketId, to_address: toAddress }).andWhere('id', '<', beforeOutboxId).whereNotNull('message_id').orderBy('id').select('message_id', 'created_at'),
    db('thread_entries').where({ ticket_id: ticketId, kind: 'message' }).whereNotNull('message_id').orderBy('id').select('message_id', 'created_at')
  ])
  return [...sent, ...received]
    .sort((a: { created_at: number }, b: { created_at: number }) => Number(a.created_at) - Number(b.created_at))
    .map((row: { message_id: string }) => row.message_id)
}

export async function setOutboxMessageId (db: Db, outboxId: number, messageId: string): Promise<void> {
  await db('outbox').where({ id: outboxId }).whereNull('message_id').update({ message_id: messageId })
}

export type InboundOutcome = 'processed' | 'ignored' | 'failed'

export async function findInboundMessage (db: Db, messageId: string): Promise<{ outcome: InboundOutcome, ticket_id: number | null } | undefined> {
  return await db('inbound_messages').where({ message_id: messageId }).first('outcome', 'ticket_id')
}

/** Claims a Message-ID; throws a unique violation when the message was seen before. */
export async function claimInboundMessage (db: Db, messageId: string, now: number): Promise<void> {
  await db('inbound_messages').insert({ message_id: messageId, outcome: 'failed', reason: 'processing', ticket_id: null, created_at: now })
}

export async function recordInboundMessage (db: Db, messageId: string, outcome: InboundOutcome, reason: string | null, ticketId: number | null): Promise<void> {
  await db('inbound_messages').where({ message_id: messageId }).update({ outcome, reason: reason?.slice(0, 255) ?? null, ticket_id: ticketId })
}

export async function forgetInboundMessage (db: Db, messageId: string): Promise<void> {
  await db('inbound_messages').where({ message_id: messageId }).delete()
}

export async function findDepartmentIdByEmail (db: Db, address: string): Promise<number | undefined> {
  const row = await db('department_addresses').where({ address }).first('department_id')
  return row?.department_id as number | undefined
}

export async function addDepartmentAddress (db: Db, departmentId: number, address: string): Promise<void> {
  await db('department_addresses').insert({ department_id: departmentId, address: address.toLowerCase() })
}

export async function findDefaultHelpTopic (db: Db, departmentId?: number): Promise<{ id: number } | undefined> {
  const query = db('help_topics').where({ active: true }).orderBy(['sort_order', 'id']).first('id')
  if (departmentId !== undefined) query.where({ department_id: departmentId })
  return await query
}
