import type { Knex } from 'knex'

/*
 * SLA clocks (issue 11).
 * - sla_schedules: business hours as weekday windows in an IANA zone, and holidays (both
 *   JSON text: `windows` maps ISO weekday to [start, end) minute pairs, `holidays` lists
 *   {date, name}).
 * - sla_plans: a first-response and a resolution target in hours, counted in a schedule's
 *   business hours, or around the clock when it names none.
 * - departments and help_topics pick a plan; tickets keep the plan they started with, their
 *   two due times, the 80 % warning instants (null once warned), each target's outcome
 *   (met or breached, set when it happened), when a pending pause began, the next
 *   outstanding due time (queues sort on it, the Overdue queue reads it) and the next
 *   instant the SLA pass must look at the ticket.
 * Plain columns on existing tables: on SQLite a foreign key would rebuild tables that
 * tickets point at. The indexes serve the Overdue queue and due sort (status, sla_due_at)
 * and the pass (status, sla_check_at).
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('sla_schedules', (t) => {
    t.increments('id')
    t.string('name', 120).notNullable().unique()
    t.string('time_zone', 64).notNullable()
    t.text('windows').notNullable()
    t.text('holidays').notNullable()
    t.bigInteger('created_at').notNullable()
  })
  await knex.schema.createTable('sla_plans', (t) => {
    t.increments('id')
    t.string('name', 120).notNullable().unique()
    t.integer('first_response_hours').notNullable()
    t.integer('resolution_hours').notNullable()
    t.integer('schedule_id').unsigned().references('sla_schedules.id')
    t.bigInteger('created_at').notNullable()
  })
  for (const table of ['departments', 'help_topics']) {
    await knex.schema.alterTable(table, (t) => { t.integer('sla_plan_id').unsigned() })
  }
  await knex.schema.alterTable('tickets', (t) => {
    t.integer('sla_plan_id').unsigned()
    t.bigInteger('first_response_due_at')
    t.bigInteger('first_response_warn_at')
    t.string('first_response_outcome', 8)
    t.bigInteger('resolution_due_at')
    t.bigInteger('resolution_warn_at')
    t.string('resolution_outcome', 8)
    t.bigInteger('sla_paused_at')
    t.bigInteger('sla_due_at')
    t.bigInteger('sla_check_at')
    t.index(['status', 'sla_due_at', 'id'], 'tickets_status_sla_due')
    t.index(['status', 'sla_check_at'], 'tickets_status_sla_check')
  })
}

const ticketColumns = [
  'sla_plan_id', 'first_response_due_at', 'first_response_warn_at', 'first_response_outcome', 'resolution_due_at',
  'resolution_warn_at', 'resolution_outcome', 'sla_paused_at', 'sla_due_at', 'sla_check_at'
]

export async function down (knex: Knex): Promise<void> {
  await knex.schema.alterTable('tickets', (t) => {
    t.dropIndex(['status', 'sla_due_at', 'id'], 'tickets_status_sla_due')
    t.dropIndex(['status', 'sla_check_at'], 'tickets_status_sla_check')
  })
  // Column by column, as SQL: SQLite drops plain columns itself, without copying a table.
  for (const column of ticketColumns) await knex.raw('alter table ?? drop column ??', ['tickets', column])
  for (const table of ['help_topics', 'departments']) await knex.raw('alter table ?? drop column ??', [table, 'sla_plan_id'])
  await knex.schema.dropTable('sla_plans')
  await knex.schema.dropTable('sla_schedules')
}
