import type { Knex } from 'knex'

/*
 * A canned response belongs to one department (offered to its agents) or, with no
 * department, to everyone. Removing a department removes its own responses with it.
 */
export async function up (knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('canned_responses', 'department_id')) return
  await knex.schema.alterTable('canned_responses', (t) => {
    t.integer('department_id').unsigned().references('departments.id').onDelete('CASCADE')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('canned_responses', (t) => {
    t.dropForeign(['department_id'])
    t.dropColumn('department_id')
  })
}
