import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import knex, { type Knex } from 'knex'
import { createRequire } from 'node:module'
import { isDeepStrictEqual } from 'node:util'

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
  /** SQLite: the WAL's length in pages past which a checkpoint empties it (tests: a short one). */
  walRestartPages?: number
}

export type Dialect = 'sqlite' | 'postgres' | 'mysql'

export function dialectOf (url: string): Dialect {
  if (url === '') return 'sqlite'
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres'
  if (/^(mysql|mariadb):\/\//.test(url)) return 'mysql'
  throw new Error('DATABASE_URL must start with postgres://, postgresql://, mysql:// or mariadb://, or be empty for SQLite')
}

/** How long to wait for a connection, and the longest one statement may run. */
export const timeouts = { connectMs: 5000, statementMs: 15_000 }

// Knex prints every failed connection attempt with a stack trace; the error that reaches
// the caller (a 503, or the one line at start) says it better.
const log = {
  warn (message: unknown): void {
    if (!/^Acquire connection error/.test(String(message))) console.warn(message)
  }
}

export function createDatabase ({ dataDir, databaseUrl, walRestartPages = defaultWalRestartPages }: DatabaseOptions): Knex {
  const migrations = migrationOptions()
  // A database that stops answering must fail requests quickly (503), not hold them.
  const acquireConnectionTimeout = timeouts.connectMs
  switch (dialectOf(databaseUrl)) {
    case 'postgres': {
      readBigIntsAsNumbers()
      // `?schema=name` keeps Tessera's tables in their own schema of a shared database.
      const url = new URL(databaseUrl)
      const schema = url.searchParams.get('schema')
      url.searchParams.delete('schema')
      return knex({
        client: 'pg',
        connection: {
          connectionString: url.toString(),
          connectionTimeoutMillis: timeouts.connectMs,
          // Server side: PostgreSQL cancels a longer statement. Client side: a server that
          // stops answering altogether is given up on a little later.
          statement_timeout: timeouts.statementMs,
          query_timeout: timeouts.statementMs + 1000,
          // Neither JIT compilation nor parallel workers: Tessera's statements take
          // milliseconds, and requests already run side by side on every core. Compiling a
          // statement takes hundreds of milliseconds, and the planner compiles any whose
          // estimated cost is high; a search's estimate counts every branch that might run
          // (older matches, read only when the newest are too few), so at a million tickets a
          // search that ran in 6 ms spent 898 ms compiling. Starting parallel workers took
          // 40–50 ms per gather here, several per search. With both on, searches at a million
          // tickets took 0.5–1 s; with both off, tens of milliseconds. A connection string's
          // own `options` wins.
          options: '-c jit=off -c max_parallel_workers_per_gather=0'
        },
        searchPath: schema ? [schema] : undefined,
        pool: { min: 0, max: 10 },
        acquireConnectionTimeout,
        log,
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
          bigNumberStrings: false,
          connectTimeout: timeouts.connectMs
        },
        pool: {
          min: 0,
          max: 10,
          afterCreate (conn: MysqlConnection, done: (err: Error | null, conn: MysqlConnection) => void) {
            // MariaDB names the limit max_statement_time (seconds), MySQL max_execution_time
            // (milliseconds, SELECTs only); each server refuses the other's name.
            conn.query(`SET SESSION max_statement_time = ${timeouts.statementMs / 1000}`, (mariaErr) => {
              if (mariaErr === null) { done(null, conn); return }
              conn.query(`SET SESSION max_execution_time = ${timeouts.statementMs}`, (mysqlErr) => done(mysqlErr, conn))
            })
          }
        },
        acquireConnectionTimeout,
        log,
        migrations
      })
    }
    default: {
      const filename = join(dataDir, 'tessera.sqlite')
      createPrivateFiles(dataDir, filename)
      const db = knex({
        client: 'sqlite3',
        connection: { filename },
        useNullAsDefault: true,
        acquireConnectionTimeout,
        log,
        // One connection writes: SQLite takes one writer at a time anyway, and a single
        // writer never meets SQLITE_BUSY from our own writes (whose wait is a sleep).
        pool: {
          min: 1,
          max: 1,
          afterCreate (conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
            // optimize=0x10002 gathers planner statistics where they are missing or stale, so
            // queue queries pick the right index as the table grows.
            // wal_autocheckpoint = 0: the writer never checkpoints; checkpointBesideWriter does.
            // temp_store = MEMORY: a statement that writes several rows in a transaction keeps
            // the pages it may have to undo in a statement journal, by default a temporary
            // file made and deleted for every such statement (a tenth of the writer's time
            // when tickets are created). Only the writer: a reader's sort that outgrows its
            // cache should spill to disk, not to memory.
            conn.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY; PRAGMA optimize = 0x10002;',
              (err) => done(err, conn))
          }
        },
        migrations
      })
      beginImmediately(db)
      reuseStatements(db)
      compileForSqlite(db)
      const reader = knex({
        client: 'sqlite3',
        connection: { filename },
        useNullAsDefault: true,
        acquireConnectionTimeout,
        log,
        pool: {
          min: 0,
          max: sqliteReaders,
          afterCreate (conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) {
            conn.exec('PRAGMA busy_timeout = 5000; PRAGMA query_only = 1;', (err) => done(err, conn))
          }
        }
      })
      reuseStatements(reader)
      compileForSqlite(reader)
      readOnSeveralConnections(db, reader)
      checkpointBesideWriter(db, reader, walRestartPages)
      return db
    }
  }
}

