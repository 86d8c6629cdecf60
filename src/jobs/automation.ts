import type { Knex } from 'knex'
import { findAutomationState, listPendingToRemind, listRemindedUnanswered, listResolvedSince } from '../data/automation.js'
import { findTicketById, type TicketRow } from '../data/tickets.js'
import { dayMs, remindClient } from '../domain/automation.js'
import type { DeskSettings } from '../domain/desk-settings.js'
import { isTesseraError } from '../domain/errors.js'
import type { Lifecycle } from '../domain/lifecycle.js'
import { forEachLeased, type ScheduledJob } from './scheduler.js'

export interface AutomationOptions {
  lifecycle: Lifecycle
  settings: () => Promise<Pick<DeskSettings, 'autoCloseDays' | 'reminderDays' | 'autoResolveDays'>>
  /** This instance's lease owner (see newLeaseOwner). */
  owner: string
  /** Tickets per query; a pass takes batches until nothing is due. */
  batch?: number
}

const system = { kind: 'system' } as const

/**
 * The automation steps of the lifecycle, as scheduled jobs: auto-close, the reminder to the
 * client and auto-resolve. Each pass lists what is due in index order, leases each ticket,
 * reads it again and acts through the lifecycle's verbs as Tessera, so a ticket that changed
 * in the meantime is left alone.
 */
export function automationJobs (options: AutomationOptions): ScheduledJob[] {
  const batch = options.batch ?? 100

  /** Lists, leases and works batches until a batch changes nothing more. */
  async function drain (db: Knex, job: string, now: number, list: () => Promise<number[]>, work: (id: number) => Promise<boolean>): Promise<number> {
    let total = 0
    for (;;) {
      const ids = await list()
      const done = await forEachLeased(db, job, options.owner, ids, now, work)
      total += done
      if (ids.length < batch || done === 0) return total
    }
  }

  /** Runs the verb; a ticket someone changed a moment ago is not this pass's business. */
  async function unlessChanged (verb: () => Promise<TicketRow>): Promise<boolean> {
    try {
      await verb()
      return true
    } catch (err) {
      if (isTesseraError(err, 'TESSERA_CONFLICT', 'TESSERA_TRANSITION_REFUSED')) return false
      throw err
    }
  }

  const autoClose: ScheduledJob = {
    name: 'auto_close',
    async run (db, now) {
      const { autoCloseDays } = await options.settings()
      if (autoCloseDays === 0) return 0
      const cutoff = now - autoCloseDays * dayMs
      return await drain(db, 'auto_close', now, async () => await listResolvedSince(db, 'auto_close', cutoff, now, batch), async (id) => {
        const ticket = await findTicketById(db, id)
        if (ticket?.status !== 'resolved' || ticket.deleted_at !== null || (ticket.resolved_at ?? Infinity) > cutoff) return false
        return await unlessChanged(async () => await options.lifecycle.closeTicket(ticket, system))
      })
    }
  }

  const remind: ScheduledJob = {
    name: 'pending_reminder',
    async run (db, now) {
      const { reminderDays } = await options.settings()
      if (reminderDays === 0) return 0
      const cutoff = now - reminderDays * dayMs
      return await drain(db, 'pending_reminder', now, async () => await listPendingToRemind(db, 'pending_reminder', cutoff, now, batch),
        async (id) => await remindClient(db, id, reminderDays, now))
    }
  }

  const autoResolve: ScheduledJob = {
    name: 'auto_resolve',
    async run (db, now) {
      const { reminderDays, autoResolveDays } = await options.settings()
      if (reminderDays === 0 || autoResolveDays === 0) return 0
      const cutoff = now - autoResolveDays * dayMs
      return await drain(db, 'auto_resolve', now, async () => await listRemindedUnanswered(db, 'auto_resolve', cutoff, now, batch), async (id) => {
        const [ticket, state] = await Promise.all([findTicketById(db, id), findAutomationState(db, id)])
        const remindedAt = state?.reminded_at ?? null
        if (ticket?.status !== 'pending' || ticket.deleted_at !== null || remindedAt === null || remindedAt > cutoff || remindedAt <= ticket.last_activity_at) return false
        return await unlessChanged(async () => await options.lifecycle.resolveTicket(ticket, system))
      })
    }
  }

  return [remind, autoResolve, autoClose]
}
