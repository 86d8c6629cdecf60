import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import knex from 'knex'
import { buildApp, type AppOptions } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { dialectOf, preparedReadChecks } from '../../src/data/database.js'
import { copySqliteTemplate, createFromTemplate } from './template-database.js'

// Every prepared read a test makes is also built afresh and compared (see preparedRead).
preparedReadChecks.on = true

/**
 * An empty database of its own for one test: a SQLite file in the test's directory, or,
 * when TEST_DATABASE_URL names a PostgreSQL or MySQL server, a fresh schema or database on
 * it that is dropped when the test ends.
 */
export async function freshDatabaseUrl (t: Test): Promise<string> {
  return await databaseOfItsOwn(t, { migrated: false })
}

/**
 * A database of its own for one test, already at the latest migration (a copy of the
 * template tap's `before` script made): on MariaDB/MySQL a database on the test server,
 * dropped when the test ends; on SQLite '' (testApp copies the template into the test's
 * folder); on PostgreSQL a fresh schema, which the app migrates.
 */
export async function migratedDatabaseUrl (t: Test): Promise<string> {
  return await databaseOfItsOwn(t, { migrated: true })
}

async function databaseOfItsOwn (t: Test, { migrated }: { migrated: boolean }): Promise<string> {
  const server = process.env.TEST_DATABASE_URL ?? ''
  const dialect = dialectOf(server)
  if (dialect === 'sqlite') return ''
  const name = `tessera_test_${randomBytes(6).toString('hex')}`
  const admin = knex({ client: dialect === 'postgres' ? 'pg' : 'mysql2', connection: server, pool: { min: 0, max: 1 } })
  const drop = dialect === 'postgres' ? `DROP SCHEMA IF EXISTS ${name} CASCADE` : `DROP DATABASE IF EXISTS ${name}`
  if (dialect === 'postgres') await admin.raw(`CREATE SCHEMA ${name}`)
  else if (migrated) await createFromTemplate(admin, name)
  else await admin.raw(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  t.teardown(async () => {
    await admin.raw(drop)
    await admin.destroy()
  })
  const url = new URL(server)
  if (dialect === 'postgres') url.searchParams.set('schema', name)
  else url.pathname = `/${name}`
  return url.toString()
}

/**
 * The test's folder (t.testdir), removed only after the test's teardowns have run. tap
 * removes the folder in the same end-of-test step as the teardowns, in the order the two
 * were first asked for; removing it first deleted the files of an app that was still open,
 * which could then write into the folder being removed (ENOTEMPTY, and a test that never
 * ended). Registering a teardown before the folder puts the teardowns first.
 */
export function testFolder (t: Test, content: Parameters<Test['testdir']>[0] = {}): string {
  t.teardown(() => {})
  return t.testdir(content)
}

// scrypt at 2^10 instead of 2^15: a hash in ~4 ms instead of ~0.1–0.3 s, which tests that
// create agents and sign in paid many times over. Stored hashes name their own cost.
const cheapPasswordHashCost = 1024

/** A fresh app on its own database; closed when the test ends. */
export async function testApp (t: Test, env: Record<string, string> = {}, options: AppOptions = {}): Promise<FastifyInstance> {
  // testdir() empties the test's folder on every call: only the first app of a test may ask.
  const dir = env.DATA_DIR ?? testFolder(t)
  const databaseUrl = env.DATABASE_URL ?? await migratedDatabaseUrl(t)
  if (databaseUrl === '') copySqliteTemplate(dir)
  const config: Config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', BASE_URL: 'http://help.example.test', DATABASE_URL: databaseUrl, ...env })
  const app = await buildApp(config, { passwordHashCost: cheapPasswordHashCost, ...options })
  t.teardown(async () => { await app.close() })
  await app.ready()
  return app
}

/** A clock tests can move forward. */
export function testClock (start = Date.UTC(2026, 10, 26, 9, 0)): { now: () => number, advance: (ms: number) => void } {
  let current = start
  return { now: () => current, advance: (ms) => { current += ms } }
}

/**
 * Holds `Date.now` where it stands until `release` or the test's end. A few caches are
 * timed on the wall clock, a second each (sessions, an agent's access, the blocked list),
 * so a test that counts the statements of a request after a warm-up one would count their
 * reloads too whenever a slow machine took longer than that between the two.
 */
export function holdWallClock (t: Test): { release: () => void } {
  const real = Date.now
  const at = real()
  Date.now = () => at
  const release = (): void => { Date.now = real }
  t.teardown(release)
  return { release }
}

/** Several app instances on one database, as behind a load balancer. */
export async function sharedApps (t: Test, count: number, env: Record<string, string> = {}, options: AppOptions = {}): Promise<FastifyInstance[]> {
  const dir = testFolder(t)
  const shared = {
    DATA_DIR: dir,
    DATABASE_URL: await migratedDatabaseUrl(t),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    ...env
  }
  const apps: FastifyInstance[] = []
  // One after the other: the first runs the migrations the others then find done.
  for (let i = 0; i < count; i++) apps.push(await testApp(t, shared, options))
  return apps
}
