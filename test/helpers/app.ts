import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import knex from 'knex'
import { buildApp, type AppOptions } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { dialectOf } from '../../src/data/database.js'

/**
 * An empty database of its own for one test: a SQLite file in the test's directory, or,
 * when TEST_DATABASE_URL names a PostgreSQL or MySQL server, a fresh schema or database on
 * it that is dropped when the test ends.
 */
export async function freshDatabaseUrl (t: Test): Promise<string> {
  const server = process.env.TEST_DATABASE_URL ?? ''
  const dialect = dialectOf(server)
  if (dialect === 'sqlite') return ''
  const name = `tessera_test_${randomBytes(6).toString('hex')}`
  const admin = knex({ client: dialect === 'postgres' ? 'pg' : 'mysql2', connection: server, pool: { min: 0, max: 1 } })
  const drop = dialect === 'postgres' ? `DROP SCHEMA IF EXISTS ${name} CASCADE` : `DROP DATABASE IF EXISTS ${name}`
  await admin.raw(dialect === 'postgres' ? `CREATE SCHEMA ${name}` : `CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  t.teardown(async () => {
    await admin.raw(drop)
    await admin.destroy()
  })
  const url = new URL(server)
  if (dialect === 'postgres') url.searchParams.set('schema', name)
  else url.pathname = `/${name}`
  return url.toString()
}

/** A fresh app on its own database; closed when the test ends. */
export async function testApp (t: Test, env: Record<string, string> = {}, options: AppOptions = {}): Promise<FastifyInstance> {
  // testdir() empties the test's folder on every call: only the first app of a test may ask.
  const dir = env.DATA_DIR ?? t.testdir({})
  const databaseUrl = env.DATABASE_URL ?? await freshDatabaseUrl(t)
  const config: Config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', BASE_URL: 'http://help.example.test', DATABASE_URL: databaseUrl, ...env })
  const app = await buildApp(config, options)
  t.teardown(async () => { await app.close() })
  await app.ready()
  return app
}

/** A clock tests can move forward. */
export function testClock (start = Date.UTC(2026, 10, 26, 9, 0)): { now: () => number, advance: (ms: number) => void } {
  let current = start
  return { now: () => current, advance: (ms) => { current += ms } }
}

/** Several app instances on one database, as behind a load balancer. */
export async function sharedApps (t: Test, count: number, env: Record<string, string> = {}, options: AppOptions = {}): Promise<FastifyInstance[]> {
  const dir = t.testdir({})
  const shared = {
    DATA_DIR: dir,
    DATABASE_URL: await freshDatabaseUrl(t),
    SESSION_SECRET: randomBytes(32).toString('hex'),
    ...env
  }
  const apps: FastifyInstance[] = []
  // One after the other: the first runs the migrations the others then find done.
  for (let i = 0; i < count; i++) apps.push(await testApp(t, shared, options))
  return apps
}
