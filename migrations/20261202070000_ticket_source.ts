import type { Knex } from 'knex'

/*
 * Where a ticket came from (phone, walk-in, e-mail, web, other), chosen by the agent who
 * opens it for someone, set by the portal and the mail intake otherwise. Existing rows
 * start as web; the next migration sets those that arrived by mail.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    t.string('source', 16).notNullable().defaultTo('web')
  })
}

export async function down (knex: Knex): Promise<void> {
  const sqlite = (knex.client as { config: { client: string } }).config.client === 'sqlite3'
  if (sqlite) {
    await knex.raw('alter table ?? drop column ??', ['tickets', 'source'])
    return
  }
  await knex.schema.alterTable('tickets', (t) => { t.dropColumn('source') })
}
