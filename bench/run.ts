import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import knex, { type Knex } from 'knex'
import { buildApp } from '../src/app.js'
import { dialectOf } from '../src/data/database.js'
import { loadConfig } from '../src/config.js'
import { fetchRaw, formatPageWeight, measurePage, measurePageWeight, type CookieJar } from './page-weight.js'
import { newTicketRequests, routeAndTimeEveryTopic, secondQueuePage, signInStaff, staffCookie, ticketPagePaths } from './staff.js'
import { seedTickets, type SeedResult } from './seed.js'

/**
 * Throughput and latency of Tessera's pages under load, next to a bare Fastify server
 * sending a page of the same size.
 *
 *   npm run bench -- --tickets 10000 --duration 5 --connections 10
 *
 * Everything runs in this process on 127.0.0.1: the app on a fresh SQLite database in a
 * temporary folder, seeded before the first request. The load generator (autocannon) runs
 * in a worker thread by default (--workers 1) so it does not share the server's event
 * loop; --workers 0 runs it on the main thread.
 *
 * To add an endpoint, add an entry to `endpoints` below; `setup` runs once before the
 * endpoint is measured and returns the headers (cookies) and request bodies to send.
 */

// ---------------------------------------------------------------------------------------
// autocannon ships no types; this is the part of its programmatic API used here.

interface AutocannonRequest {
  method?: string
  path?: string
  headers?: Record<string, string>
  body?: string
}

interface AutocannonOptions {
  url: string
  connections: number
  duration?: number
  amount?: number
  workers?: number
  timeout?: number
  headers?: Record<string, string>
  requests?: AutocannonRequest[]
  /** Replaces `[<id>]` in bodies with a fresh id on every request. */
  idReplacement?: boolean
}

interface AutocannonHistogram {
  average: number
  mean: number
  stddev: number
  min: number
  max: number
  p50: number
  p90: number
  p99: number
}

interface AutocannonResult {
  duration: number
  requests: AutocannonHistogram & { sent: number }
  latency: AutocannonHistogram & { totalCount: number }
  throughput: AutocannonHistogram
  errors: number
  timeouts: number
  mismatches: number
  '1xx': number
  '2xx': number
  '3xx': number
  '4xx': number
  '5xx': number
  statusCodeStats: Record<string, { count: number }>
}

