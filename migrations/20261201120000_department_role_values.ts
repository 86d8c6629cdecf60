import type { Knex } from 'knex'

/*
 * A department role is one of 'view', 'agent', 'manager'. Rows inserted by hand before the
 * admin pages existed could hold anything ('view only', as the README once named it, or a
 * typo); such a row gets the least role, 'view', so nobody gains a right by a stray value.
 * The constraint that keeps it so follows in the next migration.
 *
 * Safe to run twice.
 */
export async function up (knex: Knex): Promise<void> {
  await knex('agent_departments').whereNotIn('role', ['view', 'agent', 'manager']).update({ role: 'view' })
}

export async function down (): Promise<void> {
  // The stray values are gone; 'view' is a valid role either way.
}
