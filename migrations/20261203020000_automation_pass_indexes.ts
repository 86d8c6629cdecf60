import type { Knex } from 'knex'

/*
 * The reminder and auto-resolve passes filter pending tickets on reminded_at compared with
 * last_activity_at, which no index range can express. Their indexes now carry both columns
 * and deleted_at, so that filter runs on index entries alone: the reminder pass no longer
 * fetches the row of every pending ticket already reminded (measured on PostgreSQL at 20,000
 * tickets: 628 rows fetched and thrown away for 49 due), nor auto-resolve the row of every
 * one answered since its reminder.
 * - tickets_pending_remind (status, last_activity_at, id, deleted_at, reminded_at): the
 *   reminder pass, in its order (tickets_status_activity_live stays for the queues).
 * - tickets_status_reminded_live (status, reminded_at, id, deleted_at, last_activity_at)
 *   replaces tickets_status_reminded (status, reminded_at, id), its prefix.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    t.index(['status', 'last_activity_at', 'id', 'deleted_at', 'reminded_at'], 'tickets_pending_remind')
    t.index(['status', 'reminded_at', 'id', 'deleted_at', 'last_activity_at'], 'tickets_status_reminded_live')
  })
  await knex.schema.alterTable('tickets', (t) => {
    t.dropIndex(['status', 'reminded_at', 'id'], 'tickets_status_reminded')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    t.index(['status', 'reminded_at', 'id'], 'tickets_status_reminded')
  })
  await knex.schema.alterTable('tickets', (t) => {
    t.dropIndex(['status', 'last_activity_at', 'id', 'deleted_at', 'reminded_at'], 'tickets_pending_remind')
    t.dropIndex(['status', 'reminded_at', 'id', 'deleted_at', 'last_activity_at'], 'tickets_status_reminded_live')
  })
}