const autocannon = createRequire(import.meta.url)('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>

// ---------------------------------------------------------------------------------------
// Endpoints.

interface BenchContext {
  app: FastifyInstance
  /** Base URL of the app, e.g. http://127.0.0.1:41234 */
  appUrl: string
  seed: SeedResult
}

interface RequestPlan {
  /** Sent with every request (cookies, content type). */
  headers?: Record<string, string>
  /**
   * Requests each connection sends in turn, over and over; a missing path means the
   * endpoint's. `[<id>]` in a body becomes a fresh unique id on every request.
   */
  requests?: Array<{ path?: string, body?: string }>
}

interface Endpoint {
  name: string
  method: 'GET' | 'POST'
  path: string
  /** The server under load: the app (default) or the bare reference server. */
  server?: 'app' | 'bare'
  /** The status class that counts as success; anything else is an error (default 2xx). */
  expect?: '2xx' | '3xx'
  setup?: (ctx: BenchContext) => Promise<RequestPlan>
  /** Runs after the measurement; returns a line for the notes under the table. */
  check?: (ctx: BenchContext, result: AutocannonResult, state: unknown) => Promise<string | undefined>
  /** Runs before warm-up; its value is handed to check (e.g. a row count). */
  before?: (ctx: BenchContext) => Promise<unknown>
}

const endpoints: Endpoint[] = [
  { name: 'portal home', method: 'GET', path: '/' },
  {
    name: 'portal home (gzip)',
    method: 'GET',
    path: '/',
    setup: async () => ({ headers: { 'accept-encoding': 'gzip' } })
  },
  { name: 'new ticket form', method: 'GET', path: '/tickets/new' },
  {
    name: 'create ticket',
    method: 'POST',
    path: '/tickets',
    expect: '3xx',
    setup: async ({ appUrl }) => await newTicketRequests(appUrl),
    before: async ({ app }) => await countSideEffects(app),
    check: async ({ app }, result, before) => {
      const was = before as SideEffects
      const now = await countSideEffects(app)
      return `create ticket: ${result['3xx']} redirects in the measured run; during warm-up and run together ` +
        `${now.tickets - was.tickets} tickets, ${now.entries - was.entries} thread entries, ${now.events - was.events} events, ` +
        `${now.tokens - was.tokens} access tokens and ${now.outbox - was.outbox} outbox messages were written.`
    }
  },
  {
    // Every topic routes to the team by round robin and runs an office-hours SLA plan, as
    // issue 11 asks creation to be measured; later endpoints see the desk so configured.
    name: 'create ticket (routing + SLA)',
    method: 'POST',
    path: '/tickets',
    expect: '3xx',
    setup: async (ctx) => {
      await routeAndTimeEveryTopic(ctx.app.db, ctx.seed)
      return await newTicketRequests(ctx.appUrl)
    },
    before: async ({ app }) => await countRouted(app),
    check: async ({ app }, result, before) => {
      const was = before as { tickets: number, routed: number, timed: number }
      const now = await countRouted(app)
      return `create ticket (routing + SLA): ${result['3xx']} redirects in the measured run; during warm-up and run together ${now.tickets - was.tickets} tickets, ` +
        `${now.routed - was.routed} assigned to a team member by round robin, ${now.timed - was.timed} on an SLA plan.`
    }
  },
  { name: 'staff queue: Mine', method: 'GET', path: '/staff/queues/mine', setup: staffSession },
  { name: 'staff queue: All open', method: 'GET', path: '/staff/queues/open', setup: staffSession },
  { name: 'staff queue: filtered (dept + priority)', method: 'GET', path: '/staff/queues/open?department=1&priority=3', setup: staffSession },
  { name: 'staff queue: All open, page 2', method: 'GET', path: '/staff/queues/open', setup: async (ctx) => ({ ...await staffSession(ctx), requests: [{ path: await secondPage(ctx) }] }) },
  { name: 'staff ticket page', method: 'GET', path: '/staff/tickets', setup: async (ctx) => ({ ...await staffSession(ctx), requests: await ticketPages(ctx) }) },
  { name: 'bare Fastify, same-size page', method: 'GET', path: '/', server: 'bare' }
]

let staffJar: CookieJar | undefined

/** Signs in once per run; every staff endpoint shares the session. */
async function staffJarOf ({ app, appUrl, seed }: BenchContext): Promise<CookieJar> {
  staffJar ??= await signInStaff(app.db, appUrl, seed)
  return staffJar
}

async function staffSession (ctx: BenchContext): Promise<RequestPlan> {
  return { headers: { cookie: staffCookie(await staffJarOf(ctx), ctx.appUrl) } }
}

async function secondPage (ctx: BenchContext): Promise<string> {
  return await secondQueuePage(ctx.appUrl, (await staffSession(ctx)).headers!.cookie!)
}

async function ticketPages (ctx: BenchContext): Promise<Array<{ path: string }>> {
  return (await ticketPagePaths(ctx.appUrl, (await staffSession(ctx)).headers!.cookie!)).map((path) => ({ path }))
}

const homeName = 'portal home'
const bareName = 'bare Fastify, same-size page'

interface SideEffects { tickets: number, entries: number, events: number, tokens: number, outbox: number }

async function countRouted ({ db }: FastifyInstance): Promise<{ tickets: number, routed: number, timed: number }> {
  const count = async (query: Knex.QueryBuilder): Promise<number> => Number((await query.count('* as n').first() as { n: number | string }).n)
  return {
    tickets: await count(db('tickets')),
    routed: await count(db('events').where({ type: 'assigned', actor_kind: 'system' })),
    timed: await count(db('tickets').whereNotNull('sla_plan_id'))
  }
}

async function countSideEffects ({ db }: FastifyInstance): Promise<SideEffects> {
  const count = async (table: string): Promise<number> => Number((await db(table).count('* as n').first() as { n: number | string }).n)
  return {
    tickets: await count('tickets'),
    entries: await count('thread_entries'),
    events: await count('events'),
    tokens: await count('ticket_access_tokens'),
    outbox: await count('outbox')
  }
}

// ---------------------------------------------------------------------------------------
// Running.

interface Row {
  endpoint: Endpoint
  rps: number
  p50: number
  p99: number
  errors: number
  errorDetail: string
}

function options (): { tickets: number, duration: number, warmup: number, connections: number, workers: number, only: string[], databaseUrl: string, logLevel: string } {
  const { values } = parseArgs({
    options: {
      tickets: { type: 'string', default: '10000' },
      duration: { type: 'string', default: '5' },
      // Seconds of load before each measurement, not counted: V8 compiles a page's hot code
      // over the first seconds of load, and a desk runs for days.
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
      workers: { type: 'string', default: '1' },
      only: { type: 'string', default: '' },
      // A PostgreSQL or MySQL server to measure instead of SQLite; the run uses a schema
      // (PostgreSQL) or database (MySQL) of its own there and drops it afterwards.
      'database-url': { type: 'string', default: '' },
      // The app logs as in production (one line per request at info), to a file in the
      // run's temporary folder; --log-level silent measures without logging.
      'log-level': { type: 'string', default: 'info' }
    },
    strict: true
  })
  const whole = (name: string, value: string, min: number): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${value}`)
    return n
  }
  return {
    tickets: whole('tickets', values.tickets, 0),
    duration: whole('duration', values.duration, 1),
    warmup: whole('warmup', values.warmup, 0),
    connections: whole('connections', values.connections, 1),
    workers: whole('workers', values.workers, 0),
    only: values.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
    databaseUrl: values['database-url'],
    logLevel: values['log-level']
  }
}

/** A throwaway schema or database on the given server, and how to drop it. */
async function scratchDatabase (server: string): Promise<{ url: string, drop: () => Promise<void> }> {
  const dialect = dialectOf(server)
  if (dialect === 'sqlite') return { url: '', drop: async () => {} }
  const name = `tessera_bench_${Date.now().toString(36)}`
  const admin = knex({ client: dialect === 'postgres' ? 'pg' : 'mysql2', connection: server, pool: { min: 0, max: 1 } })
  await admin.raw(dialect === 'postgres' ? `CREATE SCHEMA ${name}` : `CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  const url = new URL(server)
  if (dialect === 'postgres') url.searchParams.set('schema', name)
  else url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      await admin.raw(dialect === 'postgres' ? `DROP SCHEMA ${name} CASCADE` : `DROP DATABASE ${name}`)
      await admin.destroy()
    }
  }
}

