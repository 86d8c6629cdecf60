import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import {
  anyPatternBlocked, deleteBlockedSender, findBlockedPattern, findBlockedSender, insertBlockedSender, listBlockedPatterns, listBlockedSenders,
  type BlockedSenderRow
} from '../data/blocked-senders.js'
import { listSetAside, type SetAsideRow } from '../data/set-aside.js'
import type { Db } from '../data/database.js'
import { recordAdminChange } from './admin-log.js'
import { normalizeEmail } from './email-address.js'
import { TesseraError } from './errors.js'

/*
 * Senders an administrator keeps out: one address, or every address at a domain. Their mail
 * is set aside (listed for administrators, never answered, never a ticket) and the portal
 * refuses their tickets without saying why.
 */

export const blockedPatternMaxLength = 254

const domainPattern = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/
const localPattern = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/

/**
 * What an administrator typed as the stored pattern: `name@example.com` for an address,
 * `@example.com` for a domain (typed with or without the `@`); undefined when it is neither.
 */
export function blockedPattern (text: string): string | undefined {
  const typed = normalizeEmail(text)
  const at = typed.lastIndexOf('@')
  const local = at < 0 ? '' : typed.slice(0, at)
  const domain = at < 0 ? typed : typed.slice(at + 1)
  if (!domainPattern.test(domain)) return undefined
  if (local === '') return `@${domain}`
  return localPattern.test(local) ? `${local}@${domain}` : undefined
}

/** The patterns that would block this address: itself and its domain. */
function patternsFor (email: string): string[] {
  const address = normalizeEmail(email)
  const domain = address.slice(address.lastIndexOf('@') + 1)
  return [address, `@${domain}`]
}

/** Whether mail or tickets from this address are refused. */
export async function isBlockedSender (db: Db, email: string): Promise<boolean> {
  return await anyPatternBlocked(db, patternsFor(email))
}

/**
 * How long this instance trusts the list it read: every ticket from the portal asks, and the
 * list is short and rarely changes. A block made here counts at once; one made by another
 * instance, within this long.
 */
export const blockedListCacheMs = 1000

/** Past this many patterns the list is not kept in memory: each question is a look-up. */
const patternsKeptAtMost = 10_000

export function createBlockedSenders (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now
  let remembered: { patterns: Promise<Set<string> | undefined>, until: number } | undefined

  function patterns (): Promise<Set<string> | undefined> {
    // Real time, not the app's clock (tests stop that): the point is a short while.
    const wall = Date.now()
    if (remembered === undefined || wall >= remembered.until) {
      const loading = listBlockedPatterns(db, patternsKeptAtMost).then((list) => list && new Set(list))
      remembered = { patterns: loading, until: wall + blockedListCacheMs }
      loading.catch(() => { if (remembered?.patterns === loading) remembered = undefined })
    }
    return remembered.patterns
  }

  return {
    list: async (): Promise<BlockedSenderRow[]> => await listBlockedSenders(db),
    /** Their latest mail, set aside by inbound mail beside the other mail that became no ticket. */
    setAside: async (limit: number): Promise<SetAsideRow[]> => await listSetAside(db, 'blocked', undefined, limit),
    async isBlocked (email: string): Promise<boolean> {
      const kept = await patterns()
      return kept === undefined ? await isBlockedSender(db, email) : patternsFor(email).some((pattern) => kept.has(pattern))
    },

    /** Blocks an address or a domain; blocking one already blocked is calm. */
    async block (admin: AgentAccess, text: string): Promise<{ id: number, pattern: string }> {
      const pattern = blockedPattern(text)
      if (pattern === undefined) throw new TesseraError('TESSERA_INVALID_INPUT', 'Enter an e-mail address like name@example.com or a domain like example.com.')
      const blocked = await db.transaction(async (trx) => {
        const existing = await findBlockedPattern(trx, pattern)
        if (existing) return { id: existing.id, pattern }
        const at = now()
        const id = await insertBlockedSender(trx, pattern, admin.id, at)
        await recordAdminChange(trx, admin, { subject: 'blocked_sender', subjectId: id, action: 'blocked', after: { pattern } }, at)
        return { id, pattern }
      })
      remembered = undefined
      return blocked
    },

    /** Unblocks; unblocking twice is calm (undefined the second time). */
    async unblock (admin: AgentAccess, id: number): Promise<string | undefined> {
      const unblocked = await db.transaction(async (trx) => {
        const blocked = await findBlockedSender(trx, id)
        if (!blocked || !await deleteBlockedSender(trx, id)) return undefined
        await recordAdminChange(trx, admin, { subject: 'blocked_sender', subjectId: id, action: 'unblocked', before: { pattern: blocked.pattern } }, now())
        return blocked.pattern
      })
      remembered = undefined
      return unblocked
    }
  }
}

export type BlockedSenders = ReturnType<typeof createBlockedSenders>
