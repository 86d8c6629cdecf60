import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import knex from 'knex'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { dialectOf } from '../src/data/database.js'
import { fetchRaw } from './page-weight.js'
import { seedTickets, type SeedResult } from './seed.js'
import { setBenchPassword, signIn } from './staff.js'

/*
 * A large seeded desk kept between benchmark runs (bench/queues.ts, search.ts, reports.ts), and a
 * signed-in manager to browse it as.
 */

/** The kept database for this ticket count: its URL (or SQLite folder), whether it exists, and how to drop it. */
export async function keptDatabase (server: string, tickets: number, prefix = 'tessera_queues'): Promise<{ url: string, dataDir: string, exists: boolean, drop: () => Promise<void> }> {
  const name = `${prefix}_${tickets}`
  const dialect = dialectOf(server)
  if (dialect === 'sqlite') {
    const dataDir = join(tmpdir(), name)
    const exists = existsSync(join(dataDir, 'tessera.sqlite'))
    mkdirSync(dataDir, { recursive: true })
    return { url: '', dataDir, exists, drop: async () => { rmSync(dataDir, { recursive: true, force: true }) } }
  }
  const admin = knex({ client: dialect === 'postgres' ? 'pg' : 'mysql2', connection: server, pool: { min: 0, max: 1 } })
  try {
    const found = dialect === 'postgres'
      ? (await admin.raw('select 1 from information_schema.schemata where schema_name = ?', [name])).rows
      : (await admin.raw('select 1 from information_schema.schemata where schema_name = ?', [name]))[0]
    const exists = (found as unknown[]).length > 0
    if (!exists) await admin.raw(dialect === 'postgres' ? `CREATE SCHEMA ${name}` : `CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  } finally {
    await admin.destroy()
  }
  const url = new URL(server)
  if (dialect === 'postgres') url.searchParams.set('schema', name)
  else url.pathname = `/${name}`
  const dataDir = join(tmpdir(), `${name}_${dialect}`)
  mkdirSync(dataDir, { recursive: true })
  return {
    url: url.toString(),
    dataDir,
    exists: true,
    drop: async () => {
      const dropper = knex({ client: dialect === 'postgres' ? 'pg' : 'mysql2', connection: server, pool: { min: 0, max: 1 } })
      await dropper.raw(dialect === 'postgres' ? `DROP SCHEMA IF EXISTS ${name} CASCADE` : `DROP DATABASE IF EXISTS ${name}`)
      await dropper.destroy()
    }
  }
}

export function percentile (sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

export interface LargeDeskSettings { tickets: number, requests: number, warmup: number, databaseUrl: string, fresh: boolean, drop: boolean }

/** The command line every large-desk benchmark takes, with its own sample size by default. */
function largeDeskSettings (defaults: { requests: number, warmup: number }): LargeDeskSettings {
  const { values } = parseArgs({
    options: {
      tickets: { type: 'string', default: '1000000' },
      requests: { type: 'string', default: String(defaults.requests) },
      warmup: { type: 'string', default: String(defaults.warmup) },
      'database-url': { type: 'string', default: '' },
      fresh: { type: 'boolean', default: false },
      drop: { type: 'boolean', default: false }
    }
  })
  const whole = (name: string, value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${value}`)
    return n
  }
  return {
    tickets: whole('tickets', values.tickets),
    requests: Math.max(1, whole('requests', values.requests)),
    warmup: whole('warmup', values.warmup),
    databaseUrl: values['database-url'],
    fresh: values.fresh,
    drop: values.drop
  }
}

/**
 * Times one page at one connection: `warmup` requests, then `requests` timed ones. Answers
 * how many times `count` matched the page (its rows) and p50, p99 and max in ms, formatted.
 */
