import type { Knex } from 'knex'

/*
 * Daily report counters (issue 13), so report pages read a few hundred summed rows instead
 * of the tickets table. Per UTC day (whole days since 1970-01-01) and department, one row
 * per breakdown a report can ask for: `dimension` is department, team, agent or topic and
 * `value_id` the team, agent or help topic (the department itself for 'department'; 0 for
 * none, so the key has no NULLs and the upsert can hit it). Every count goes to the four
 * rows of its ticket's placement: a report per day reads the department rows only, a
 * breakdown by agent the agent rows only. `backlog` is the day's change in open tickets
 * (may be negative); the backlog on a day is the sum of the changes up to it. `fr_bNN` and
 * `rt_bNN` count first-response and resolution times in fixed minute buckets (the edges
 * live in src/domain/report-counts.ts): medians and 90th percentiles come from the summed
 * buckets. The covering index serves the backlog sum of the days before a report's range.
 */

/** How many buckets each duration histogram has (the domain's edges plus an open-ended last one). */
export const histogramBuckets = 47

export function bucketColumns (prefix: 'fr' | 'rt'): string[] {
  return Array.from({ length: histogramBuckets }, (_, i) => `${prefix}_b${String(i).padStart(2, '0')}`)
}

const counters = [
  'created', 'resolved', 'reopened', 'backlog', 'first_responses',
  'sla_fr_met', 'sla_fr_breached', 'sla_rt_met', 'sla_rt_breached',
  'survey_great', 'survey_okay', 'survey_not_good'
]

export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('report_daily', (t) => {
    t.string('dimension', 10).notNullable()
    t.integer('day').notNullable()
    t.integer('department_id').notNullable()
    t.integer('value_id').notNullable()
    for (const column of [...counters, ...bucketColumns('fr'), ...bucketColumns('rt')]) t.integer(column).notNullable().defaultTo(0)
    t.primary(['dimension', 'day', 'department_id', 'value_id'])
    t.index(['dimension', 'day', 'department_id', 'value_id', 'backlog'], 'report_daily_backlog')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTable('report_daily')
}
