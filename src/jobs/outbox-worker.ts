import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import type { Knex } from 'knex'
import type { Transporter } from 'nodemailer'
import { claimDueMessages, markAttemptFailed, markSent, releaseLeases } from '../data/outbox.js'
import { listThreadMessageIds, setOutboxMessageId } from '../data/mail.js'
import { composeMail, newMessageId, type ComposeOptions } from '../mail/compose.js'

export interface OutboxWorkerOptions {
  db: Knex
  log: FastifyBaseLogger
  compose: ComposeOptions
  smtpUrl: string
  mailFrom: string
  /** Where messages go as .eml files when no SMTP server is configured. */
  mailDir: string
  intervalMs: number
  now?: () => number
}

const leaseMs = 60_000
const batchSize = 20
export const maxAttempts = 8

/** 30 s, 1 min, 2 min … capped at 6 h. */
export function retryDelayMs (attempts: number): number {
  return Math.min(30_000 * 2 ** attempts, 6 * 60 * 60_000)
}

/**
 * Delivers the outbox. Each instance runs one; leases make sure two instances never send
 * the same row, and a row is marked sent only by the worker holding its lease.
 */
export function createOutboxWorker (options: OutboxWorkerOptions) {
  const now = options.now ?? Date.now
  const owner = `worker-${randomBytes(8).toString('hex')}`
  // Created on the first message: an instance with nothing to send never loads nodemailer.
  let transport: Transporter | undefined
  async function mailer (): Promise<Transporter> {
    if (!transport) {
      const { default: nodemailer } = await import('nodemailer')
      transport = options.smtpUrl
        ? nodemailer.createTransport(options.smtpUrl)
        : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
    }
    return transport
  }
  let timer: NodeJS.Timeout | undefined
  let running: Promise<number> | undefined
  let stopped = false

  async function deliver (): Promise<number> {
    const at = now()
    const rows = await claimDueMessages(options.db, owner, at, at + leaseMs, batchSize)
    let sent = 0
    for (const row of rows) {
      if (stopped) break
      try {
        const payload = JSON.parse(row.payload) as { number?: string }
        const messageId = row.message_id ?? newMessageId(payload.number, options.compose)
        // Stored before sending: a reply can arrive before we mark the row sent.
        if (row.message_id === null) await setOutboxMessageId(options.db, row.id, messageId)
        const references = row.ticket_id === null ? [] : await listThreadMessageIds(options.db, row.ticket_id, row.id, row.to_address)
        const mail = composeMail(row, options.compose, { messageId, references })
        const info = await (await mailer()).sendMail({
          from: options.mailFrom,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          inReplyTo: mail.inReplyTo,
          references: mail.references,
          headers: mail.headers
        })
        if (!options.smtpUrl) {
          await mkdir(options.mailDir, { recursive: true })
          const file = join(options.mailDir, `${row.id}.eml`)
          await writeFile(file, (info as unknown as { message: Buffer }).message)
          options.log.info({ outboxId: row.id, file }, 'no SMTP configured: mail written to file')
        }
        await markSent(options.db, row.id, owner, now())
        sent++
      } catch (err) {
        const attempts = row.attempts + 1
        const next = attempts >= maxAttempts ? null : now() + retryDelayMs(row.attempts)
        options.log.warn({ outboxId: row.id, attempts, err }, next === null ? 'mail failed for good' : 'mail failed; will retry')
        await markAttemptFailed(options.db, row.id, owner, (err as Error).message ?? String(err), next)
      }
    }
    if (stopped) await releaseLeases(options.db, owner)
    return sent
  }

  function schedule (): void {
    if (stopped) return
    timer = setTimeout(() => {
      running = deliver().catch((err: unknown) => { options.log.error({ err }, 'outbox run failed'); return 0 })
      void running.finally(schedule)
    }, options.intervalMs)
    timer.unref()
  }

  return {
    owner,
    start: schedule,
    /** One delivery pass now; returns how many messages went out. */
    runOnce: async (): Promise<number> => await deliver(),
    async stop (): Promise<void> {
      stopped = true
      if (timer) clearTimeout(timer)
      await running
      // Best effort: if the database is already gone, the leases simply expire.
      await releaseLeases(options.db, owner).catch((err: unknown) => { options.log.warn({ err }, 'could not release outbox leases') })
      transport?.close()
    }
  }
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>
