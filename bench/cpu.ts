import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { projectRoot } from '../src/paths.js'
import { seedTickets } from './seed.js'
import { newTicketRequests, routeAndTimeEveryTopic, secondQueuePage, signInStaff, staffCookie, ticketPagePaths } from './staff.js'

/**
 * Server CPU time per request for the portal pages, ticket creation and the staff pages,
 * next to a bare Fastify page of the portal home's bytes. The load generator (autocannon)
 * runs as a separate process and is not counted, so the figures hold on a busy or shared
 * machine, where req/s mostly measures the neighbours:
 *
 *   npx tsx bench/cpu.ts [--requests 20000] [--warmup 3] [--tickets 10000] [--log-level info] [--only staff,create]
 *                        [--cpu-prof DIR]
 *
 * bare µs / page µs is the share of the bare page's throughput the page reaches when the
 * server is the bottleneck (targets: home and gzip home ≥ 0.5, new-ticket form ≥ 0.25);
 * 1,000,000 / µs is the most requests per second one core could serve. --cpu-prof writes V8's
 * profile of each counted run to DIR (one .cpuprofile per endpoint, for Chrome's DevTools).
 */

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    // Seconds of load before each count, not counted: V8 compiles the hot code over the first
    // seconds of load, as bench/run.ts's warm-up says.
    warmup: { type: 'string', default: '3' },
    tickets: { type: 'string', default: '10000' },
    'log-level': { type: 'string', default: 'info' },
    only: { type: 'string', default: '' },
    'cpu-prof': { type: 'string', default: '' }
  }
})
const requests = Number(values.requests)
const warmupSeconds = Number(values.warmup)
const only = values.only.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)

