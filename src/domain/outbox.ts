import type { Knex } from 'knex'
import type { Db } from '../data/database.js'
import { enqueueMessage, requeueMessage, type OutboxRow } from '../data/outbox.js'
import type { AgentAccess } from '../data/agents.js'
import { recordAdminChange } from './admin-log.js'
import { setPasswordResetHash } from '../data/password-resets.js'
import { insertAccessTokens } from '../data/tickets.js'
import { TesseraError } from './errors.js'
import { notices } from './notices.js'
import { newAccessToken } from './secrets.js'

/**
 * The secret a notice's link needs, minted now, while its mail is composed: only the hash
 * is stored, and the raw token exists only in the mail that carries it. Every attempt mints
 * again, so a retry after a failure never needs a token kept from before. Undefined for
 * notices without a private link; a TesseraError when the reset was used or expired meanwhile.
 */
export async function mintLinkToken (db: Db, row: Pick<OutboxRow, 'template' | 'ticket_id' | 'payload'>, at: number): Promise<string | undefined> {
  const link = notices[row.template].link
  if (link === 'ticket' && row.ticket_id !== null) {
    const { token, hash } = newAccessToken()
    await insertAccessTokens(db, [{ ticketId: row.ticket_id, tokenHash: hash, at }])
    return token
  }
  if (link === 'password') {
    const { resetId } = JSON.parse(row.payload) as { resetId?: number }
    const { token, hash } = newAccessToken()
    if (typeof resetId !== 'number' || !await setPasswordResetHash(db, resetId, hash, at)) {
      throw new TesseraError('TESSERA_NOT_FOUND', 'The password link expired or was used before this mail went out.')
    }
    return token
  }
  return undefined
}

/** What an administrator does with the outbox, on the app's clock. */
export function createOutboxAdmin (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now
  return {
    /** Puts a failed (or waiting) message back in line with fresh attempts; false when it was sent or is unknown. */
    async requeue (admin: AgentAccess, id: number): Promise<boolean> {
      return await db.transaction(async (trx) => {
        const at = now()
        const requeued = await requeueMessage(trx, id, at)
        if (requeued) await recordAdminChange(trx, admin, { subject: 'outbox', subjectId: id, action: 'requeued' }, at)
        return requeued
      })
    },

    /** Queues a message to the agent's own address, to see that mail goes out. */
    async queueTestMessage (admin: AgentAccess): Promise<void> {
      await db.transaction(async (trx) => {
        const at = now()
        await enqueueMessage(trx, { template: 'test_message', toAddress: admin.email, ticketId: null, payload: { name: admin.name } }, at)
        await recordAdminChange(trx, admin, { subject: 'outbox', subjectId: null, action: 'test_queued', after: { to: admin.email } }, at)
      })
    }
  }
}

export type OutboxAdmin = ReturnType<typeof createOutboxAdmin>