/**
 * Connections that only read, beside the one that writes. In WAL mode readers do not wait
 * for the writer nor for each other, and each statement of node-sqlite3 runs on one of
 * libuv's four threads: staff pages, which only read, no longer queue behind one another.
 */
const sqliteReaders = 3

/**
 * Copies what the writer wrote to the WAL back into the database file (a checkpoint) on a
 * reader connection, a moment after writes, instead of on the writer. SQLite checkpoints on
 * the connection that commits once the WAL holds 1,000 pages, inside that COMMIT: under a
 * stream of new tickets one commit in ten or so took 4–13 ms instead of under one (the
 * copy, and the file syncs), and every transaction queued behind it waited. A PASSIVE
 * checkpoint on another connection runs beside the writer and never waits for it.
 *
 * A PASSIVE checkpoint stops at what a reader still reads from the WAL, and the WAL starts
 * over only at a write that finds no reader in it: under a steady stream of page views and
 * new tickets it grew past 700 MB, and every read then looked for each page through the
 * WAL's index, which halved the staff pages' throughput. So a checkpoint that could not
 * copy everything is tried again until it has, writes or not, and a WAL longer than
 * `walRestartPages` is copied whole and emptied (TRUNCATE): that waits for the readers in
 * it to finish (milliseconds; new ones read the database file) and holds writers meanwhile.
 */
function checkpointBesideWriter (db: Knex, reader: Knex, walRestartPages: number): void {
  let planned: NodeJS.Timeout | undefined
  const pool = reader.client as { acquireConnection: () => Promise<SqliteConnection>, releaseConnection: (conn: SqliteConnection) => Promise<unknown> }
  const plan = (): void => { planned ??= setTimeout(() => { checkpoint().catch(() => undefined) }, checkpointDelayMs).unref() }
  // On the connection itself, not as a query: whoever counts a page's statements counts ours only.
  const checkpoint = async (): Promise<void> => {
    planned = undefined
    const conn = await pool.acquireConnection()
    try {
      let wal = await walCheckpoint(conn, 'PASSIVE')
      if (wal.log > walRestartPages) wal = await walCheckpoint(conn, 'TRUNCATE')
      if (wal.checkpointed < wal.log) plan()
    } finally {
      await pool.releaseConnection(conn)
    }
  }
  db.on('query-response', (_response: unknown, query: { sql?: string }) => {
    // A checkpoint that fails (the pool closing, in a test's teardown) is tried again after the next write.
    if (writes.test(query.sql ?? '')) plan()
  })
  const client = db.client as { destroy: (callback?: unknown) => Promise<unknown> }
  const destroy = client.destroy.bind(client)
  client.destroy = async (callback) => {
    clearTimeout(planned)
    return await destroy(callback)
  }
}

/** A WAL longer than this many pages (64 MB of 4 KB pages) is emptied at the next checkpoint. */
const defaultWalRestartPages = 16_384

/** Pages in the WAL and pages of it copied to the database file, as `PRAGMA wal_checkpoint` reports them. */
async function walCheckpoint (conn: SqliteConnection, mode: 'PASSIVE' | 'TRUNCATE'): Promise<{ log: number, checkpointed: number }> {
  const statement = conn.prepare(`PRAGMA wal_checkpoint(${mode})`, () => undefined)
  try {
    const rows = await new Promise<unknown[]>((resolve, reject) => {
      statement.all([], (err, rows) => { if (err === null) resolve(rows ?? []); else reject(err) })
    })
    const row = rows[0] as { log?: number, checkpointed?: number } | undefined
    return { log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 }
  } finally {
    statement.finalize()
  }
}

/** How long after a write the WAL is checkpointed: writes that follow within it share the checkpoint. */
const checkpointDelayMs = 200
const writes = /^\s*(insert|update|delete|replace|commit)\b/i

/**
 * Sends every SELECT made outside a transaction to `reader`; everything else (writes,
 * transactions, raw SQL, migrations) stays on `db`'s one connection. A read that follows
 * a write sees it: the write has committed when its promise settles. The readers' events
 * are `db`'s, so whoever counts statements on `db` still counts them all.
 */
