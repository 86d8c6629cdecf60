import type { Knex } from 'knex'

// Queue indexes gain deleted_at as their last column: queues skip trashed tickets by
// reading the index alone, so counts and pages cost what they did before the trash existed.
const queueIndexes: Array<[string, string[]]> = [
  ['tickets_status_activity', ['status', 'last_activity_at', 'id']],
  ['tickets_assignee_activity', ['assignee_id', 'status', 'last_activity_at', 'id']],
  ['tickets_team_activity', ['team_id', 'status', 'last_activity_at', 'id']],
  ['tickets_department_activity', ['department_id', 'status', 'last_activity_at', 'id']],
  ['tickets_status_created', ['status', 'created_at', 'id']]
]

const isMysql = (knex: Knex): boolean => (knex.client as { config: { client: string } }).config.client === 'mysql2'

export async function up (knex: Knex): Promise<void> {
  if (isMysql(knex)) {
    // One ALTER: MySQL rebuilds the table per statement, which on a large desk is the
    // difference between one copy of the tickets table and thirteen.
    await knex.raw([
      'ALTER TABLE tickets ADD COLUMN deleted_at BIGINT NULL, ADD COLUMN deleted_by INT UNSIGNED NULL',
      'ADD CONSTRAINT tickets_deleted_by_foreign FOREIGN KEY (deleted_by) REFERENCES agents (id)',
      'ADD INDEX tickets_deleted (deleted_at)',
      ...queueIndexes.map(([name, columns]) => `ADD INDEX ${name}_live (${[...columns, 'deleted_at'].join(', ')})`),
      ...queueIndexes.map(([name]) => `DROP INDEX ${name}`)
    ].join(', '))
    return
  }
  await knex.schema.alterTable('tickets', (t) => {
    t.bigInteger('deleted_at')
    t.integer('deleted_by').unsigned().references('agents.id')
    t.index(['deleted_at'], 'tickets_deleted')
  })
  await knex.schema.alterTable('tickets', (t) => {
    for (const [name, columns] of queueIndexes) t.index([...columns, 'deleted_at'], `${name}_live`)
  })
  await knex.schema.alterTable('tickets', (t) => {
    for (const [name, columns] of queueIndexes) t.dropIndex(columns, name)
  })
}

export async function down (knex: Knex): Promise<void> {
  // The old indexes come back before the new ones go: MySQL keeps a foreign key's index
  // until another one covers it.
  await knex.schema.alterTable('tickets', (t) => {
    for (const [name, columns] of queueIndexes) t.index(columns, name)
  })
  await knex.schema.alterTable('tickets', (t) => {
    for (const [name, columns] of queueIndexes) t.dropIndex([...columns, 'deleted_at'], `${name}_live`)
  })
  await knex.schema.alterTable('tickets', (t) => {
    t.dropForeign(['deleted_by'])
  })
  await knex.schema.alterTable('tickets', (t) => {
    t.dropIndex(['deleted_at'], 'tickets_deleted')
    t.dropColumn('deleted_by')
    t.dropColumn('deleted_at')
  })
}
