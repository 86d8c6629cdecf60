import type { Db } from './database.js'

export interface OutboxMessage {
  template: string
  toAddress: string
  ticketId: number | null
  payload: Record<string, unknown>
}

export interface OutboxRow {
  id: number
  template: string
  to_address: string
  ticket_id: number | null
  payload: string
  status: 'queued' | 'sent' | 'failed'
  attempts: number
  next_attempt_at: number
  created_at: number
}

/** Queues a notice; callers pass their transaction so the notice exists only if the change does. */
export async function enqueueMessage (db: Db, message: OutboxMessage, now: number): Promise<void> {
  await db('outbox').insert({
    template: message.template,
    to_address: message.toAddress,
    ticket_id: message.ticketId,
    payload: JSON.stringify(message.payload),
    status: 'queued',
    attempts: 0,
    next_attempt_at: now,
    created_at: now
  })
}

export async function listOutbox (db: Db, filter: { ticketId?: number, toAddress?: string } = {}): Promise<OutboxRow[]> {
  const query = db<OutboxRow>('outbox').orderBy('id')
  if (filter.ticketId !== undefined) query.where({ ticket_id: filter.ticketId })
  if (filter.toAddress !== undefined) query.where({ to_address: filter.toAddress })
  return await query
}
