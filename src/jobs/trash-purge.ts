import type { FastifyBaseLogger } from 'fastify'
import type { Lifecycle } from '../domain/lifecycle.js'
import { repeatEvery } from './repeat.js'

export interface TrashPurgeOptions {
  lifecycle: Lifecycle
  log: FastifyBaseLogger
  intervalMs: number
}

/**
 * Empties the trash of tickets past their retention, on a timer in every instance. Each
 * ticket is purged in its own transaction that first locks its row, so instances running
 * at once never trip over each other: one deletes, the others find nothing left.
 */
export function createTrashPurge (options: TrashPurgeOptions) {
  async function purge (): Promise<number> {
    let total = 0
    // Batches, so a large backlog never holds many rows in memory or one long transaction.
    for (;;) {
      const batch = await options.lifecycle.purgeTrash()
      total += batch
      if (batch === 0 || loop.stopped) break
    }
    if (total > 0) options.log.info({ purged: total }, 'deleted tickets purged from the trash')
    return total
  }

  const loop = repeatEvery(options.intervalMs, purge, (err) => { options.log.error({ err }, 'trash purge failed') })

  return {
    start: loop.start,
    /** One purge now; returns how many tickets were deleted for good. */
    runOnce: async (): Promise<number> => await purge(),
    stop: loop.stop
  }
}

export type TrashPurge = ReturnType<typeof createTrashPurge>
