import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../src/config.js'
import { createDatabase, migrateToLatest } from '../src/data/database.js'
import { mib, startProductionServer } from './production-server.js'
import { seedTickets } from './seed.js'

/**
 * Resident memory of the production server (`node dist/src/server.js`, run `npm run build`
 * first) while it serves the portal under load, on a database seeded with N tickets.
 *
 *   npx tsx bench/memory.ts --tickets 10000 --duration 10
 */

interface AutocannonResult { requests: { average: number }, errors: number, non2xx: number }
const autocannon = createRequire(import.meta.url)('autocannon') as (options: object) => Promise<AutocannonResult>

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { tickets: { type: 'string', default: '10000' }, duration: { type: 'string', default: '10' } } })
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-memory-'))
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' })
  const db = createDatabase(config)
  await migrateToLatest(db)
  await seedTickets(db, Number(values.tickets))
  await db.destroy()

  const server = await startProductionServer(dataDir, { sampleMs: 100, waitMs: 10_000 })
  try {
    const url = server.url
    const result = await autocannon({
      url,
      connections: 20,
      duration: Number(values.duration),
      requests: [{ method: 'GET', path: '/' }, { method: 'GET', path: '/tickets/new' }, { method: 'GET', path: '/check' }]
    })
    const peak = server.peak()
    const idle = server.idle
    console.log(`production server, ${values.tickets} tickets: RSS idle ${mib(idle)}, peak under load ${mib(peak)} ` +
      `(${Math.round(result.requests.average)} req/s over ${values.duration} s, 20 connections, ${result.errors} errors, ${result.non2xx} non-2xx); budget 150 MiB: ${peak < 150 * 1024 * 1024 ? 'met' : '**not met**'}`)
  } finally {
    await server.stop()
  }
}

await main()
