import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config.js'
import { createDatabase, migrateToLatest } from '../src/data/database.js'
import { projectRoot } from '../src/paths.js'
import { seedTickets } from './seed.js'

/**
 * Resident memory of the production server (`node dist/src/server.js`, run `npm run build`
 * first) while it serves the portal under load, on a database seeded with N tickets.
 *
 *   npx tsx bench/memory.ts --tickets 10000 --duration 10
 */

interface AutocannonResult { requests: { average: number }, errors: number, non2xx: number }
const autocannon = createRequire(import.meta.url)('autocannon') as (options: object) => Promise<AutocannonResult>

function rssOf (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { tickets: { type: 'string', default: '10000' }, duration: { type: 'string', default: '10' } } })
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-memory-'))
  const port = 3900 + Math.floor(Math.random() * 90)
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' })
  const db = createDatabase(config)
  await migrateToLatest(db)
  await seedTickets(db, Number(values.tickets))
  await db.destroy()

  // The same Node flags `npm start` uses (they bound the heap; see README, "Memory").
  const startScript = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  const nodeFlags = /node ((?:--\S+ )*)dist\/src\/server\.js/.exec(startScript)?.[1]?.trim().split(' ').filter(Boolean) ?? []
  const server = spawn(process.execPath, [...nodeFlags, join(projectRoot, 'dist/src/server.js')], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', TICKET_RATE_LIMIT: '100000000' },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  try {
    const url = `http://127.0.0.1:${port}`
    for (let i = 0; i < 100 && !await fetch(`${url}/healthz`).then((r) => r.ok, () => false); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    const idle = rssOf(server.pid!)
    let peak = idle
    const sampler = setInterval(() => { peak = Math.max(peak, rssOf(server.pid!)) }, 100)
    const result = await autocannon({
      url,
      connections: 20,
      duration: Number(values.duration),
      requests: [{ method: 'GET', path: '/' }, { method: 'GET', path: '/tickets/new' }, { method: 'GET', path: '/check' }]
    })
    clearInterval(sampler)
    const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`
    console.log(`production server, ${values.tickets} tickets: RSS idle ${mib(idle)}, peak under load ${mib(peak)} ` +
      `(${Math.round(result.requests.average)} req/s over ${values.duration} s, 20 connections, ${result.errors} errors, ${result.non2xx} non-2xx); budget 150 MiB: ${peak < 150 * 1024 * 1024 ? 'met' : '**not met**'}`)
  } finally {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
