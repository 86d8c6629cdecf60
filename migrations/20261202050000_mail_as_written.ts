import type { Knex } from 'knex'

/*
 * Mail in, as people wrote it:
 * - thread_entries keep the HTML part of a message as sent (shown to agents only, in a
 *   sandboxed frame) and whether `body` was shortened (the full text is then in original_body);
 * - ticket_participants: colleagues on a ticket's thread besides its requester;
 * - set_aside_mail: mail that did not become a ticket or reply (a message that can never be
 *   processed, or one made by a machine), with the reason, for administrators to see.
 * The thread_entries columns are plain (no foreign key), so SQLite adds them in place.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('thread_entries', (t) => {
    t.text('original_html', 'mediumtext')
    t.boolean('body_shortened').notNullable().defaultTo(false)
  })
  await knex.schema.createTable('ticket_participants', (t) => {
    t.increments('id')
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE')
    t.string('email', 254).notNullable()
    t.string('name', 120).notNullable()
    t.integer('added_by_agent_id').unsigned().references('agents.id').onDelete('SET NULL')
    t.bigInteger('created_at').notNullable()
    t.unique(['ticket_id', 'email'])
  })
  await knex.schema.createTable('set_aside_mail', (t) => {
    t.increments('id')
    t.string('kind', 16).notNullable()
    t.string('reason', 255).notNullable()
    t.string('message_id', 255)
    t.string('from_address', 254)
    t.string('subject', 200)
    t.bigInteger('size_bytes')
    t.bigInteger('created_at').notNullable()
    // The admin page lists one kind at a time, newest first (keyset on id).
    t.index(['kind', 'id'])
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('set_aside_mail')
  await knex.schema.dropTableIfExists('ticket_participants')
  const sqlite = (knex.client as { config: { client: string } }).config.client === 'sqlite3'
  if (sqlite) {
    for (const column of ['original_html', 'body_shortened']) await knex.raw('alter table ?? drop column ??', ['thread_entries', column])
    return
  }
  await knex.schema.alterTable('thread_entries', (t) => {
    t.dropColumn('original_html')
    t.dropColumn('body_shortened')
  })
}
