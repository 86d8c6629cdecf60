import { createHash, randomBytes } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import knex, { type Knex } from 'knex'
import { createDatabase, dialectOf, migrateToLatest } from '../../src/data/database.js'

/*
 * Most tests want a database at the latest migration, and running forty migrations for each
 * of a thousand apps was most of the suite's time on MariaDB (about 4 s an app). tap's
 * `before` script migrates one template per set of migrations; each test then copies it: a
 * file copy on SQLite, and the template's own CREATE TABLE statements and rows on
 * MariaDB/MySQL (PostgreSQL migrates a schema per test: see prepareTemplate). Tests of the
 * migrations themselves still start from an empty database (freshDatabaseUrl), and a test
 * run without tap's `before` script finds no template and migrates as the app always does.
 *
 * The template's name carries a hash of the migrations, so runs in other work trees with
 * other migrations never share one, and a changed migration never meets a stale copy.
 */

const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url))

function migrationsHash (): string {
  const hash = createHash('sha256')
  for (const file of readdirSync(migrationsDir).sort()) {
    hash.update(file).update(readFileSync(join(migrationsDir, file)))
  }
  return hash.digest('hex').slice(0, 12)
}

const templateName = `tessera_template_${migrationsHash()}`
const sqliteTemplate = join(tmpdir(), 'tessera-test-templates', `${templateName}.sqlite`)

function serverUrl (): string {
  return process.env.TEST_DATABASE_URL ?? ''
}

/** Run once by tap before the test files: make this set of migrations' template if it is missing. */
export async function prepareTemplate (): Promise<void> {
  const server = serverUrl()
  switch (dialectOf(server)) {
    case 'sqlite': {
      if (existsSync(sqliteTemplate)) return
      const dir = join(tmpdir(), 'tessera-test-templates', `building-${process.pid}-${randomBytes(4).toString('hex')}`)
      const db = createDatabase({ dataDir: dir, databaseUrl: '' })
      try {
        await migrateToLatest(db)
        // One file, with nothing left in the write-ahead log.
        await db.raw('PRAGMA wal_checkpoint(TRUNCATE)')
      } finally {
        await db.destroy()
      }
      renameSync(join(dir, 'tessera.sqlite'), sqliteTemplate)
      rmSync(dir, { recursive: true, force: true })
      return
    }
    case 'postgres':
      // CREATE DATABASE … TEMPLATE is quick, but dropping a database waits for a checkpoint:
      // together no faster than migrating a schema of its own, which tests keep doing.
      return
    case 'mysql': {
      const admin = knex({ client: 'mysql2', connection: server, pool: { min: 1, max: 1 } })
      try {
        // Runs in other work trees may build the same template at the same moment.
        await admin.raw('select get_lock(?, 300)', [templateName])
        if (await mysqlTemplateReady(admin)) return
        await admin.raw(`drop database if exists ${templateName}`)
        await admin.raw(`create database ${templateName} character set utf8mb4 collate utf8mb4_bin`)
        const db = createDatabase({ dataDir: tmpdir(), databaseUrl: withDatabase(server, templateName) })
        try { await migrateToLatest(db) } finally { await db.destroy() }
        // Written last: a template without it is incomplete, and tests migrate for themselves.
        await admin.raw(`create table ${templateName}.template_ready (id int)`)
      } finally {
        await admin.raw('select release_lock(?)', [templateName])
        await admin.destroy()
      }
    }
  }
}

async function mysqlTemplateReady (admin: Knex): Promise<boolean> {
  const [rows] = await admin.raw('select 1 from information_schema.tables where table_schema = ? and table_name = ?', [templateName, 'template_ready'])
  return (rows as unknown[]).length > 0
}

function withDatabase (server: string, database: string): string {
  const url = new URL(server)
  url.pathname = `/${database}`
  return url.toString()
}

/** Put a copy of the migrated template in a SQLite data folder; false when there is none. */
export function copySqliteTemplate (dataDir: string): boolean {
  const target = join(dataDir, 'tessera.sqlite')
  if (!existsSync(sqliteTemplate) || existsSync(target)) return false
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  copyFileSync(sqliteTemplate, target)
  return true
}

/**
 * A new database on the MariaDB/MySQL test server holding a copy of the template; false when
 * there is no template (the database is then created empty, and the app migrates it).
 */
export async function createFromTemplate (admin: Knex, name: string): Promise<boolean> {
  await admin.raw(`create database ${name} character set utf8mb4 collate utf8mb4_bin`)
  if (!await mysqlTemplateReady(admin)) return false
  const [tables] = await admin.raw(
    'select table_name as name from information_schema.tables where table_schema = ? and table_type = ? and table_name <> ?',
    [templateName, 'BASE TABLE', 'template_ready'])
  const names = (tables as Array<{ name: string }>).map((row) => row.name)
  // The admin connection is a pool of one, so the session's foreign_key_checks covers every
  // statement (DDL cannot sit in a transaction on MySQL: each one commits).
  await admin.raw('set foreign_key_checks = 0')
  try {
    for (const table of names) {
      const [[row]] = await admin.raw(`show create table ${templateName}.??`, [table])
      await admin.raw(`use ${name}`)
      await admin.raw((row as Record<string, string>)['Create Table'] as string)
      await admin.raw(`insert into ${name}.?? select * from ${templateName}.??`, [table, table])
    }
  } finally {
    await admin.raw('set foreign_key_checks = 1')
  }
  return true
}
