import type { Knex } from 'knex'

export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('outbox', (t) => {
    // Set when the message is first composed, so retries and replies refer to the same id.
    t.string('message_id', 255)
    t.index(['message_id'])
    t.index(['ticket_id', 'id'])
  })
  await knex.schema.alterTable('thread_entries', (t) => {
    t.string('message_id', 255)
    // The message as received, when quoted history or a signature was trimmed from `body`.
    t.text('original_body', 'mediumtext')
    t.index(['message_id'])
  })
  // Mail sent to one of these addresses opens tickets in that department.
  await knex.schema.createTable('department_addresses', (t) => {
    t.increments('id')
    t.integer('department_id').unsigned().notNullable().references('departments.id').onDelete('CASCADE')
    t.string('address', 254).notNullable().unique()
  })
  // Every inbound message seen, so a redelivered message is recognised and ignored.
  await knex.schema.createTable('inbound_messages', (t) => {
    t.increments('id')
    t.string('message_id', 255).notNullable().unique()
    t.string('outcome', 16).notNullable()
    t.string('reason', 255)
    t.integer('ticket_id').unsigned().references('tickets.id').onDelete('SET NULL')
    t.bigInteger('created_at').notNullable()
  })
  await knex.schema.createTable('api_keys', (t) => {
    t.increments('id')
    t.string('name', 120).notNullable()
    t.string('key_hash', 64).notNullable().unique()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('last_used_at')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('api_keys')
  await knex.schema.dropTableIfExists('inbound_messages')
  await knex.schema.dropTableIfExists('department_addresses')
  await knex.schema.alterTable('thread_entries', (t) => { t.dropIndex(['message_id']); t.dropColumn('message_id'); t.dropColumn('original_body') })
  // MySQL lets the foreign key on outbox.ticket_id lean on the composite index; give it its
  // own index back before the composite one goes.
  const mysql = (knex.client as { config: { client: string } }).config.client === 'mysql2'
  await knex.schema.alterTable('outbox', (t) => {
    if (mysql) t.index(['ticket_id'])
    t.dropIndex(['ticket_id', 'id'])
    t.dropIndex(['message_id'])
    t.dropColumn('message_id')
  })
}