async function timePage (url: string, cookie: string, s: Pick<LargeDeskSettings, 'warmup' | 'requests'>, count: RegExp): Promise<{ shown: number, p50: string, p99: string, max: string }> {
  const times: number[] = []
  let shown = 0
  for (let i = 0; i < s.warmup + s.requests; i++) {
    const started = performance.now()
    const res = await fetchRaw(url, { headers: { cookie } })
    const took = performance.now() - started
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`)
    if (i >= s.warmup) times.push(took)
    else shown = (res.body.toString('utf8').match(count) ?? []).length
  }
  times.sort((a, b) => a - b)
  return { shown, p50: percentile(times, 0.5).toFixed(1), p99: percentile(times, 0.99).toFixed(1), max: times[times.length - 1]!.toFixed(1) }
}

interface LargeDesk { app?: FastifyInstance, base: string, cookie: string, email: string, seed?: SeedResult }

/**
 * Opens (seeding on first use) the kept desk of `s.tickets` tickets, listens, and signs in
 * as the seeded manager with the most departments. `app` is missing after `--drop`.
 */
async function openLargeDesk (s: { tickets: number, databaseUrl: string, fresh: boolean, drop: boolean }, log: (line: string) => void): Promise<LargeDesk> {
  let database = await keptDatabase(s.databaseUrl, s.tickets)
  if (s.drop || s.fresh) {
    await database.drop()
    log('dropped the kept database')
    if (s.drop) return { base: '', cookie: '', email: '' }
    database = await keptDatabase(s.databaseUrl, s.tickets)
  }
  const app = await buildApp(loadConfig({ DATA_DIR: database.dataDir, DATABASE_URL: database.url, LOG_LEVEL: 'silent' }), { startWorkers: false })
  await app.ready()
  const have = Number((await app.db('tickets').count({ n: '*' }).first() as { n: number | string }).n)
  if (have !== s.tickets) {
    if (have !== 0) throw new Error(`the kept database holds ${have} tickets, not ${s.tickets}: run with --fresh`)
    log(`seeding ${s.tickets.toLocaleString('en-US')} tickets (kept for the next run)…`)
    const seeded = await seedTickets(app.db, s.tickets)
    log(`seeded in ${(seeded.ms / 1000).toFixed(1)} s`)
  }
  // Seeding again with no tickets only looks up the seeded staff.
  const seed = await seedTickets(app.db, 0)
  const agentId = seed.agentIds[1]!
  const password = await setBenchPassword(app.db, agentId)
  const email = (await app.db('agents').where({ id: agentId }).first('email') as { email: string }).email
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  const base = `http://127.0.0.1:${address.port}`
  const jar = await signIn(base, email, password)
  const cookie = jar.header(`${base}/staff/queues/open`)
  return { app, base, cookie, email, seed }
}

/** What a large-desk bench times: one table row per page. */
export interface TimedPages {
  /** The table's heading, after "## ". */
  title: string
  /** Said before "one connection" in the line under the heading (end it with "; "). */
  setup?: string
  /** What a row is ("queue", "search", "page"), and what its count column counts. */
  row: string
  counted: string
  pages: ReadonlyArray<{ name: string, path: string, count: RegExp }>
}

export function databaseName (databaseUrl: string): string {
  const dialect = dialectOf(databaseUrl)
  return dialect === 'sqlite' ? 'SQLite' : dialect === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'
}

/**
 * The frame of every large-desk bench: opens the kept desk, lets `plan` prepare what this
 * bench needs and name its pages, times each page and prints a markdown table.
 */
export async function benchLargeDesk (defaults: { requests: number, warmup: number }, plan: (desk: { app: FastifyInstance, s: LargeDeskSettings, log: (line: string) => void }) => Promise<TimedPages>): Promise<void> {
  const s = largeDeskSettings(defaults)
  const log = (line: string): void => { process.stderr.write(line + '\n') }
  const { app, base, cookie, email } = await openLargeDesk(s, log)
  if (!app) return
  try {
    const p = await plan({ app, s, log })
    const out = [
      `## ${p.title}`,
      '',
      `node ${process.version}; ${p.setup ?? ''}one connection; ${s.warmup} warm-up and ${s.requests} timed requests per ${p.row}, as ${email}`,
      '',
      `| ${p.row} | ${p.counted} | p50 ms | p99 ms | max ms |`,
      '| --- | ---: | ---: | ---: | ---: |'
    ]
    for (const page of p.pages) {
      const t = await timePage(base + page.path, cookie, s, page.count)
      out.push(`| ${page.name} | ${t.shown} | ${t.p50} | ${t.p99} | ${t.max} |`)
      log(out[out.length - 1]!)
    }
    process.stdout.write(out.join('\n') + '\n')
  } finally {
    await app.close()
  }
}
