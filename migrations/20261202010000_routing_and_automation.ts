import type { Knex } from 'knex'

/*
 * Routing strategies and the scheduler's automation (issue 11).
 * - teams.routing: how a new ticket routed to the team picks an agent ('none', 'round_robin',
 *   'fewest_open'); teams.rr_cursor: the round-robin slot counter, taken by an atomic
 *   increment inside the creating transaction, so instances share one rotation.
 * - tickets.reminded_at: when the client was last reminded of a pending ticket; a reminder
 *   is due again only after new activity, and auto-resolve counts from it.
 * - job_leases: a row per (job, item) an instance is working on, until lease_until; a crash
 *   leaves the row to expire, and another instance then takes the item.
 * - Indexes for the passes: resolved tickets by resolved_at (auto-close) and pending tickets
 *   by reminded_at (auto-resolve); reminders use tickets_status_activity.
 * Plain columns on existing tables (no keys), so SQLite adds them without a rebuild.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('teams', (t) => {
    t.string('routing', 16).notNullable().defaultTo('none')
    t.bigInteger('rr_cursor').notNullable().defaultTo(0)
  })
  await knex.schema.alterTable('tickets', (t) => {
    t.bigInteger('reminded_at')
    t.index(['status', 'resolved_at', 'id'], 'tickets_status_resolved')
    t.index(['status', 'reminded_at', 'id'], 'tickets_status_reminded')
  })
  await knex.schema.createTable('job_leases', (t) => {
    t.string('job', 64).notNullable()
    t.bigInteger('item_id').notNullable()
    t.string('owner', 64).notNullable()
    t.bigInteger('lease_until').notNullable()
    t.primary(['job', 'item_id'])
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_leases')
  await knex.schema.alterTable('tickets', (t) => {
    t.dropIndex(['status', 'resolved_at', 'id'], 'tickets_status_resolved')
    t.dropIndex(['status', 'reminded_at', 'id'], 'tickets_status_reminded')
  })
  for (const [table, column] of [['tickets', 'reminded_at'], ['teams', 'routing'], ['teams', 'rr_cursor']] as const) {
    await knex.raw('alter table ?? drop column ??', [table, column])
  }
}
