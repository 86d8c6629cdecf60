import { dialectOf } from '../src/data/database.js'
import { queueNames } from '../src/data/queues.js'
import { largeDeskSettings, openLargeDesk, timePage, type LargeDeskSettings } from './large-desk.js'

/**
 * Queue page latency on a large desk, one connection, one request after the other:
 *
 *   npx tsx bench/queues.ts --tickets 1000000
 *   npx tsx bench/queues.ts --tickets 1000000 --database-url postgres://postgres@127.0.0.1:5432/test
 *   npx tsx bench/queues.ts --tickets 1000000 --database-url mysql://root@127.0.0.1:3306/test
 *
 * Seeding a million tickets takes minutes, so the seeded database is kept and reused: a
 * folder under the system's temporary directory for SQLite, a schema (PostgreSQL) or a
 * database (MySQL) named after the ticket count on a server. `--fresh` drops it and seeds
 * again; `--drop` only drops it. The app migrates the kept database on start, so a new
 * migration (an index) is measured on the same data as the run before it.
 *
 * Latency is timed here around each request (sub-millisecond, unlike autocannon), after a
 * warm-up, as the seeded manager with the most departments sees each queue.
 */

const settings = (): LargeDeskSettings => largeDeskSettings({ requests: 200, warmup: 20 })

async function main (): Promise<void> {
  const s = settings()
  const log = (line: string): void => { process.stderr.write(line + '\n') }
  const { app, base, cookie, email } = await openLargeDesk(s, log)
  if (!app) return
  try {
    const dialect = dialectOf(s.databaseUrl)
    const out = [
      `## Queue pages at ${s.tickets.toLocaleString('en-US')} tickets on ${dialect === 'sqlite' ? 'SQLite' : dialect === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'}`,
      '',
      `node ${process.version}; one connection; ${s.warmup} warm-up and ${s.requests} timed requests per queue, as ${email}`,
      '',
      '| queue | rows shown | p50 ms | p99 ms | max ms |',
      '| --- | ---: | ---: | ---: | ---: |'
    ]
    for (const queue of queueNames) {
      const url = `${base}/staff/queues/${queue}`
      const t = await timePage(url, cookie, s, /name="tickets" value=/g)
      out.push(`| ${queue} | ${t.shown} | ${t.p50} | ${t.p99} | ${t.max} |`)
      log(out[out.length - 1]!)
    }
    process.stdout.write(out.join('\n') + '\n')
  } finally {
    await app.close()
  }
}

await main()