function urlOf (server: FastifyInstance): string {
  return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`
}

interface Load {
  path: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  /** Requests each connection cycles through; `[<id>]` in a body becomes a fresh id. */
  requests?: Array<{ path?: string, body?: string }>
}

// autocannon's own process, so its CPU is not this process's; driven through its API
// (the CLI cannot cycle through several requests).
const driver = `
const autocannon = require(${JSON.stringify(join(projectRoot, 'node_modules/autocannon'))})
const options = JSON.parse(process.argv[1])
autocannon(options).then((result) => {
  const bad = result.errors + result.non2xx - (options.expect3xx ? result['3xx'] : 0)
  if (bad > 0) { console.error(bad + ' failed requests: ' + JSON.stringify(result.statusCodeStats)); process.exit(1) }
}, (err) => { console.error(err); process.exit(1) })`

async function load (url: string, plan: Load, amount: { amount: number } | { duration: number }): Promise<void> {
  const method = plan.method ?? 'GET'
  const requests = (plan.requests ?? [{}]).map((r) => ({ method, path: r.path ?? plan.path, ...(r.body === undefined ? {} : { body: r.body }) }))
  const options = {
    url,
    connections: 10,
    ...amount,
    headers: plan.headers ?? {},
    requests,
    idReplacement: requests.some((r) => r.body?.includes('[<id>]')),
    expect3xx: method === 'POST'
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', driver, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) => code === 0 ? resolve() : reject(new Error(`autocannon exited with ${code ?? 'a signal'}`)))
  })
}

/**
 * CPU time of the main thread in µs, from Linux's per-thread counters (the rest of the
 * process's CPU is SQLite's work in libuv's threads, and the garbage collector's); NaN
 * elsewhere.
 */
function mainThreadCpu (): number {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 1e6 / 100
  } catch {
    return NaN
  }
}

/** Microseconds of this process's CPU (user + system, every thread) per request, and the main thread's share. */
async function cpuPerRequest (url: string, plan: Load, name: string): Promise<{ total: number, main: number }> {
  if (warmupSeconds > 0) await load(url, plan, { duration: warmupSeconds })
  const profiler = values['cpu-prof'] === '' ? undefined : await startProfiler()
  const before = process.cpuUsage()
  const mainBefore = mainThreadCpu()
  await load(url, plan, { amount: requests })
  const used = process.cpuUsage(before)
  const main = mainThreadCpu() - mainBefore
  if (profiler) await profiler.stop(join(values['cpu-prof'], `${name.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`))
  return { total: (used.user + used.system) / requests, main: main / requests }
}

async function startProfiler (): Promise<{ stop: (file: string) => Promise<void> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return {
    stop: async (file) => {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(file, JSON.stringify(profile))
      session.disconnect()
    }
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cpu-'))
const logFd = openSync(join(dataDir, 'app.log'), 'a')
const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: values['log-level'], TICKET_RATE_LIMIT: '100000000' }),
  { startWorkers: false, logStream: { write: (line: string) => { writeSync(logFd, line) } } })
try {
  const seed = await seedTickets(app.db, Number(values.tickets))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const appUrl = urlOf(app)
  const homeHtml = await (await fetch(appUrl + '/', { headers: { 'accept-encoding': 'identity' } })).text()
  const bareServer = Fastify({ logger: false })
  bareServer.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(homeHtml))
  await bareServer.listen({ host: '127.0.0.1', port: 0 })

  const newTickets = async (): Promise<Load> => ({ path: '/tickets', method: 'POST', ...await newTicketRequests(appUrl) })
  const staff = async (): Promise<string> => staffCookie(await signInStaff(app.db, appUrl, seed), appUrl)
  const endpoints: Array<{ name: string, target?: number, plan: () => Promise<Load> }> = [
    { name: 'portal home', target: 0.5, plan: async () => ({ path: '/' }) },
    { name: 'portal home (gzip)', target: 0.5, plan: async () => ({ path: '/', headers: { 'accept-encoding': 'gzip' } }) },
    { name: 'new ticket form', target: 0.25, plan: async () => ({ path: '/tickets/new' }) },
    { name: 'create ticket', plan: newTickets },
    {
      // As in run.ts: from here on, every topic routes to the team and runs an SLA plan.
      name: 'create ticket (routing + SLA)',
      plan: async () => {
        await routeAndTimeEveryTopic(app.db, seed)
        return await newTickets()
      }
    },
    { name: 'staff queue: Mine', plan: async () => ({ path: '/staff/queues/mine', headers: { cookie: await staff() } }) },
    { name: 'staff queue: All open', plan: async () => ({ path: '/staff/queues/open', headers: { cookie: await staff() } }) },
    {
      name: 'staff queue: All open, page 2',
      plan: async () => {
        const cookie = await staff()
        return { path: await secondQueuePage(appUrl, cookie), headers: { cookie } }
      }
    },
    {
      name: 'staff ticket page',
      plan: async () => {
        const cookie = await staff()
        return { path: '/staff/tickets', headers: { cookie }, requests: (await ticketPagePaths(appUrl, cookie)).map((path) => ({ path })) }
      }
    }
  ]

  const bare = await cpuPerRequest(urlOf(bareServer), { path: '/' }, 'bare')
  const rows: Array<[string, { total: number, main: number }, number | undefined]> = [['bare Fastify, same-size page', bare, undefined]]
  for (const endpoint of endpoints) {
    if (only.length > 0 && !only.some((o) => endpoint.name.toLowerCase().includes(o))) continue
    process.stderr.write(`→ ${endpoint.name}\n`)
    rows.push([endpoint.name, await cpuPerRequest(appUrl, await endpoint.plan(), endpoint.name), endpoint.target])
  }
  await bareServer.close()
  const lines = [`server CPU per request, ${requests} requests each, 10 connections, ${values.tickets} tickets, app log level ${values['log-level']}`, '',
    '| endpoint | µs CPU / request | of which main thread | req/s per core | bare / this | target |', '|---|---:|---:|---:|---:|---:|']
  for (const [name, us, target] of rows) {
    lines.push(`| ${name} | ${us.total.toFixed(0)} | ${us.main.toFixed(0)} | ${Math.round(1e6 / us.total)} | ${(bare.total / us.total).toFixed(2)}× | ${target ? `≥ ${target.toFixed(2)}×` : ''} |`)
  }
  process.stderr.write(lines.join('\n') + '\n')
} finally {
  await app.close()
  rmSync(dataDir, { recursive: true, force: true })
}
