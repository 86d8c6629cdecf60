import type { Knex } from 'knex'

/*
 * What a key may do (only mail intake so far, which every existing key was made for), and
 * when it was revoked: a revoked key stays listed, so the log and the list still name it.
 */
export async function up (knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('api_keys', 'scope')) return
  await knex.schema.alterTable('api_keys', (t) => {
    t.string('scope', 32).notNullable().defaultTo('mail_intake')
    t.bigInteger('revoked_at')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('api_keys', (t) => {
    t.dropColumn('revoked_at')
    t.dropColumn('scope')
  })
}
