import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import type { Knex } from 'knex'
import type { SendMailOptions, Transporter } from 'nodemailer'
import { claimMessage, listDueMessageIds, markAttemptFailed, markSent, releaseLease, releaseLeases, renewLease } from '../data/outbox.js'
import { findTicketSender } from '../data/catalog.js'
import { listThreadMessageIds, setOutboxMessageId } from '../data/mail.js'
import { TesseraError } from '../domain/errors.js'
import { mintLinkToken } from '../domain/outbox.js'
import { mintSurveyToken } from '../domain/survey-links.js'
import { composeMail, newMessageId, senderOf, type ComposeOptions } from '../mail/compose.js'
import { repeatEvery } from './repeat.js'

export interface OutboxWorkerOptions {
  db: Knex
  log: FastifyBaseLogger
  compose: ComposeOptions
  /** Whether replies to our mail reach the desk now (see MailContext); asked for each mail. */
  repliesByMail?: () => Promise<boolean>
  /** The desk's current name, for signatures and subjects; compose.productName when absent. */
  deskName?: () => Promise<string>
  /** The desk's time zone, in which mail states times; compose.timeZone (or UTC) when absent. */
  deskTimeZone?: () => Promise<string>
  smtpUrl: string
  mailFrom: string
  /** Where a stored file lives, for files attached to a notice. */
  attachmentPath?: (sha256: string) => string
  /** Where messages go as .eml files when no SMTP server is configured. */
  mailDir: string
  intervalMs: number
  /** How long one claim on one message lasts; a send is cut off at half of it. */
  leaseMs?: number
  now?: () => number
}

const defaultLeaseMs = 60_000
const batchSize = 20
export const maxAttempts = 8
// Each step of an SMTP conversation is bounded, and the whole send is cut off at half the
// lease (below), so no send outlives its claim and another worker never sends it too.
const smtpTimeouts = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000, dnsTimeout: 10_000 }

/** 30 s, 1 min, 2 min … capped at 6 h. */
export function retryDelayMs (attempts: number): number {
  return Math.min(30_000 * 2 ** attempts, 6 * 60 * 60_000)
}

class SendCutOff extends Error {
  constructor (readonly why: 'shutdown' | 'deadline') {
    super(why === 'shutdown' ? 'send cut off by shutdown' : 'the mail server took too long')
    this.name = 'SendCutOff'
  }
}

/**
 * Delivers the outbox. Each instance runs one. A message is claimed on its own just before
 * it is composed, its lease renewed (and so re-checked) just before it is sent, and the send
 * cut off well before the lease ends: two instances never send the same row, and a row is
 * marked sent only by the worker holding its lease.
 */
