import type { Knex } from 'knex'

// The admin checklist asks whether a test message was ever sent; without this index that
// question reads every sent message of the desk's life.
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.index(['template', 'status'], 'outbox_template_status')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    t.dropIndex(['template', 'status'], 'outbox_template_status')
  })
}
