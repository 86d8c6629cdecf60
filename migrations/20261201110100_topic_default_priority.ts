import type { Knex } from 'knex'

// Each topic keeps the priority it had: it now lives in default_priority (see 20261201110000).
export async function up (knex: Knex): Promise<void> {
  await knex('help_topics').whereNull('default_priority').update({ default_priority: knex.ref('priority') })
}

export async function down (knex: Knex): Promise<void> {
  await knex('help_topics').whereNotNull('default_priority').update({ priority: knex.ref('default_priority') })
}
