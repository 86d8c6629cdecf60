import type { Knex } from 'knex'

/*
 * What the admin pages set for departments and help topics.
 * - departments: archived (kept for its tickets, offered for nothing new), the sender its
 *   tickets' mail goes out as, the priority a new ticket gets when its topic names none, and
 *   who hears about new tickets there.
 * - help_topics: shown on the portal or internal only, and what a new ticket starts with.
 *   A topic's priority becomes optional: `default_priority` replaces `priority`, which stays,
 *   unused, because making it nullable rebuilds the table on SQLite under every foreign key.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.alterTable('departments', (t) => {
    t.bigInteger('archived_at')
    t.string('sender_name', 120)
    t.string('sender_address', 254)
    t.smallint('default_priority').notNullable().defaultTo(2)
    t.string('new_ticket_notice', 16).notNullable().defaultTo('agents')
  })
  await knex.schema.alterTable('help_topics', (t) => {
    t.boolean('public').notNullable().defaultTo(true)
    t.smallint('default_priority')
    // On SQLite a new foreign key rebuilds the table, and dropping the old one fails once
    // tickets point at it: there the columns are plain, and the admin pages keep them right.
    const team = t.integer('default_team_id').unsigned()
    const agent = t.integer('default_agent_id').unsigned()
    if (knex.client.config.client !== 'sqlite3') {
      team.references('teams.id').onDelete('SET NULL')
      agent.references('agents.id').onDelete('SET NULL')
    }
  })
  await knex.schema.alterTable('teams', (t) => {
    const lead = t.integer('lead_id').unsigned()
    if (knex.client.config.client !== 'sqlite3') lead.references('agents.id').onDelete('SET NULL')
  })
}

const departmentColumns = ['new_ticket_notice', 'default_priority', 'sender_address', 'sender_name', 'archived_at']

export async function down (knex: Knex): Promise<void> {
  if ((knex.client as { config: { client: string } }).config.client === 'sqlite3') {
    // Plain columns there (see up); SQLite drops them itself, without copying a table.
    for (const [table, column] of <Array<[string, string]>>[['teams', 'lead_id'], ['help_topics', 'default_agent_id'], ['help_topics', 'default_team_id'], ['help_topics', 'default_priority'], ['help_topics', 'public'], ...departmentColumns.map((c): [string, string] => ['departments', c])]) {
      await knex.raw('alter table ?? drop column ??', [table, column])
    }
    return
  }
  await knex.schema.alterTable('teams', (t) => { t.dropForeign(['lead_id']) })
  await knex.schema.alterTable('teams', (t) => { t.dropColumn('lead_id') })
  await knex.schema.alterTable('help_topics', (t) => {
    t.dropForeign(['default_team_id'])
    t.dropForeign(['default_agent_id'])
  })
  await knex.schema.alterTable('help_topics', (t) => {
    t.dropColumn('default_agent_id')
    t.dropColumn('default_team_id')
    t.dropColumn('default_priority')
    t.dropColumn('public')
  })
  await knex.schema.alterTable('departments', (t) => {
    for (const column of departmentColumns) t.dropColumn(column)
  })
}
