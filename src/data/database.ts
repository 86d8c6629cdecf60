import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import knex, { type Knex } from 'knex'
import { createRequire } from 'node:module'

export type Db = Knex | Knex.Transaction

// Same relative position from src/data and dist/src/data, so source and build both find
// their own copy of the migrations.
const migrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url))

const require = createRequire(import.meta.url)

// Times and counts are BIGINT; node-postgres returns those as strings to be safe beyond
// 2^53. Ours (epoch milliseconds, row counts) are far below that, so read them as numbers.
// Loaded only when PostgreSQL is used: the driver costs memory a SQLite desk never needs.
function readBigIntsAsNumbers (): void {
  const pg = require('pg') as typeof import('pg')
  pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value))
}

export interface DatabaseOptions {
  dataDir: string
  databaseUrl: string
}

export type Dialect = 'sqlite' | 'postgres' | 'mysql'

export function dialectOf (url: string): Dialect {
  if (url === '') return 'sqlite'
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres'
  if (/^(mysql|mariadb):\/\//.test(url)) return 'mysql'
  throw new Error('DATABASE_URL must start with postgres://, postgresql://, mysql:// or mariadb://, or be empty for SQLite')
}

export function createDatabase ({ dataDir, databaseUrl }: DatabaseOptions): Knex {
  const migrations = migrationOptions()
  switch (dialectOf(databaseUrl)) {
    case 'postgres': {
      readBigIntsAsNumbers()
      // `?schema=name` keeps Tessera's tables in their own schema of a shared database.
      const url = new URL(databaseUrl)
      const schema = url.searchParams.get('schema')
      url.searchParams.delete('schema')
      return knex({
        client: 'pg',
        connection: url.toString(),
        searchPath: schema ? [schema] : undefined,
        pool: { min: 0, max: 10 },
        migrations
      })
    }
    case 'mysql': {
      const url = new URL(databaseUrl)
      return knex({
        client: 'mysql2',
        connection: {
          host: url.hostname,
          port: url.port ? Number(url.port) : 3306,
          user: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password),
          database: url.pathname.slice(1),
          charset: 'utf8mb4',
          // Reads and writes happen in UTC epoch milliseconds; no session time zone applies.
          supportBigNumbers: true,
          bigNumberStrings: false
        },
        pool: { min: 0, max: 10 },
        migrations
      })
    }
    default: {
      mkdirSync(dataDir, { recursive: true })
      const db = knex({
        client: 'sqlite3',
        connection: { filename: join(dataDir, 'tessera.sqlite') },
        useNullAsDefault: true,
        // One connection: SQLite takes one writer at a time anyway, and a single
        // connection avoids SQLITE_BUSY between our own queries.
        pool: {
          min: 1,
          max: 1,
          afterCreate (conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
            // optimize=0x10002 gathers planner statistics where they are missing or stale, so
            // queue queries pick the right index as the table grows.
            conn.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA optimize = 0x10002;',
              (err) => done(err, conn))
          }
        },
        migrations
      })
      beginImmediately(db)
      return db
    }
  }
}

/**
 * SQLite's plain BEGIN takes the write lock only at the first write; if another process
 * wrote meanwhile, that upgrade fails at once with SQLITE_BUSY instead of waiting. BEGIN
 * IMMEDIATE takes the lock up front, where busy_timeout applies, so several processes on
 * one file queue politely. Knex has no option for it, hence the override.
 */
function beginImmediately (db: Knex): void {
  interface Transaction { begin: (conn: unknown) => Promise<unknown>, query: (conn: unknown, sql: string) => Promise<unknown> }
  const client = db.client as { transaction: (...args: unknown[]) => Transaction }
  const create = client.transaction.bind(client)
  client.transaction = (...args: unknown[]) => {
    const trx = create(...args)
    trx.begin = async (conn) => await trx.query(conn, 'BEGIN IMMEDIATE;')
    return trx
  }
}

interface SqliteConnection {
  exec: (sql: string, cb: (err: Error | null) => void) => void
}

/**
 * Migrations are recorded by name without extension, so a database migrated from the
 * TypeScript sources (tests, `npm run dev`) and one migrated by the build (`npm start`)
 * agree on what has run.
 */
class MigrationSource implements Knex.MigrationSource<string> {
  private readonly extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

  async getMigrations (): Promise<string[]> {
    return readdirSync(migrationsDir)
      .filter((file) => file.endsWith(this.extension) && !file.endsWith('.d.ts'))
      .map((file) => file.slice(0, -this.extension.length))
      .sort()
  }

  getMigrationName (name: string): string {
    return name
  }

  async getMigration (name: string): Promise<Knex.Migration> {
    return await import(pathToFileURL(join(migrationsDir, name + this.extension)).href) as Knex.Migration
  }
}

function migrationOptions (): Knex.MigratorConfig {
  return { migrationSource: new MigrationSource(), tableName: 'knex_migrations' }
}

export async function migrateToLatest (db: Knex): Promise<void> {
  await db.migrate.latest(migrationOptions())
}

export function dialectOfDb (db: Db): Dialect {
  const client = (db.client as { config: { client: string } }).config.client
  return client === 'pg' ? 'postgres' : client === 'mysql2' ? 'mysql' : 'sqlite'
}

/**
 * The id of a row just inserted with `.returning('id')`: PostgreSQL hands back `{ id }`,
 * SQLite and MySQL the bare number.
 */
export function insertedId (row: unknown): number {
  return typeof row === 'object' && row !== null ? Number((row as { id: unknown }).id) : Number(row)
}

/** True when the error is a unique-constraint violation, whichever database raised it. */
export function isUniqueViolation (err: unknown): boolean {
  const e = err as { code?: string, errno?: number, message?: string }
  return (e.code === 'SQLITE_CONSTRAINT' && /UNIQUE/.test(e.message ?? '')) ||
    e.code === '23505' || e.code === 'ER_DUP_ENTRY'
}
