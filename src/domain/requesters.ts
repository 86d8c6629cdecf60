import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import { isUniqueViolation, transactionRetryingDeadlocks } from '../data/database.js'
import { findRequester, findRequesterByEmail, markRequesterMerged, moveRequesterTickets, updateRequester, type RequesterRow } from '../data/requesters.js'
import { changedFields, recordAdminChange } from './admin-log.js'
import { normalizeEmail } from './email-address.js'
import { notFound, TesseraError } from './errors.js'
import { roleRank } from './permissions.js'

/*
 * Who may change the requester directory: editing a person's name, address or note takes
 * a working role (agent or manager) somewhere; merging two records, which moves tickets
 * between people, takes a manager. Administrators may do both. Each change is a row of the
 * admin log, with what it was before.
 */

export function mayEditRequesters (access: AgentAccess): boolean {
  return access.isAdmin || Object.values(access.roles).some((role) => roleRank[role] >= roleRank.agent)
}

export function mayMergeRequesters (access: AgentAccess): boolean {
  return access.isAdmin || Object.values(access.roles).includes('manager')
}

function assertMay (allowed: boolean): void {
  if (!allowed) throw new TesseraError('TESSERA_FORBIDDEN', 'Your role does not allow that.')
}

async function liveRequester (db: Knex | Knex.Transaction, id: number): Promise<RequesterRow> {
  const requester = await findRequester(db, id)
  if (!requester) throw notFound('That requester')
  return requester
}

export function createRequesterDirectory (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now

  return {
    /** Name and address; an address another record holds is refused (merge the two instead). */
    async editRequester (access: AgentAccess, id: number, input: { name: string, email: string }): Promise<void> {
      assertMay(mayEditRequesters(access))
      const wanted = { name: input.name.trim(), email: normalizeEmail(input.email) }
      try {
        await transactionRetryingDeadlocks(db, async (trx) => {
          const at = now()
          const before = await liveRequester(trx, id)
          const change = changedFields({ name: before.name, email: before.email }, wanted)
          if (!change) return
          await updateRequester(trx, id, change.after, at)
          await recordAdminChange(trx, access, { subject: 'requester', subjectId: id, action: 'edited', ...change }, at)
        })
      } catch (err) {
        if (isUniqueViolation(err)) throw new TesseraError('TESSERA_INVALID_INPUT', `${wanted.email} belongs to another requester; merge the two records instead.`)
        throw err
      }
    },

    async noteRequester (access: AgentAccess, id: number, note: string): Promise<void> {
      assertMay(mayEditRequesters(access))
      await transactionRetryingDeadlocks(db, async (trx) => {
        const at = now()
        const before = await liveRequester(trx, id)
        const text = note.trim() === '' ? null : note.trim()
        if ((before.note ?? null) === text) return
        await updateRequester(trx, id, { note: text }, at)
        await recordAdminChange(trx, access, { subject: 'requester', subjectId: id, action: 'noted', before: { note: before.note ?? null }, after: { note: text } }, at)
      })
    },

    /**
     * Merges the record `sourceId` into the one with `targetEmail`: its tickets move (their
     * private links keep working: a link belongs to a ticket, not a person), and mail from
     * its address lands on the surviving record from now on.
     */
    async mergeRequesters (access: AgentAccess, sourceId: number, targetEmail: string): Promise<RequesterRow> {
      assertMay(mayMergeRequesters(access))
      return await transactionRetryingDeadlocks(db, async (trx) => {
        const at = now()
        const source = await liveRequester(trx, sourceId)
        const target = await findRequesterByEmail(trx, normalizeEmail(targetEmail))
        if (!target) throw new TesseraError('TESSERA_INVALID_INPUT', `There is no requester with the address ${normalizeEmail(targetEmail)}.`)
        if (target.id === source.id) throw new TesseraError('TESSERA_INVALID_INPUT', 'A requester cannot be merged with themselves.')
        if (source.merged_into_id) throw new TesseraError('TESSERA_INVALID_INPUT', `${source.email} was already merged into another requester.`)
        if (target.merged_into_id) throw new TesseraError('TESSERA_INVALID_INPUT', `${target.email} was itself merged into another requester; merge into that one.`)
        const moved = await moveRequesterTickets(trx, source.id, target.id)
        await markRequesterMerged(trx, source.id, target.id, at)
        await recordAdminChange(trx, access, {
          subject: 'requester',
          subjectId: target.id,
          action: 'merged',
          before: { name: source.name, email: source.email },
          after: { into: target.email, tickets_moved: moved }
        }, at)
        return target
      })
    }
  }
}

export type RequesterDirectory = ReturnType<typeof createRequesterDirectory>
