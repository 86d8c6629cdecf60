import type { Knex } from 'knex'

/*
 * What an agent chooses for themselves (issue 15's preferences page) and what routing reads
 * of it (issue 11): a signature for replies, and a department's own; the time zone and date
 * style times are shown in; rows per queue page and the queue to land on after sign-in;
 * and "away until", during which routing skips the agent and notices do not go to them.
 * All nullable: null means the desk's default. Plain columns (no keys), so SQLite adds
 * them without rebuilding tables that tickets point at.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.text('signature')
    t.string('default_signature', 16)
    t.string('time_zone', 64)
    t.string('date_style', 16)
    t.integer('rows_per_page')
    t.string('default_queue', 32)
    t.bigInteger('away_until')
  })
  await knex.schema.alterTable('departments', (t) => {
    t.text('signature')
  })
}

export async function down (knex: Knex): Promise<void> {
  const columns: Record<string, string[]> = {
    agents: ['signature', 'default_signature', 'time_zone', 'date_style', 'rows_per_page', 'default_queue', 'away_until'],
    departments: ['signature']
  }
  for (const [table, names] of Object.entries(columns)) {
    for (const column of names) await knex.raw('alter table ?? drop column ??', [table, column])
  }
}