function readOnSeveralConnections (db: Knex, reader: Knex): void {
  interface Builder { _method?: string }
  const client = db.client as {
    runner: (builder: Builder) => unknown
    emit: (event: string, ...args: unknown[]) => void
    destroy: (callback?: unknown) => Promise<unknown>
  }
  const readerClient = reader.client as typeof client & { on: (event: string, listener: (...args: unknown[]) => void) => void }
  const write = client.runner.bind(client)
  const reads = new Set(['select', 'first', 'pluck'])
  client.runner = (builder) => reads.has(builder._method ?? '') ? readerClient.runner(builder) : write(builder)
  for (const event of ['start', 'query', 'query-error', 'query-response']) {
    readerClient.on(event, (...args) => client.emit(event, ...args))
  }
  // knex.destroy() is read-only; it ends by destroying its client.
  const destroy = client.destroy.bind(client)
  client.destroy = async (callback) => {
    await reader.destroy()
    return await destroy(callback)
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

/**
 * Keeps each connection's prepared statements for the next query with the same SQL. Knex
 * hands node-sqlite3 the text every time, and preparing and finalising it costs about as
 * much as running a small query: reuse halves the cost of a page's reads. A statement takes
 * memory in proportion to its text (about 25 bytes a character), so each connection keeps
 * the most recently used texts up to 100,000 characters in all (an IN list of each length is
 * a text of its own), and a text over 20,000 (a batch of rows) is prepared for its one run
 * only: a staff ticket page's one statement, the longest a page reads, is about 7,300. A
 * statement that failed is finalised, not reused.
 */
function reuseStatements (db: Knex): void {
  // A transaction's client is made from the class of db's client, not from db's client
  // itself: so the change goes into a class of its own, which db's client then takes.
  const Client = db.client.constructor as new (...args: never[]) => KnexSqliteClient
  class ReusingClient extends Client {
    override async _query (conn: SqliteConnection, query: SqliteQuery): Promise<SqliteQuery> {
      if (!query.sql) throw new Error('The query is empty')
      const keep = query.sql.length <= keptTextAtMost
      const ready = keep ? preparedOn(conn, query.sql) : prepare(conn, query.sql)
      let prepared: SqliteStatement
      try {
        prepared = await ready
      } catch (err) {
        if (keep) forgetStatement(conn, query.sql, ready)
        throw err
      }
      // As Knex's own _query: inserts and updates that return rows, and plain reads, need all().
      const { method } = query
      const returnsRows = !(method === 'counter' || method === 'del' || ((method === 'insert' || method === 'update') && !query.returning))
      return await new Promise((resolve, reject) => {
        prepared[returnsRows ? 'all' : 'run'](query.bindings ?? [], function (this: SqliteRunResult, err: Error | null, rows?: unknown[]) {
          if (!keep) prepared.finalize()
          if (err !== null) {
            if (keep) forgetStatement(conn, query.sql, ready)
            reject(err)
            return
          }
          query.response = rows
          // The statement is reused; its lastID and changes belong to this run only.
          query.context = { lastID: this.lastID, changes: this.changes }
          resolve(query)
        })
      })
    }

    // SQLite refuses to close a connection that still holds prepared statements.
    override async destroyRawConnection (conn: SqliteConnection): Promise<void> {
      const statements = [...keptStatements.get(conn)?.byText.values() ?? []]
      keptStatements.delete(conn)
      await Promise.all(statements.map(async (statement) => {
        const prepared = await statement.catch(() => undefined)
        await new Promise<void>((resolve) => prepared === undefined ? resolve() : prepared.finalize(() => resolve()))
      }))
      await super.destroyRawConnection(conn)
    }
  }
  Object.setPrototypeOf(db.client, ReusingClient.prototype)
}

/**
 * How Knex writes SQLite's SQL, changed in two ways:
 *
 * - LIMIT and OFFSET as numbers in the SQL text, not as bindings. SQLite plans a statement
 *   once, when it is prepared (and ours are prepared once and kept): it sorts for a LIMIT it
 *   knows by keeping only that many rows, but must prepare for any number behind a binding.
 *   A staff ticket page's statement ran in 105 µs with its LIMIT written, 285 µs with it
 *   bound; a queue page's in 190–260 against 330–350. Knex has already made each an integer
 *   (anything else it ignores), so nobody's text reaches the SQL this way.
 * - Several rows inserted at once as one VALUES list. Knex writes them as
 *   `select ? as "a", ? as "b" union all select …`, for SQLite before 3.7.11 (2012): each
 *   row repeats every column's name, so ten new tickets made a text of ~10,000 characters
 *   to build, to keep among the prepared statements and to parse, where the list needs ~1,000.
 */
function compileForSqlite (db: Knex): void {
  interface SqlCompiler {
    single: Record<string, unknown>
    _getValueOrParameterFromAttribute (attribute: string, rawValue?: unknown): unknown
    insert (): unknown
  }
  /** The parts of Knex's compiler that its own insert() is made of. */
  interface InsertParts {
    client: { parameterize (values: unknown[], notSetValue: unknown, builder: unknown, bindingsHolder: unknown): string, valueForUndefined: unknown }
    builder: unknown
    bindingsHolder: unknown
    tableName: string
    formatter: { columnize (columns: unknown[]): string }
    with (): string
    where (): string
    _prepInsert (data: unknown): string | { columns: unknown[], values: unknown[][] }
    _ignore (onConflict: unknown): string
    _merge (updates: unknown, onConflict: unknown, insertValues: unknown): string
    _returning (returning: unknown): string
  }
  interface CompilingClient { queryCompiler (builder: unknown, formatter?: unknown): SqlCompiler }
  const Client = db.client.constructor as new (...args: never[]) => CompilingClient
  const Compiler = (db.client as CompilingClient).queryCompiler(db.queryBuilder()).constructor as new (...args: unknown[]) => SqlCompiler
  class SqliteCompiler extends Compiler {
    override _getValueOrParameterFromAttribute (attribute: string, rawValue?: unknown): unknown {
      const value = this.single[attribute]
      if ((attribute === 'limit' || attribute === 'offset') && Number.isSafeInteger(value)) return value
      return super._getValueOrParameterFromAttribute(attribute, rawValue)
    }

    override insert (): unknown {
      const rows = this.single.insert
      if (!Array.isArray(rows) || rows.length < 2) return super.insert()
      const parts = this as unknown as InsertParts
      const data = parts._prepInsert(rows)
      if (typeof data === 'string' || data.columns.length === 0) return super.insert()
      const { client, builder, bindingsHolder } = parts
      const values = data.values.map((row) => `(${client.parameterize(row, client.valueForUndefined, builder, bindingsHolder)})`)
      let sql = `${parts.with()}insert into ${parts.tableName} (${parts.formatter.columnize(data.columns)}) values ${values.join(', ')}`
      // As Knex's own single-row insert, which already writes a VALUES list.
      const { onConflict, ignore, merge, returning } = this.single as { onConflict?: unknown, ignore?: unknown, merge?: { updates: unknown }, returning?: unknown }
      if (onConflict && ignore) sql += parts._ignore(onConflict)
      else if (onConflict && merge) {
        sql += parts._merge(merge.updates, onConflict, rows)
        const wheres = parts.where()
        if (wheres) sql += ` ${wheres}`
      }
      if (returning) sql += parts._returning(returning)
      return { sql, returning }
    }
  }
  class SqliteCompilingClient extends Client {
    override queryCompiler (builder: unknown, formatter?: unknown): SqlCompiler {
      return new SqliteCompiler(this, builder, formatter)
    }
  }
  Object.setPrototypeOf(db.client, SqliteCompilingClient.prototype)
}

/** A connection's statements by text, most recently used last, and the length of their texts. */
const keptStatements = new WeakMap<SqliteConnection, { byText: Map<string, Promise<SqliteStatement>>, length: number }>()
const keptLengthAtMost = 100_000
const keptTextAtMost = 20_000

// A statement that fails to prepare never calls back a later run: it is waited for first.
async function prepare (conn: SqliteConnection, sql: string): Promise<SqliteStatement> {
  return await new Promise((resolve, reject) => {
    const prepared: SqliteStatement = conn.prepare(sql, (err) => { err === null ? resolve(prepared) : reject(err) })
  })
}

/** The connection's statement for this text, prepared now if it is not kept (and then kept). */
function preparedOn (conn: SqliteConnection, sql: string): Promise<SqliteStatement> {
  let kept = keptStatements.get(conn)
  if (kept === undefined) keptStatements.set(conn, kept = { byText: new Map(), length: 0 })
  let statement = kept.byText.get(sql)
  if (statement === undefined) {
    statement = prepare(conn, sql)
    kept.length += sql.length
    for (const [oldest, stale] of kept.byText) {
      if (kept.length <= keptLengthAtMost) break
      forgetStatement(conn, oldest, stale)
    }
  } else {
    kept.byText.delete(sql)
  }
  kept.byText.set(sql, statement)
  return statement
}

/**
 * Lets go of a statement that failed or is the least used, so its text is prepared afresh
 * next time; unless the connection already keeps another for that text.
 */
function forgetStatement (conn: SqliteConnection, sql: string, statement: Promise<SqliteStatement>): void {
  const kept = keptStatements.get(conn)
  if (kept?.byText.get(sql) === statement) {
    kept.byText.delete(sql)
    kept.length -= sql.length
  }
  statement.then((s) => s.finalize(), () => {})
}

interface KnexSqliteClient {
  _query (conn: SqliteConnection, query: SqliteQuery): Promise<SqliteQuery>
  destroyRawConnection (conn: SqliteConnection): Promise<void>
}

interface SqliteConnection {
  exec: (sql: string, cb: (err: Error | null) => void) => void
  prepare: (sql: string, cb: (err: Error | null) => void) => SqliteStatement
}

type SqliteCallback = (this: SqliteRunResult, err: Error | null, rows?: unknown[]) => void

interface SqliteStatement {
  all: (bindings: unknown[], cb: SqliteCallback) => void
  run: (bindings: unknown[], cb: SqliteCallback) => void
  finalize: (cb?: () => void) => void
}

interface SqliteRunResult { lastID: number, changes: number }

interface SqliteQuery {
  sql: string
  bindings?: unknown[]
  method?: string
  returning?: unknown
  response?: unknown
  context?: SqliteRunResult
}

interface MysqlConnection {
  query: (sql: string, cb: (err: Error | null) => void) => void
}

/**
 * The data folder 700 and the database 600 whatever the umask: tickets are private. SQLite
 * gives its -wal and -shm files the database file's mode, so creating the file first is
 * enough for new installs; older installs are tightened on start.
 */
function createPrivateFiles (dataDir: string, filename: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  chmodSync(dataDir, 0o700)
  closeSync(openSync(filename, 'a', 0o600))
  for (const file of [filename, filename + '-wal', filename + '-shm']) {
    if (existsSync(file)) chmodSync(file, 0o600)
  }
}

/** The database cannot be reached or does not answer: worth a retry later, not a bug. */
export class DatabaseUnavailableError extends Error {
  readonly code = 'TESSERA_DATABASE_UNAVAILABLE'
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'DatabaseUnavailableError'
  }
}

const unavailableCodes = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_STATEMENT_TIMEOUT', 'ER_QUERY_TIMEOUT',
  // PostgreSQL: query_canceled (statement_timeout), admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
  '57014', '57P01', '57P02', '57P03', '53300',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_READONLY',
  // A row lock waited for too long: too busy for now, not a wrong query.
  'ER_LOCK_WAIT_TIMEOUT', '55P03'
])
// MariaDB's max_statement_time and MySQL's max_execution_time errors.
const unavailableErrnos = new Set([1969, 3024])