export function createOutboxWorker (options: OutboxWorkerOptions) {
  const now = options.now ?? Date.now
  const repliesByMail = options.repliesByMail ?? (async () => true)
  const leaseMs = options.leaseMs ?? defaultLeaseMs
  const sendDeadlineMs = Math.floor(leaseMs / 2)
  const owner = `worker-${randomBytes(8).toString('hex')}`
  // Created on the first message: an instance with nothing to send never loads nodemailer.
  let transport: Transporter | undefined
  async function mailer (): Promise<Transporter> {
    if (!transport) {
      const { default: nodemailer } = await import('nodemailer')
      transport = options.smtpUrl
        ? nodemailer.createTransport({ ...smtpTimeouts, url: options.smtpUrl })
        : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
    }
    return transport
  }
  // A pass started by runOnce(), which stop() waits for as it does for the loop's own.
  let manual: Promise<unknown> = Promise.resolve()
  /** The send in flight, which stop() cuts short. */
  let inFlight: AbortController | undefined

  /** Claims, composes and sends one message; true when it went out. */
  async function deliverOne (id: number): Promise<boolean> {
    const claimedAt = now()
    const row = await claimMessage(options.db, id, owner, claimedAt, claimedAt + leaseMs)
    if (!row) return false
    const abort = new AbortController()
    inFlight = abort
    let deadline: NodeJS.Timeout | undefined
    try {
      const payload = JSON.parse(row.payload) as { number?: string }
      // Kept from the first attempt, so every retry carries the same Message-ID. Stored
      // before sending: a reply can arrive before we mark the row sent.
      const messageId = row.message_id ?? newMessageId(payload.number, row.to_address, options.compose)
      if (row.message_id === null) await setOutboxMessageId(options.db, row.id, messageId)
      const references = row.ticket_id === null ? [] : await listThreadMessageIds(options.db, row.ticket_id, row.id, row.to_address)
      const linkToken = await mintLinkToken(options.db, row, now())
      const compose = options.deskName ? { ...options.compose, productName: await options.deskName() } : { ...options.compose }
      if (options.deskTimeZone) compose.timeZone = await options.deskTimeZone()
      const mail = composeMail(row, compose, { messageId, references }, { linkToken, surveyToken: await mintSurveyToken(options.db, row, now()), repliesByMail: await repliesByMail() })
      const from = senderOf(row.ticket_id === null ? undefined : await findTicketSender(options.db, row.ticket_id), options.mailFrom)
      const at = now()
      if (abort.signal.aborted) throw abort.signal.reason
      if (!await renewLease(options.db, row.id, owner, at, at + leaseMs)) {
        options.log.warn({ outboxId: row.id }, 'outbox lease lost before sending; leaving the message to its new owner')
        return false
      }
      // Counted from the renewal: the send ends (or is cut off) with half the lease to spare.
      deadline = setTimeout(() => { abort.abort(new SendCutOff('deadline')) }, sendDeadlineMs)
      const message: SendMailOptions & { signal: AbortSignal } = {
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        inReplyTo: mail.inReplyTo,
        references: mail.references,
        headers: mail.headers,
        ...(mail.attachments.length > 0 && options.attachmentPath
          ? { attachments: mail.attachments.map((f) => ({ filename: f.name, path: options.attachmentPath!(f.sha256), contentType: f.type })) }
          : {}),
        signal: abort.signal
      }
      const info = await (await mailer()).sendMail(message)
      if (!options.smtpUrl) {
        // The file holds a private link: readable by the desk's user alone.
        await mkdir(options.mailDir, { recursive: true, mode: 0o700 })
        const file = join(options.mailDir, `${row.id}.eml`)
        await writeFile(file, (info as unknown as { message: Buffer }).message, { mode: 0o600 })
        options.log.info({ outboxId: row.id, file }, 'no SMTP configured: mail written to file')
      }
      if (!await markSent(options.db, row.id, owner, now())) options.log.error({ outboxId: row.id }, 'mail sent after its outbox lease was lost')
      return true
    } catch (err) {
      const reason: unknown = abort.signal.reason
      if (reason instanceof SendCutOff && reason.why === 'shutdown') {
        // Not the message's fault: it goes out later, by this instance or another.
        await releaseLease(options.db, row.id, owner)
        return false
      }
      const attempts = row.attempts + 1
      // An expected failure (a reset link used meanwhile, say) would fail the same way again.
      const next = attempts >= maxAttempts || err instanceof TesseraError ? null : now() + retryDelayMs(row.attempts)
      const error = reason instanceof SendCutOff ? reason : err
      options.log.warn({ outboxId: row.id, attempts, err: error }, next === null ? 'mail failed for good' : 'mail failed; will retry')
      await markAttemptFailed(options.db, row.id, owner, (error as Error).message ?? String(error), next)
      return false
    } finally {
      clearTimeout(deadline)
      inFlight = undefined
    }
  }

  async function deliver (): Promise<number> {
    const ids = await listDueMessageIds(options.db, now(), batchSize)
    let sent = 0
    for (const id of ids) {
      if (loop.stopped) break
      if (await deliverOne(id)) sent++
    }
    return sent
  }

  const loop = repeatEvery(options.intervalMs, deliver, (err) => { options.log.error({ err }, 'outbox run failed') })

  return {
    owner,
    start: loop.start,
    /** One delivery pass now; returns how many messages went out. */
    runOnce: async (): Promise<number> => {
      const pass = deliver()
      manual = pass.catch(() => 0)
      return await pass
    },
    /** Cuts short a send in flight and hands its message back, so shutdown never waits on a mail server. */
    async stop (): Promise<void> {
      const loopEnded = loop.stop()
      inFlight?.abort(new SendCutOff('shutdown'))
      await Promise.all([loopEnded, manual])
      // Best effort: if the database is already gone, the leases simply expire.
      await releaseLeases(options.db, owner).catch((err: unknown) => { options.log.warn({ err }, 'could not release outbox leases') })
      transport?.close()
    }
  }
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>
