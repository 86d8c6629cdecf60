import { spawn } from 'node:child_process'
import { mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import Fastify, { type FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { projectRoot } from '../src/paths.js'

/**
 * Server CPU time per request for the portal pages and a bare Fastify page of the same
 * bytes. The load generator (autocannon) runs as a separate process and is not counted, so
 * the ratio holds on a busy or shared machine, where req/s mostly measures the neighbours:
 *
 *   npx tsx bench/cpu.ts [--requests 20000] [--log-level info]
 *
 * bare µs / page µs is the share of the bare page's throughput the page reaches when the
 * server is the bottleneck (targets: home and gzip home ≥ 0.5, new-ticket form ≥ 0.25).
 */

const { values } = parseArgs({ options: { requests: { type: 'string', default: '20000' }, 'log-level': { type: 'string', default: 'info' } } })
const requests = Number(values.requests)

function urlOf (server: FastifyInstance): string {
  return `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`
}

async function load (url: string, headers: Record<string, string>, amount: number): Promise<void> {
  const args = [join(projectRoot, 'node_modules/autocannon/autocannon.js'), '-c', '10', '-a', String(amount), '-j', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url]
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) => code === 0 ? resolve() : reject(new Error(`autocannon exited with ${code ?? 'a signal'}`)))
  })
}

/** Microseconds of this process's CPU (user + system) per request. */
async function cpuPerRequest (url: string, headers: Record<string, string> = {}): Promise<number> {
  await load(url, headers, 500)
  const before = process.cpuUsage()
  await load(url, headers, requests)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / requests
}

const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cpu-'))
const logFd = openSync(join(dataDir, 'app.log'), 'a')
const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: values['log-level'] }), { startWorkers: false, logStream: { write: (line: string) => { writeSync(logFd, line) } } })
try {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const appUrl = urlOf(app)
  const homeHtml = await (await fetch(appUrl + '/', { headers: { 'accept-encoding': 'identity' } })).text()
  const bare = Fastify({ logger: false })
  bare.get('/', async (_request, reply) => await reply.type('text/html; charset=utf-8').send(homeHtml))
  await bare.listen({ host: '127.0.0.1', port: 0 })

  const bareUs = await cpuPerRequest(urlOf(bare))
  const rows: Array<[string, number, number]> = [['bare Fastify, same-size page', bareUs, 0]]
  for (const [name, path, headers, target] of [
    ['portal home', '/', {}, 0.5],
    ['portal home (gzip)', '/', { 'accept-encoding': 'gzip' }, 0.5],
    ['new ticket form', '/tickets/new', {}, 0.25]
  ] as const) {
    rows.push([name, await cpuPerRequest(appUrl + path, headers), target])
  }
  await bare.close()
  const lines = [`server CPU per request, ${requests} requests each, 10 connections, app log level ${values['log-level']}`, '',
    '| endpoint | µs CPU / request | bare / this | target |', '|---|---:|---:|---:|']
  for (const [name, us, target] of rows) lines.push(`| ${name} | ${us.toFixed(0)} | ${(bareUs / us).toFixed(2)}× | ${target ? `≥ ${target.toFixed(2)}×` : ''} |`)
  process.stderr.write(lines.join('\n') + '\n')
} finally {
  await app.close()
  rmSync(dataDir, { recursive: true, force: true })
}