/** True when an error means the database is out of reach or too slow, not that a query is wrong. */
export function isDatabaseUnavailable (err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true
  const e = err as { name?: string, code?: string, errno?: number, message?: string } | null
  if (e === null || typeof e !== 'object') return false
  if (e.name === 'KnexTimeoutError') return true
  // A deadlock's victim still, after it ran again (transactionRetryingDeadlocks): too busy too.
  if (isDeadlockVictim(err)) return true
  if (e.code !== undefined && unavailableCodes.has(e.code)) return true
  if (e.errno !== undefined && unavailableErrnos.has(e.errno)) return true
  // node-postgres reports its client-side timeouts and a lost server only in words;
  // Knex, likewise, when its pool has been destroyed.
  return /^(Query read timeout|Connection terminated|timeout expired|Unable to acquire a connection)/.test(e.message ?? '')
}

/**
 * One round trip within the connect timeout, so a desk started against a database that is
 * down says so in one line at once instead of failing later with a stack trace.
 */
/** Where the database is, for people: the SQLite file, or host, port and database (never a password). */
export function databaseLocation ({ dataDir, databaseUrl }: DatabaseOptions): string {
  return databaseUrl === '' ? join(dataDir, 'tessera.sqlite') : hostOf(databaseUrl)
}

export async function checkConnection (db: Knex, options: DatabaseOptions): Promise<void> {
  const where = databaseLocation(options)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailableError(`no answer within ${timeouts.connectMs / 1000} s`)), timeouts.connectMs + 500)
  })
  try {
    await Promise.race([db.raw('select 1'), timeout])
  } catch (err) {
    throw new DatabaseUnavailableError(`Cannot use the database at ${where}: ${describeProblem(err)}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
}

function hostOf (databaseUrl: string): string {
  const url = new URL(databaseUrl)
  const port = url.port || (dialectOf(databaseUrl) === 'postgres' ? '5432' : '3306')
  return `${url.hostname}:${port}${url.pathname.length > 1 ? url.pathname : ''}`
}

function describeProblem (err: unknown): string {
  const e = err as { name?: string, code?: string, message?: string }
  if (e.code === 'ECONNREFUSED') return 'connection refused (is the server running, and on this port?)'
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return 'host name not found'
  if (e.name === 'KnexTimeoutError' || e.code === 'ETIMEDOUT' || /timeout|no answer/i.test(e.message ?? '')) {
    return `no answer within ${timeouts.connectMs / 1000} s (a firewall, or a server that is not a database?)`
  }
  if (e.code === '28P01' || e.code === '28000' || e.code === 'ER_ACCESS_DENIED_ERROR') return 'access denied (check the user name and password)'
  if (e.code === '3D000' || e.code === 'ER_BAD_DB_ERROR') return 'no such database'
  return (e.message ?? String(err)).split('\n')[0] ?? 'unknown error'
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

/**
 * Brings the schema up to date. On PostgreSQL and MySQL the migrations run on a connection
 * of their own, without the per-statement limits that keep requests from hanging (see
 * `withoutLimits`): on a large desk an upgrade rebuilds indexes and tables for minutes.
 */
export async function migrateToLatest (db: Knex): Promise<void> {
  await withoutLimits(db, async (own) => { await own.migrate.latest(migrationOptions()) })
}

/**
 * Runs `work` on a connection of its own without the limits every request's statement has
 * (PostgreSQL's statement and read timeouts, and its settings for short statements; MySQL's
 * max_statement_time is set by the pool's hook, which this connection does not have), for
 * work that may take minutes: migrations, and a benchmark's VACUUM. SQLite has no such
 * limit, so there it is the same database.
 */
export async function withoutLimits<T> (db: Knex, work: (own: Knex) => Promise<T>): Promise<T> {
  if (dialectOfDb(db) === 'sqlite') return await work(db)
  const config = db.client.config as Knex.Config
  const connection = { ...config.connection as Record<string, unknown> }
  delete connection.statement_timeout
  delete connection.query_timeout
  // Long statements are what JIT and parallel workers are for (see createDatabase).
  delete connection.options
  const own = knex({ client: config.client, connection, searchPath: config.searchPath, pool: { min: 0, max: 1 }, log })
  try {
    return await work(own)
  } finally {
    await own.destroy()
  }
}

export function dialectOfDb (db: Db): Dialect {
  const client = (db.client as { config: { client: string } }).config.client
  return client === 'pg' ? 'postgres' : client === 'mysql2' ? 'mysql' : 'sqlite'
}

/** A list a page shows: its query, the names its columns come out under, what its rows become. */
export interface ListRead<Result> {
  query: ListQuery
  columns: readonly string[]
  then: (rows: never[]) => Result
}

type ListQuery = Knex.QueryBuilder | PreparedQuery

/** A list of `query`'s rows as they are, or as `then` makes them. */
export function listOf<Row, Result = Row[]> (query: ListQuery, columns: readonly string[], then?: (rows: Row[]) => Result): ListRead<Result> {
  return { query, columns, then: (then ?? ((rows: Row[]) => rows)) as (rows: never[]) => Result }
}

/** The same list, what it reads made into something else. */
export function mapList<From, To> (list: ListRead<From>, map: (read: From) => To): ListRead<To> {
  return { ...list, then: (rows) => map(list.then(rows)) }
}

type ListsRead<Lists extends Record<string, ListRead<unknown>>> = { [Name in keyof Lists]: Lists[Name] extends ListRead<infer Result> ? Result : never }

/**
 * Several lists a page shows (a ticket's thread, its viewers, its files…), read together.
 *
 * node-sqlite3 turns each value of each row into a JavaScript value one call at a time on
 * the main thread, about 0.3 µs a value (14 columns of 51 rows cost a queue page 0.2 ms, and
 * as much again on the thread that copied them out of SQLite), and each statement is a trip
 * to a pool thread and back. So on SQLite the lists come back from one statement, each list
 * as one JSON text that SQLite writes and JSON.parse reads, each row an array of its values
 * (half the text of an object naming each one, which SQLite writes and JSON.parse reads in
 * less time; the rows get their names here). An aggregate over a subquery
 * with ORDER BY keeps the subquery's order (SQLite never flattens such a subquery into it).
 * The statement is written by hand from the lists' own SQL, which prepared reads (see
 * `preparedRead`) have ready. Other databases run the lists' queries side by side.
 */
export async function readLists<Lists extends Record<string, ListRead<unknown>>> (db: Db, lists: Lists): Promise<ListsRead<Lists>> {
  const names = Object.keys(lists)
  let rowsOf: unknown[][]
  if (dialectOfDb(db) === 'sqlite') {
    const bindings: unknown[] = []
    const parts: unknown[] = []
    const read = names.map((name) => {
      const statement = statementOf(lists[name]!.query)
      const shape = listShape(lists[name]!.columns)
      bindings.push(...statement.bindings)
      parts.push(name, shape, statement.sql)
      return { sql: statement.sql, shape }
    })
    const sql = listsText(parts, () => 'select ' + names.map((name, i) =>
      `(select json_group_array(json_array(${read[i]!.shape.values})) from (${read[i]!.sql}) as listed) as "${plainName(name)}"`).join(', '))
    const [row] = await runnable(db, { method: 'select', sql }, bindings) as Array<Record<string, string>>
    rowsOf = names.map((name, i) => (JSON.parse(row![name]!) as unknown[][]).map(read[i]!.shape.row))
  } else {
    rowsOf = await Promise.all(names.map(async (name) => await lists[name]!.query as unknown[]))
  }
  return Object.fromEntries(names.map((name, i) => [name, lists[name]!.then(rowsOf[i] as never[])])) as ListsRead<Lists>
}

function plainName (name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`readLists: "${name}" is not a plain column name`)
  return name
}

/** How SQLite writes the rows of a list with these columns, and how they are read back. */
interface ListShape {
  /**
   * `"listed"."id", "listed"."name"…` for SQLite's json_array. The names are our own (written
   * in the data functions, never typed by anyone), so they go into the text as they are: as
   * bindings, Knex spent longer on a ticket page's hundred of them than SQLite on the
   * statement.
   */
  values: string
  /**
   * A row read as an array of values, as an object with the columns' names in their order,
   * written as one object literal: added a name at a time through a variable, each value
   * took V8's slowest way to store a property.
   */
  row: (values: unknown[]) => Record<string, unknown>
}

/** The shape of a list, made once for each list of columns. */
function listShape (columns: readonly string[]): ListShape {
  let shape = listShapes.get(columns)
  if (shape === undefined) {
    // A list written inline is a new array on each call, with the same names.
    const names = columns.join(',')
    shape = listShapesByNames.get(names)
    if (shape === undefined) {
      if (listShapesByNames.size >= 1000) listShapesByNames.clear()
      const fields = columns.map((column, i) => `${JSON.stringify(plainName(column))}: values[${i}]`)
      shape = {
        values: columns.map((column) => `"listed"."${column}"`).join(', '),
        // eslint-disable-next-line no-new-func -- plain column names of our own (plainName), never text anyone typed
        row: new Function('values', `return { ${fields.join(', ')} }`) as ListShape['row']
      }
      listShapesByNames.set(names, shape)
    }
    listShapes.set(columns, shape)
  }
  return shape
}
const listShapes = new WeakMap<readonly string[], ListShape>()
const listShapesByNames = new Map<string, ListShape>()

/**
 * The statement text of several lists, kept by what it is made of: each list's name, columns
 * and SQL. A prepared read's SQL is the same string on every call, which V8 has hashed once;
 * the text joined from them would be a new string of thousands of characters, hashed again
 * on every request to find the connection's prepared statement.
 */
function listsText (parts: readonly unknown[], write: () => string): string {
  let node = listsTexts
  for (const part of parts) {
    let next = node.next.get(part)
    if (next === undefined) node.next.set(part, next = { next: new Map() })
    node = next
  }
  if (node.text === undefined) {
    // A bound of how many texts are kept: the pages' sets of lists are few.
    if (++listsTextCount > 1000) {
      listsTexts.next.clear()
      listsTextCount = 0
    }
    node.text = write()
  }
  return node.text
}
interface ListsTextNode { text?: string, next: Map<unknown, ListsTextNode> }
const listsTexts: ListsTextNode = { next: new Map() }
let listsTextCount = 0

/**
 * A long select list, written out once for each kind of database: Knex quotes every name of
 * a list again for each query, 57 µs for a ticket's 55 columns against 13 µs for the same
 * list handed over as written. For the lists pages read on every request; `columns` is a
 * constant of the data function (`x.y` or `x.y as z`).
 */
export function selectList (db: Db, columns: readonly string[]): Knex.Raw {
  const dialect = dialectOfDb(db)
  let written = writtenLists.get(columns)
  if (written === undefined) writtenLists.set(columns, written = new Map())
  let sql = written.get(dialect)
  if (sql === undefined) written.set(dialect, sql = db.raw('??', [[...columns]]).toSQL().sql)
  return db.raw(sql)
}
const writtenLists = new WeakMap<readonly string[], Map<Dialect, string>>()

/** The name a column of a select list comes out under: `x.y as z` is z, `x.y` is y. */
export function outputName (column: string): string {
  return / as (\w+)$/.exec(column)?.[1] ?? column.slice(column.lastIndexOf('.') + 1)
}

/** One list, read as `readLists` reads several. */
export async function readList<Result> (db: Db, list: ListRead<Result>): Promise<Result> {
  return (await readLists(db, { list })).list
}

/**
 * What a prepared read's values may hold. Strings and numbers are bound into the statement;
 * everything else (booleans, nulls, the length of each list, the names of an object's keys)
 * is its shape, which may change the SQL text.
 */
export type ReadValues = string | number | boolean | null | undefined | readonly ReadValues[] | { readonly [key: string]: ReadValues }

interface Compiled {
  method: string
  sql: string
  bindings?: readonly unknown[]
}

interface Template {
  compiled: Compiled
  /** Each binding of the statement: the index of one of the values' strings or numbers, or a constant of the text. */
  slots: ReadonlyArray<number | { constant: unknown }>
}

type Build<Values, Shape> = (db: Db, values: Values, shape: Shape) => Knex.QueryBuilder

/**
 * A read whose SQL Knex writes once for each shape of its values, instead of on every call:
 * Knex spends longer writing a page's statements (quoting each name, joining the clauses)
 * than SQLite spends running them. `build` writes the query once with stand-ins for the
 * values' strings and numbers; later calls of the same shape only fill in the bindings.
 *
 * So `build` must hand each string and number to Knex as it is (no arithmetic on it, no
 * test of it, no text made from it); anything that changes the SQL goes in `shape`, or is a
 * boolean, null or list length of the values. While tests run, each call also builds the
 * query afresh from its real values and fails when the two differ (`preparedReadChecks`).
 */
export function preparedRead<Values extends ReadValues, Shape extends ReadValues = undefined> (build: Build<Values, Shape>): (db: Db, values: Values, ...shape: Shape extends undefined ? [] : [Shape]) => PreparedQuery {
  const templates = new Map<string, Template>()
  return (db, values, ...rest) => {
    const shape = rest[0] as Shape
    const leaves: Array<string | number> = []
    const key = `${dialectOfDb(db)} ${JSON.stringify(shape) ?? ''} ${shapeOf(values, leaves)}`
    let template = templates.get(key)
    if (template === undefined) {
      // A bound of how many shapes one read may keep: the shapes of real pages are few.
      if (templates.size >= 1000) templates.clear()
      templates.set(key, template = compileTemplate(build(db, standIns(values, { count: 0 }) as Values, shape)))
    }
    const bindings = template.slots.map((slot) => typeof slot === 'number' ? leaves[slot] : slot.constant)
    if (preparedReadChecks.on) checkAgainstFresh(template.compiled.sql, bindings, build(db, values, shape).toSQL())
    return runnable(db, template.compiled, bindings)
  }
}

/** Turned on by the tests: every prepared read is compared with its query built afresh. */
export const preparedReadChecks = { on: false }

/** The values' shape as text; their strings and numbers are pushed onto `leaves` in order. */
function shapeOf (value: ReadValues, leaves: Array<string | number>): string {
  switch (typeof value) {
    case 'string':
    case 'number':
      leaves.push(value)
      return '$'
    case 'boolean': return value ? 't' : 'f'
    case 'undefined': return 'u'
    default: {
      if (value === null) return 'n'
      if (Array.isArray(value)) return `[${(value as readonly ReadValues[]).map((item) => shapeOf(item, leaves)).join(',')}]`
      if (Object.getPrototypeOf(value) !== Object.prototype) throw new TypeError('preparedRead: values hold only strings, numbers, booleans, nulls, lists and plain objects')
      let text = '{'
      for (const [name, item] of Object.entries(value)) text += `${name}:${shapeOf(item, leaves)},`
      return text + '}'
    }
  }
}

/** The values with each string and number replaced by a stand-in naming its place among them. */
function standIns (value: ReadValues, counter: { count: number }): ReadValues {
  if (typeof value === 'string' || typeof value === 'number') return `\u0000${counter.count++}\u0000`
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return (value as readonly ReadValues[]).map((item) => standIns(item, counter))
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, standIns(item, counter)]))
}

function compileTemplate (query: Knex.QueryBuilder): Template {
  const { bindings = [], ...compiled } = query.toSQL() as unknown as Compiled & { __knexQueryUid?: string }
  delete compiled.__knexQueryUid
  if (compiled.method !== 'select' && compiled.method !== 'first') throw new Error(`preparedRead: a ${compiled.method} is not a read`)
  if (compiled.sql.includes('\u0000')) throw new Error(`preparedRead: a value went into the SQL text: ${compiled.sql}`)
  const slots = bindings.map((binding) => {
    if (typeof binding !== 'string' || !binding.includes('\u0000')) return { constant: binding }
    const place = binding.slice(1, -1)
    if (!binding.startsWith('\u0000') || !binding.endsWith('\u0000') || !/^\d+$/.test(place)) throw new Error('preparedRead: a value was changed before it was bound')
    return Number(place)
  })
  return { compiled, slots }
}

function checkAgainstFresh (sql: string, bindings: readonly unknown[], fresh: Compiled): void {
  if (fresh.sql !== sql || !isDeepStrictEqual([...fresh.bindings ?? []], bindings)) {
    throw new Error(`preparedRead: the prepared statement differs from the query built afresh:\n${sql}\n${JSON.stringify(bindings)}\n${fresh.sql}\n${JSON.stringify(fresh.bindings)}`)
  }
}

const statementOfQuery = Symbol('statement')

/** A prepared read, ready to run (await it) or to be read with others (`listOf`). Its rows are as Knex gives them. */
export interface PreparedQuery extends PromiseLike<unknown> {
  readonly [statementOfQuery]: { sql: string, bindings: readonly unknown[] }
}
type Runnable = Knex.QueryBuilder & { _method: string, [statementOfQuery]?: { sql: string, bindings: readonly unknown[] } }

/**
 * A query that runs written SQL as Knex runs a read it wrote itself: on a reader connection
 * (it is a select), its rows handled as a select's or a first's, its events emitted.
 */
function runnable (db: Db, compiled: Compiled, bindings: readonly unknown[]): PreparedQuery {
  const query = db.queryBuilder() as Runnable
  query._method = compiled.method
  query.toSQL = (() => ({ ...compiled, bindings })) as unknown as Knex.QueryBuilder['toSQL']
  query[statementOfQuery] = { sql: compiled.sql, bindings }
  return query as unknown as PreparedQuery
}

/** A query's SQL and bindings: as prepared, or written by Knex now. */
function statementOf (query: ListQuery): { sql: string, bindings: readonly unknown[] } {
  return statementOfQuery in query ? query[statementOfQuery] : query.toSQL()
}

/**
 * Options for a transaction that waits on a row lock and must then read what the holder
 * committed: ticket creation counts each member's open tickets after taking the team's
 * routing slot (routing.ts). PostgreSQL's READ COMMITTED gives each statement a fresh
 * snapshot already; MySQL's default REPEATABLE READ keeps the one from the transaction's
 * first read, taken before the wait, and would count without the tickets created meanwhile.
 * SQLite has one writer at a time, so there is nothing to choose.
 */
export function readingLatestCommits (db: Db): Knex.TransactionConfig {
  return dialectOfDb(db) === 'mysql' ? { isolationLevel: 'read committed' } : {}
}

/**
 * Statements of one transaction sent together: waits for every one before failing with the
 * first failure. With Promise.all a failure would roll back while the others still run, and
 * on SQLite's one connection a statement that runs after the rollback commits on its own.
 */
export async function allInTransaction<T extends readonly unknown[]> (statements: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(statements)
  const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/**
 * The id of a row just inserted with `.returning('id')`: PostgreSQL hands back `{ id }`,
 * SQLite and MySQL the bare number.
 */
export function insertedId (row: unknown): number {
  return typeof row === 'object' && row !== null ? Number((row as { id: unknown }).id) : Number(row)
}

/**
 * Inserts the rows in one statement and answers each one's new id, in the rows' order.
 * `key` is a column whose value is unique among the rows: the ids are matched back through
 * it, since no database promises the order RETURNING hands rows back in, and MySQL has no
 * RETURNING (the rows are read back by that key, in the same transaction).
 */
export async function insertEach<Row extends object> (db: Db, table: string, rows: readonly Row[], key: keyof Row & string): Promise<number[]> {
  if (rows.length === 0) return []
  const keys = rows.map((row) => String(row[key]))
  let found: Array<Record<string, unknown>>
  if (dialectOfDb(db) === 'mysql') {
    await db(table).insert(rows)
    found = await db(table).whereIn(key, keys).select('id', key)
  } else {
    found = await db(table).insert(rows).returning(['id', key])
  }
  const ids = new Map(found.map((row) => [String(row[key]), Number(row.id)]))
  return keys.map((value) => ids.get(value)!)
}

/**
 * True when the database rolled the transaction back to break a deadlock (MariaDB/MySQL
 * 1213, PostgreSQL 40P01): nothing of it was kept, so it may simply run again.
 */
export function isDeadlockVictim (err: unknown): boolean {
  const e = err as { code?: string, errno?: number } | null
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213 || e?.code === '40P01'
}

/**
 * A transaction run again, up to `attempts` times in all, when the database chose it as a
 * deadlock's victim: InnoDB's own advice. Two instances claiming the same row by a
 * conditional update can deadlock on MariaDB, each holding the row's entry in one index and
 * waiting for the other's; an agent's change and a pass of the jobs on one ticket can lock
 * its rows in different orders. The transaction that runs again finds the other's work
 * committed and acts on it. For work whose effects are all statements of the transaction
 * (rows, events, outbox messages), so that it starts over cleanly from its first statement:
 * the jobs' claims and the ticket verbs.
 */
export async function transactionRetryingDeadlocks<T> (db: Knex, work: (trx: Knex.Transaction) => Promise<T>,
  { attempts = 3, config }: { attempts?: number, config?: Knex.TransactionConfig } = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work, config)
    } catch (err) {
      if (!isDeadlockVictim(err) || attempt >= attempts) throw err
    }
  }
}

/** True when the error is a unique-constraint violation, whichever database raised it. */
export function isUniqueViolation (err: unknown): boolean {
  const e = err as { code?: string, errno?: number, message?: string }
  return (e.code === 'SQLITE_CONSTRAINT' && /UNIQUE/.test(e.message ?? '')) ||
    e.code === '23505' || e.code === 'ER_DUP_ENTRY'
}
