import type { Knex } from 'knex'

export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    // The name typed when this ticket was opened; a known requester's profile keeps theirs.
    t.string('requester_name_given', 120)
    // The new-ticket form's one-time id: the same form sent twice finds the first ticket.
    t.string('submission_id', 64)
    t.unique(['requester_id', 'submission_id'], { indexName: 'tickets_submission' })
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    t.dropUnique(['requester_id', 'submission_id'], 'tickets_submission')
    t.dropColumn('submission_id')
    t.dropColumn('requester_name_given')
  })
}