/** Peak resident set size of this process (server, load generator, everything). */
function rssSampler (): { peak: () => number, stop: () => void } {
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 50)
  timer.unref()
  return {
    peak: () => Math.max(peak, process.memoryUsage().rss),
    stop: () => clearInterval(timer)
  }
}

function urlOf (server: FastifyInstance): string {
  const address = server.server.address()
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address')
  return `http://127.0.0.1:${address.port}`
}

async function measure (endpoint: Endpoint, url: string, plan: RequestPlan, settings: { duration: number, warmup: number, connections: number, workers: number }): Promise<AutocannonResult> {
  const requests = (plan.requests ?? [{}]).map((r) => ({
    method: endpoint.method,
    path: r.path ?? endpoint.path,
    ...(r.body === undefined ? {} : { body: r.body })
  }))
  const base: AutocannonOptions = {
    url,
    connections: settings.connections,
    headers: plan.headers ?? {},
    requests,
    idReplacement: requests.some((r) => r.body?.includes('[<id>]')),
    timeout: 10,
    ...(settings.workers > 0 ? { workers: settings.workers } : {})
  }
  // Warm-up: JIT, template compilation, SQLite page cache. Not counted.
  if (settings.warmup > 0) await warmUp(base, settings.warmup)
  return await autocannon({ ...base, duration: settings.duration })
}

