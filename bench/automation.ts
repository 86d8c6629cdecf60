import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { dialectOfDb } from '../src/data/database.js'
import { putSetting } from '../src/data/settings.js'
import { deskSettingKeys } from '../src/domain/desk-settings.js'
import { keptDatabase } from './large-desk.js'
import { seedTickets } from './seed.js'
import { queryPlan } from '../test/helpers/query-plan.js'

/**
 * The scheduler's pass over a large desk (issue 11: a million tickets, 100,000 of them open
 * or pending, under 1 s, using indexes):
 *
 *   npx tsx bench/automation.ts --tickets 1000000
 *   npx tsx bench/automation.ts --tickets 1000000 --database-url postgres://postgres@127.0.0.1:5432/test
 *
 * Like bench/queues.ts, the seeded database is kept (tessera_automation_<tickets>) and reused.
 * It prints the plan of every list query a pass makes (each must walk an index, never scan
 * the table), then times passes at the seed's "now": first the catch-up pass, which acts on
 * everything the seed left due (`--catch-up` only; it closes and reminds thousands of
 * tickets through the lifecycle), then `--passes` steady passes, which find nothing or little
 * due: the cost every instance pays each minute.
 */

const { values } = parseArgs({
  options: {
    tickets: { type: 'string', default: '1000000' },
    passes: { type: 'string', default: '5' },
    'database-url': { type: 'string', default: '' },
    'catch-up': { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false }
  }
})
const tickets = Number(values.tickets)
const passes = Math.max(1, Number(values.passes))
const server = values['database-url']
const log = (line: string): void => { process.stderr.write(line + '\n') }
// The seed's timeline ends here; the passes run at this moment.
const seedNow = Date.UTC(2026, 10, 26, 9, 0)

async function main (): Promise<void> {
  let database = await keptDatabase(server, tickets, 'tessera_automation')
  if (values.fresh) {
    await database.drop()
    database = await keptDatabase(server, tickets, 'tessera_automation')
  }
  let clock = seedNow
  const app = await buildApp(loadConfig({ DATA_DIR: database.dataDir, DATABASE_URL: database.url, LOG_LEVEL: 'silent' }), { startWorkers: false, now: () => clock })
  try {
    await app.ready()
    const { db } = app
    const have = Number((await db('tickets').count({ n: '*' }).first() as { n: number | string }).n)
    if (have === 0 && tickets > 0) {
      log(`seeding ${tickets.toLocaleString('en-US')} tickets (kept for the next run)…`)
      log(`seeded in ${((await seedTickets(db, tickets, { now: seedNow })).ms / 1000).toFixed(1)} s`)
    } else if (existsSync(database.dataDir)) {
      log(`reusing the kept database with ${have.toLocaleString('en-US')} tickets`)
    }
    const byStatus = await db('tickets').groupBy('status').select('status').count({ n: '*' }) as Array<{ status: string, n: number | string }>
    log(`tickets by status: ${byStatus.map((r) => `${r.status} ${Number(r.n).toLocaleString('en-US')}`).join(', ')}`)

    await putSetting(db, deskSettingKeys.autoCloseDays, '7')
    await putSetting(db, deskSettingKeys.reminderDays, '3')
    await putSetting(db, deskSettingKeys.autoResolveDays, '4')
    app.deskSettings.forget()

    // The list queries a pass makes, with their plans.
    const lists: Array<{ sql: string, bindings: unknown[] }> = []
    const capture = (query: { sql: string, bindings?: unknown[] }): void => {
      if (/^select/i.test(query.sql) && /job_leases/.test(query.sql) && !lists.some((q) => q.sql === query.sql)) lists.push({ sql: query.sql, bindings: query.bindings ?? [] })
    }
    db.on('query', capture)
    if (values['catch-up']) {
      const started = performance.now()
      const handled = await app.scheduler.runOnce()
      log(`catch-up pass: ${JSON.stringify(handled)} in ${(performance.now() - started).toFixed(0)} ms`)
    } else {
      // Without the catch-up, move "now" back to a moment where little is due, so the
      // steady passes below measure the search, not thousands of closings.
      clock = seedNow - 400 * 86_400_000
    }
    const times: number[] = []
    for (let i = 0; i < passes; i++) {
      clock += 60_000
      const started = performance.now()
      const handled = await app.scheduler.runOnce()
      times.push(performance.now() - started)
      if (i === 0) log(`first steady pass handled ${JSON.stringify(handled)}`)
    }
    db.removeListener('query', capture)
    const dialect = dialectOfDb(db)
    for (const query of lists) {
      const plan = (await queryPlan(db, query)).text
      const scans = dialect === 'sqlite'
        ? /SCAN (t|tickets)\b(?! USING)/.test(plan)
        : dialect === 'postgres' ? /"Node Type":"Seq Scan"[^{}]*"Relation Name":"tickets"/.test(plan) : /"type":"ALL"/.test(plan)
      log(`${scans ? 'FULL SCAN' : 'index'}: ${query.sql.slice(0, 90)}…\n  ${plan.slice(0, 400)}`)
    }
    times.sort((a, b) => a - b)
    log(`steady pass over ${tickets.toLocaleString('en-US')} tickets: median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms (target: under 1000 ms)`)
  } finally {
    await app.close()
  }
}

await main()
