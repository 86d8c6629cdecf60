import type { Knex } from 'knex'

/**
 * Two migrations were edited after they had landed (before migrations were locked, see
 * migrations/landed.sha256). A database migrated before those edits kept the old shape;
 * this brings it to today's. Where the shape is already right, nothing happens.
 *
 * - 20261126210000_initial_schema and 20261126230000_mail: thread_entries.body,
 *   thread_entries.original_body and outbox.payload became MEDIUMTEXT on MySQL (TEXT stops
 *   at 64 KB there). PostgreSQL and SQLite have one text type, so only MySQL changes.
 * - 20261126230000_mail: departments.email (one address per department) became the table
 *   department_addresses. The addresses move over; the old column stays, unused, because
 *   dropping it rebuilds the departments table on SQLite under every foreign key.
 */
const mediumTextColumns: Array<{ table: string, column: string, nullable: boolean }> = [
  { table: 'thread_entries', column: 'body', nullable: false },
  { table: 'thread_entries', column: 'original_body', nullable: true },
  { table: 'outbox', column: 'payload', nullable: false }
]

export async function up (knex: Knex): Promise<void> {
  if ((knex.client as { config: { client: string } }).config.client === 'mysql2') {
    for (const { table, column, nullable } of mediumTextColumns) {
      const [rows] = await knex.raw(
        'select data_type as type from information_schema.columns where table_schema = database() and table_name = ? and column_name = ?',
        [table, column]
      ) as [Array<{ type: string }>]
      if (rows[0]?.type.toLowerCase() === 'text') {
        await knex.raw(`alter table ?? modify ?? mediumtext ${nullable ? 'null' : 'not null'}`, [table, column])
      }
    }
  }

  if (!await knex.schema.hasTable('department_addresses')) {
    await knex.schema.createTable('department_addresses', (t) => {
      t.increments('id')
      t.integer('department_id').unsigned().notNullable().references('departments.id').onDelete('CASCADE')
      t.string('address', 254).notNullable().unique()
    })
    if (await knex.schema.hasColumn('departments', 'email')) {
      await knex.raw('insert into department_addresses (department_id, address) select id, email from departments where email is not null')
    }
  }
}

// Nothing to undo: the shape this reaches is the one the edited migrations now create.
export async function down (): Promise<void> {}