/**
 * `minimum` seconds of load, then more a second at a time while throughput still rises, up
 * to `warmupMoreAtMost` seconds. V8 compiles a page's hot code on background threads, which
 * on a 2-core machine share the CPUs with the server and the load generator: on a slow one
 * the first staff page measured (Mine) was still being compiled after 3 s and read 1,160
 * requests a second, against 1,466 after 8 s, the same code.
 */
async function warmUp (base: AutocannonOptions, minimum: number): Promise<void> {
  await autocannon({ ...base, duration: minimum })
  let best = 0
  for (let second = 0; second < warmupMoreAtMost; second++) {
    const rate = (await autocannon({ ...base, duration: 1 })).requests.average
    if (rate <= best * stillRising) return
    best = rate
  }
}

const warmupMoreAtMost = 20
/** A second of load at least 3 % faster than the best before it: the page is still warming up. */
const stillRising = 1.03

function tally (endpoint: Endpoint, result: AutocannonResult): Row {
  const expected = endpoint.expect ?? '2xx'
  const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const
  const wrongStatus = classes.filter((c) => c !== expected).reduce((n, c) => n + result[c], 0)
  // autocannon counts a timeout as an error too.
  const errors = result.errors + result.mismatches + wrongStatus
  const detail: string[] = []
  if (result.errors - result.timeouts > 0) detail.push(`${result.errors - result.timeouts} socket errors`)
  if (result.timeouts > 0) detail.push(`${result.timeouts} timeouts`)
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
    if (!code.startsWith(expected[0]!)) detail.push(`${count}× ${code}`)
  }
  return {
    endpoint,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
    errorDetail: detail.join(', ')
  }
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`
const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
// autocannon measures latency in whole milliseconds.
const ms = (n: number): string => n < 1 ? '<1' : Number.isInteger(n) ? String(n) : n.toFixed(2)

async function main (): Promise<void> {
  const settings = options()
  const selected = settings.only.length === 0
    ? endpoints
    : endpoints.filter((e) => settings.only.some((o) => e.name.toLowerCase().includes(o)))
  if (selected.length === 0) throw new Error(`--only matched no endpoint; endpoints: ${endpoints.map((e) => e.name).join(', ')}`)

  const rss = rssSampler()
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-'))
  const servers: FastifyInstance[] = []
  const log = (line: string): void => { process.stderr.write(line + '\n') }
  // Ctrl-C mid-run still removes the temporary database.
  const interrupted = (): void => {
    rmSync(dataDir, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', interrupted)
  const database = await scratchDatabase(settings.databaseUrl)
  try {
    // Synchronous writes to a file descriptor, as pino writes to standard output under npm start.
    const logFd = openSync(join(dataDir, 'app.log'), 'a')
    const logStream = { write: (line: string): void => { writeSync(logFd, line) } }
    const app = await buildApp(loadConfig({ DATA_DIR: dataDir, DATABASE_URL: database.url, LOG_LEVEL: settings.logLevel, TICKET_RATE_LIMIT: '100000000' }), { startWorkers: false, logStream })
    servers.push(app)
    await app.ready()
    const rssAtStart = process.memoryUsage().rss
    log(`seeding ${num(settings.tickets)} tickets…`)
    const seed = await seedTickets(app.db, settings.tickets)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const appUrl = urlOf(app)
    const ctx: BenchContext = { app, appUrl, seed }

    // The reference: Fastify with no plugins sending the portal home's exact bytes.
    const home = await fetchRaw(appUrl + '/')
    if (home.status !== 200) throw new Error(`GET / answered ${home.status}`)
    const homeHtml = home.body.toString('utf8')
    const bare = Fastify({ logger: false })
    servers.push(bare)
    bare.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(homeHtml))
    await bare.listen({ host: '127.0.0.1', port: 0 })
    const bareUrl = urlOf(bare)

    const rows: Row[] = []
    const notes: string[] = []
    const rssBeforeRuns = process.memoryUsage().rss
    for (const endpoint of selected) {
      log(`→ ${endpoint.name}: ${endpoint.method} ${endpoint.path} (${settings.duration} s, ${settings.connections} connections)`)
      const plan = endpoint.setup ? await endpoint.setup(ctx) : {}
      const state = endpoint.before ? await endpoint.before(ctx) : undefined
      const result = await measure(endpoint, endpoint.server === 'bare' ? bareUrl : appUrl, plan, settings)
      rows.push(tally(endpoint, result))
      const note = endpoint.check ? await endpoint.check(ctx, result, state) : undefined
      if (note) notes.push(note)
      // A moment for the garbage collector and the WAL checkpoint between endpoints.
      await new Promise((resolve) => setTimeout(resolve, 500))
    }

    const out: string[] = []
    out.push(`## Tessera benchmark on ${dialectOf(settings.databaseUrl) === 'sqlite' ? 'SQLite' : dialectOf(settings.databaseUrl) === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'}`, '')
    out.push(`node ${process.version}, ${availableParallelism()} CPUs; ${num(settings.tickets)} tickets seeded in ${num(seed.ms / 1000, 1)} s ` +
      `(${num(seed.requesters)} requesters, ${seed.agentIds.length} agents; open ${num(seed.byStatus.open ?? 0)}, pending ${num(seed.byStatus.pending ?? 0)}, ` +
      `resolved ${num(seed.byStatus.resolved ?? 0)}, closed ${num(seed.byStatus.closed ?? 0)})`)
    out.push(`app log level ${settings.logLevel}; ${settings.connections} connections, ${settings.duration} s per endpoint after ${settings.warmup} s of warm-up (longer while throughput still rose), load generator ` +
      (settings.workers > 0 ? `in ${settings.workers} worker thread(s)` : 'on the main thread') + `; portal home is ${num(home.body.length)} bytes`, '')
    out.push('| endpoint | req/s | p50 ms | p99 ms | errors |', '|---|---:|---:|---:|---:|')
    for (const row of rows) {
      const label = `${row.endpoint.name} (${row.endpoint.method} ${row.endpoint.path})`
      out.push(`| ${label} | ${num(row.rps)} | ${ms(row.p50)} | ${ms(row.p99)} | ${row.errors}${row.errorDetail ? ` (${row.errorDetail})` : ''} |`)
    }
    out.push('')
    const homeRow = rows.find((r) => r.endpoint.name === homeName)
    const bareRow = rows.find((r) => r.endpoint.name === bareName)
    if (bareRow && bareRow.rps > 0) {
      for (const [name, target] of [[homeName, 0.5], ['portal home (gzip)', 0.5], ['new ticket form', 0.25]] as const) {
        const row = name === homeName ? homeRow : rows.find((r) => r.endpoint.name === name)
        if (!row) continue
        const ratio = row.rps / bareRow.rps
        out.push(`${name} / bare = ${ratio.toFixed(2)}× (target ≥ ${target.toFixed(2)}×): ${ratio >= target ? 'met' : '**not met**'}  `)
      }
    }
    out.push(`peak RSS ${mib(rss.peak())} (app built: ${mib(rssAtStart)}; after seeding: ${mib(rssBeforeRuns)}; ` +
      `the process includes tsx and ${settings.workers > 0 ? 'the load generator\'s worker thread' : 'the load generator'})`)
    for (const note of notes) out.push(note)
    console.log(out.join('\n') + '\n')

    log('page weight…')
    console.log(formatPageWeight(await measurePageWeight(appUrl)))
    const queue = await measurePage('Staff queue, first load', `${appUrl}/staff/queues/open`, await staffJarOf(ctx))
    const firstLoad = queue.resources.reduce((total, r) => total + r.sent, 0)
    console.log(`\nStaff queue page, first load (HTML + CSS + htmx, gzip): ${firstLoad} bytes; budget 40960: ${firstLoad < 40960 ? 'met' : '**not met**'}`)
  } finally {
    rss.stop()
    for (const server of servers.reverse()) await server.close()
    await database.drop()
    rmSync(dataDir, { recursive: true, force: true })
    process.removeListener('SIGINT', interrupted)
  }
}

await main()
