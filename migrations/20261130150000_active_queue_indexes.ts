import type { Knex } from 'knex'

/*
 * "Mine" and "My teams" ask for open OR pending tickets of one agent or team, newest
 * activity first. The (assignee_id, status, last_activity_at, id) index holds those rows
 * in two runs, one per status, so PostgreSQL read all of them (13,000 for one agent at a
 * million tickets) and sorted them for a page of 50. An index over just the active tickets,
 * in activity order, gives the page straight from the index.
 *
 * Partial indexes exist on PostgreSQL and SQLite; MySQL and MariaDB have none, so there this
 * migration does nothing. Safe to run twice.
 */

const active = "status in ('open', 'pending')"
const indexes = [
  { name: 'tickets_active_assignee_activity', columns: 'assignee_id, last_activity_at, id' },
  { name: 'tickets_active_team_activity', columns: 'team_id, last_activity_at, id' }
]

function hasPartialIndexes (knex: Knex): boolean {
  return !['mysql', 'mysql2'].includes(String(knex.client.config.client))
}

export async function up (knex: Knex): Promise<void> {
  if (!hasPartialIndexes(knex)) return
  for (const { name, columns } of indexes) {
    await knex.raw(`create index if not exists ${name} on tickets (${columns}) where ${active}`)
  }
}

export async function down (knex: Knex): Promise<void> {
  if (!hasPartialIndexes(knex)) return
  for (const { name } of indexes) await knex.raw(`drop index if exists ${name}`)
}
