import type { Knex } from 'knex'

// One row that /readyz rewrites, so readiness means "the database takes writes", not only
// "it answers a SELECT" (a full disk or a read-only database still answers those).
export async function up (knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('health_probe')) return
  await knex.schema.createTable('health_probe', (t) => {
    t.integer('id').primary()
    t.bigInteger('checked_at').notNullable()
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('health_probe')
}
