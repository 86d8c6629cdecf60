import type { Knex } from 'knex'
import { up as backfillReports } from '../migrations/20261203010100_report_daily_backfill.js'
import { benchLargeDesk, databaseName } from './large-desk.js'
import { withoutLimits } from '../src/data/database.js'

/**
 * Report page latency on a large desk, one connection, one request after the other:
 *
 *   npx tsx bench/reports.ts --tickets 1000000
 *   npx tsx bench/reports.ts --tickets 1000000 --database-url postgres://postgres@127.0.0.1:5432/test
 *
 * Uses the desk bench/queues.ts keeps (seeded on first use; opening it runs the report
 * backfill migration on it). The seed writes only 'created' events, so once this adds, in
 * SQL, the status change behind every seeded resolution and closing, and runs the backfill
 * again (timed): the resolution numbers then have something to count. Each page is timed
 * around the whole request, as the seeded manager of the support departments.
 */

/** A status_changed event for each seeded ticket that was resolved or closed, written once. */
async function addResolutions (db: Knex, log: (line: string) => void): Promise<boolean> {
  if (await db('events').where({ type: 'status_changed' }).first('id')) return false
  log('adding the status change behind every seeded resolution…')
  const started = Date.now()
  const max = Number((await db('tickets').max({ max: 'id' }).first() as { max: number | string | null }).max ?? 0)
  const chunk = 50_000
  await withoutLimits(db, async (own) => {
    for (let from = 0; from <= max; from += chunk) {
      await own.raw(`insert into events (ticket_id, type, actor_kind, before_state, after_state, created_at)
      select t.id, 'status_changed', 'system', ?, case when t.status = 'closed' then ? else ? end, coalesce(t.resolved_at, t.closed_at)
      from tickets t where t.id > ? and t.id <= ? and t.status in ('resolved', 'closed') and coalesce(t.resolved_at, t.closed_at) is not null`,
      ['{"status":"open"}', '{"status":"closed"}', '{"status":"resolved"}', from, from + chunk])
    }
  })
  log(`added in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return true
}

await benchLargeDesk({ requests: 30, warmup: 3 }, async ({ app, s, log }) => {
  let backfill = ''
  if (await addResolutions(app.db, log)) {
    const started = Date.now()
    // As a migration runs: on a connection of its own, without the requests' time limits.
    await withoutLimits(app.db, backfillReports)
    backfill = `backfill migration (re)run in ${((Date.now() - started) / 1000).toFixed(1)} s; `
    log(backfill)
  }
  const rows = Number((await app.db('report_daily').count({ n: '*' }).first() as { n: number | string }).n)
  const today = new Date().toISOString().slice(0, 10)
  const daysAgo = (n: number): string => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10)
  const page = (name: string, path: string): { name: string, path: string, count: RegExp } =>
    ({ name, path, count: path.includes('.csv') ? /\r\n/g : /<tr><th scope="row">/g })
  return {
    title: `Reports at ${s.tickets.toLocaleString('en-US')} tickets (${rows.toLocaleString('en-US')} report_daily rows), on ${databaseName(s.databaseUrl)}`,
    setup: backfill,
    row: 'page',
    counted: 'table rows',
    pages: [
      page('default: last 30 days per day, by department', '/staff/reports'),
      page('90 days per week, by agent', `/staff/reports?from=${daysAgo(89)}&to=${today}&group=week&by=agent`),
      page('180 days per day, by help topic', `/staff/reports?from=${daysAgo(179)}&to=${today}&group=day&by=topic`),
      page('longest range (731 days) per day, by team', `/staff/reports?from=${daysAgo(730)}&to=${today}&group=day&by=team`),
      page('a past month (backlog summed before it), by agent', `/staff/reports?from=${daysAgo(120)}&to=${daysAgo(91)}&by=agent`),
      page('CSV: first response, 180 days', `/staff/reports/first-response.csv?from=${daysAgo(179)}&to=${today}`),
      page('CSV: breakdown by agent, 180 days', `/staff/reports/breakdown.csv?from=${daysAgo(179)}&to=${today}&by=agent`)
    ]
  }
})
