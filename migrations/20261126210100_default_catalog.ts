import type { Knex } from 'knex'

// A fresh desk needs somewhere to send tickets. Only fills an empty catalog, so it is
// safe on databases an admin has already set up.
export async function up (knex: Knex): Promise<void> {
  const existing = await knex('departments').first('id')
  if (existing) return
  const now = Date.now()
  await knex('departments').insert({ name: 'Support', created_at: now })
  const department = await knex('departments').where({ name: 'Support' }).first('id')
  await knex('help_topics').insert([
    { name: 'General question', department_id: department.id, priority: 2, sort_order: 1 },
    { name: 'Something is broken', department_id: department.id, priority: 3, sort_order: 2 },
    { name: 'Account and billing', department_id: department.id, priority: 2, sort_order: 3 },
    { name: 'Feedback', department_id: department.id, priority: 1, sort_order: 4 }
  ])
}

export async function down (knex: Knex): Promise<void> {
  const department = await knex('departments').where({ name: 'Support' }).first('id')
  if (!department) return
  const used = await knex('tickets').where({ department_id: department.id }).first('id')
  if (used) return
  await knex('help_topics').where({ department_id: department.id }).delete()
  await knex('departments').where({ id: department.id }).delete()
}
