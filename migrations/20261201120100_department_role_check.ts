import type { Knex } from 'knex'

/*
 * agent_departments.role may hold only 'view', 'agent' or 'manager', whoever writes the
 * row (the admin pages, the CLI, or someone at an SQL prompt). PostgreSQL and MariaDB/MySQL
 * add a CHECK constraint to the table; SQLite cannot add one to an existing table, so the
 * table is rebuilt with it (inside the migration's transaction, rows copied unchanged).
 *
 * Safe to run twice.
 */

const constraint = 'agent_departments_role_check'
const roles = "('view', 'agent', 'manager')"

function clientOf (knex: Knex): 'postgres' | 'mysql' | 'sqlite' {
  const client = String(knex.client.config.client)
  return client === 'pg' ? 'postgres' : ['mysql', 'mysql2'].includes(client) ? 'mysql' : 'sqlite'
}

async function sqliteTableSql (knex: Knex): Promise<string> {
  const rows: Array<{ sql: string }> = await knex.raw("select sql from sqlite_master where type = 'table' and name = 'agent_departments'")
  return rows[0]?.sql ?? ''
}

async function hasConstraint (knex: Knex): Promise<boolean> {
  switch (clientOf(knex)) {
    case 'postgres': {
      const result: { rows: unknown[] } = await knex.raw('select 1 from pg_constraint where conname = ? and conrelid = ?::regclass', [constraint, 'agent_departments'])
      return result.rows.length > 0
    }
    case 'mysql': {
      const [rows] = await knex.raw('select 1 from information_schema.table_constraints where constraint_schema = database() and table_name = ? and constraint_name = ?', ['agent_departments', constraint]) as [unknown[]]
      return rows.length > 0
    }
    case 'sqlite':
      return (await sqliteTableSql(knex)).includes(constraint)
  }
}

/** Rebuilds the SQLite table as the initial schema made it, with or without the CHECK. */
async function rebuildSqliteTable (knex: Knex, withCheck: boolean): Promise<void> {
  await knex.schema.createTable('agent_departments_rebuilt', (t) => {
    t.integer('agent_id').unsigned().notNullable().references('agents.id').onDelete('CASCADE')
    t.integer('department_id').unsigned().notNullable().references('departments.id').onDelete('CASCADE')
    const role = t.string('role', 16).notNullable().defaultTo('agent')
    if (withCheck) role.checkIn(['view', 'agent', 'manager'], constraint)
    t.primary(['agent_id', 'department_id'])
  })
  await knex.raw('insert into agent_departments_rebuilt (agent_id, department_id, role) select agent_id, department_id, role from agent_departments')
  await knex.schema.dropTable('agent_departments')
  await knex.schema.renameTable('agent_departments_rebuilt', 'agent_departments')
  await knex.schema.alterTable('agent_departments', (t) => { t.index(['department_id']) })
}

export async function up (knex: Knex): Promise<void> {
  if (await hasConstraint(knex)) return
  if (clientOf(knex) === 'sqlite') await rebuildSqliteTable(knex, true)
  else await knex.raw(`alter table agent_departments add constraint ${constraint} check (role in ${roles})`)
}

export async function down (knex: Knex): Promise<void> {
  if (!await hasConstraint(knex)) return
  switch (clientOf(knex)) {
    case 'sqlite': await rebuildSqliteTable(knex, false); return
    case 'postgres': await knex.raw(`alter table agent_departments drop constraint ${constraint}`); return
    case 'mysql': await knex.raw(`alter table agent_departments drop constraint ${constraint}`)
  }
}
