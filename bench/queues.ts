import { queueNames } from '../src/data/queues.js'
import { benchLargeDesk, databaseName } from './large-desk.js'

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

await benchLargeDesk({ requests: 200, warmup: 20 }, async ({ s }) => ({
  title: `Queue pages at ${s.tickets.toLocaleString('en-US')} tickets on ${databaseName(s.databaseUrl)}`,
  row: 'queue',
  counted: 'rows shown',
  pages: queueNames.map((queue) => ({ name: queue, path: `/staff/queues/${queue}`, count: /name="tickets" value=/g }))
}))
