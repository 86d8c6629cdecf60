import type { FastifyBaseLogger } from 'fastify'
import type { Knex } from 'knex'
import { randomBytes } from 'node:crypto'
import { releaseJobLease, takeJobLease } from '../data/job-leases.js'
import { repeatEvery } from './repeat.js'

/**
 * One time-based job: a pass that finds what is due at `now`, does it and returns how many
 * items it handled. A pass must be idempotent (run twice, the second changes nothing) and
 * safe beside the same pass on another instance: take each item with `forEachLeased`.
 */
export interface ScheduledJob {
  name: string
  run: (db: Knex, now: number) => Promise<number>
}

/** How long an item stays taken; a pass that crashed releases it only by expiry. */
export const jobLeaseMs = 5 * 60_000

/** Identifies this instance's leases (a process may build several apps, as tests do). */
export function newLeaseOwner (): string {
  return `scheduler-${randomBytes(8).toString('hex')}`
}

/**
 * Works each item this instance can lease, one after the other: an item another instance
 * holds is skipped (it is being done there). `work` answers whether it changed anything;
 * it must itself check that the item is still due, in its own transaction. The lease is
 * given back afterwards, also when the work failed.
 */
export async function forEachLeased (db: Knex, job: string, owner: string, ids: readonly number[], now: number,
  work: (id: number) => Promise<boolean>): Promise<number> {
  let done = 0
  for (const id of ids) {
    if (!await takeJobLease(db, job, id, owner, now, now + jobLeaseMs)) continue
    try {
      if (await work(id)) done++
    } finally {
      await releaseJobLease(db, job, id, owner)
    }
  }
  return done
}

export interface SchedulerOptions {
  db: Knex
  jobs: readonly ScheduledJob[]
  log: FastifyBaseLogger
  intervalMs: number
  now?: () => number
}

/**
 * Runs every scheduled job in turn, on a timer in every instance. A failing job is logged
 * and the others still run.
 */
export function createScheduler (options: SchedulerOptions) {
  const now = options.now ?? Date.now

  async function runOnce (): Promise<Record<string, number>> {
    const handled: Record<string, number> = {}
    for (const job of options.jobs) {
      if (loop.stopped) break
      try {
        handled[job.name] = await job.run(options.db, now())
        if (handled[job.name]! > 0) options.log.info({ job: job.name, handled: handled[job.name] }, 'scheduled job done')
      } catch (err) {
        options.log.error({ err, job: job.name }, 'scheduled job failed')
      }
    }
    return handled
  }

  const loop = repeatEvery(options.intervalMs, runOnce, (err) => { options.log.error({ err }, 'scheduler pass failed') })

  return {
    start: loop.start,
    stop: loop.stop,
    /** One pass of every job now; how many items each handled. */
    runOnce,
    jobs: options.jobs
  }
}

export type Scheduler = ReturnType<typeof createScheduler>
