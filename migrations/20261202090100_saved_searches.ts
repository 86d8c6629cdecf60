import type { Knex } from 'knex'

/* An agent's saved searches: a name and the search's query string, shown as personal queues. */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('saved_searches', (t) => {
    t.increments('id')
    t.integer('agent_id').unsigned().notNullable().references('agents.id').onDelete('CASCADE')
    t.string('name', 80).notNullable()
    t.string('query', 1000).notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['agent_id', 'name'], 'saved_searches_by_agent')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTable('saved_searches')
}
