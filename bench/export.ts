import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createDatabase } from '../src/data/database.js'
import { keptDatabase } from './large-desk.js'
import { mib, startProductionServer } from './production-server.js'
import { setBenchPassword, signIn } from './staff.js'

/**
 * Resident memory of the production server (`node dist/src/server.js`, run `npm run build`
 * first) while an administrator downloads the largest queue of the kept SQLite desk as CSV:
 *
 *   npx tsx bench/export.ts --tickets 1000000 [--queue closed]
 *
 * Works on a copy of the desk bench/queues.ts keeps (seed it with that first), which the
 * server's stop removes.
 */

const { values } = parseArgs({ options: { tickets: { type: 'string', default: '1000000' }, queue: { type: 'string', default: 'closed' } } })
const kept = await keptDatabase('', Number(values.tickets))
if (!kept.exists) throw new Error(`no kept desk of ${values.tickets} tickets: run npx tsx bench/queues.ts --tickets ${values.tickets} first`)
const dataDir = mkdtempSync(join(tmpdir(), 'tessera-export-'))
cpSync(kept.dataDir, dataDir, { recursive: true })

const db = createDatabase({ dataDir, databaseUrl: '' })
const admin = await db('agents').where({ is_admin: true }).orderBy('id').first('id', 'email') as { id: number, email: string }
const password = await setBenchPassword(db, admin.id)
await db.destroy()

const server = await startProductionServer(dataDir, { sampleMs: 50, waitMs: 60_000 })
try {
  const jar = await signIn(server.url, admin.email, password)
  const url = `${server.url}/staff/queues/${values.queue}/export.csv`
  const started = performance.now()
  const res = await fetch(url, { headers: { cookie: jar.header(url) } })
  if (!res.ok || !res.body) throw new Error(`${url} answered ${res.status}`)
  let lines = 0
  let bytes = 0
  for await (const chunk of res.body) {
    bytes += chunk.length
    for (const byte of chunk) if (byte === 10) lines++
  }
  const seconds = (performance.now() - started) / 1000
  console.log(`CSV of the ${values.queue} queue, ${values.tickets} tickets, as an administrator: ${(lines - 1).toLocaleString('en-US')} rows, ` +
    `${mib(bytes)} in ${seconds.toFixed(1)} s; server RSS ${mib(server.idle)} idle, peak ${mib(server.peak())} (budget 150 MiB)`)
} finally {
  await server.stop()
}
