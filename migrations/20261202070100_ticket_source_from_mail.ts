import type { Knex } from 'knex'

/*
 * Tickets opened by mail (their first message carries a Message-ID) were e-mail tickets.
 * Safe to run twice; going down leaves the values, which the column's removal drops.
 */
export async function up (knex: Knex): Promise<void> {
  await knex('tickets')
    .where('source', 'web')
    .whereIn('id', knex('thread_entries').select('ticket_id').where('kind', 'message').whereNotNull('message_id'))
    .update({ source: 'email' })
}

export async function down (): Promise<void> {}
