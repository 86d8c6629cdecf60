import t from 'tap'
import { bucketColumns, histogramBuckets } from '../../migrations/20261203010000_report_daily.js'
import { firstResponseBuckets, resolutionBuckets, reportCounters } from '../../src/data/reports.js'
import { bucketEdges } from '../../src/domain/report-counts.js'
import { testApp } from '../helpers/app.js'
import { seedDesk } from '../helpers/fixtures.js'
import { clock, workTheDesk } from '../helpers/report-desk.js'

type Row = Record<string, number>

/**
 * Each day's counters on the rows of one dimension, summed over `departmentIds` (all when
 * undefined), for comparing two ways of counting.
 */
function perDay (rows: Row[], columns: readonly string[], departmentIds?: number[], dimension = 'department'): Record<number, Row> {
  const days: Record<number, Row> = {}
  for (const row of rows) {
    if (row.dimension as unknown !== dimension) continue
    if (departmentIds && !departmentIds.includes(Number(row.department_id))) continue
    for (const column of columns) {
      if (Number(row[column]) === 0) continue
      const day = (days[Number(row.day)] ??= {})
      day[column] = (day[column] ?? 0) + Number(row[column])
    }
  }
  return days
}

t.test('the buckets of the table, the data layer and the domain agree', async (t) => {
  t.equal(histogramBuckets, bucketEdges.length + 1, 'one bucket per edge and an open-ended last one')
  t.same(bucketColumns('fr'), firstResponseBuckets)
  t.same(bucketColumns('rt'), resolutionBuckets)
})

const backfillMigration = '20261203010100_report_daily_backfill'

t.test('the backfill migration counts tickets that existed before it, as the application counts them', async (t) => {
  const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(app)
  await workTheDesk(app, desk)
  const live: Row[] = await app.db('report_daily').select('*')
  t.ok(live.length > 0, 'the application kept counts while the desk worked')

  // Back to before the report migrations (by name: later migrations may follow them): no
  // table, the tickets and their events as they are.
  await app.db.migrate.down({ name: backfillMigration })
  await app.db.migrate.down({ name: '20261203010000_report_daily' })
  t.notOk(await app.db.schema.hasTable('report_daily'))
  await app.db.migrate.latest()
  const backfilled: Row[] = await app.db('report_daily').select('*')

  t.same(perDay(backfilled, reportCounters), perDay(live, reportCounters), 'every counter, day by day, as the application counted it')
  const support = [desk.departments.support]
  t.same(perDay(backfilled, [...firstResponseBuckets, ...resolutionBuckets], support), perDay(live, [...firstResponseBuckets, ...resolutionBuckets], support),
    'the durations of a department counted around the clock, in the same buckets')
  const billing = [desk.departments.billing]
  t.same(perDay(backfilled, firstResponseBuckets, billing), { 20787: { fr_b35: 1 } },
    'in office hours the backfill counts the wall clock (3 days and 1 hour) where the application counted 9 business hours')
  t.same(perDay(live, firstResponseBuckets, billing), { 20787: { fr_b25: 1 } }, 'on Monday 30 November (day 20787)')

  await app.db.migrate.down({ name: backfillMigration })
  await app.db.migrate.latest()
  const again: Row[] = await app.db('report_daily').select('*')
  t.same(perDay(again, reportCounters), perDay(live, reportCounters), 'running it again counts nothing twice')
  for (const dimension of ['team', 'agent', 'topic']) {
    t.same(perDay(again, reportCounters, undefined, dimension), perDay(again, reportCounters), `each count is on its ${dimension} row as on its department row`)
    t.same(perDay(live, reportCounters, undefined, dimension), perDay(live, reportCounters), `…as the application keeps them (${dimension})`)
  }
})
