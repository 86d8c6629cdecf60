import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { Knex } from 'knex'
import type { AddressObject } from 'mailparser'
import { findAgentByEmail, loadAgentAccess } from '../data/agents.js'
import { isDepartmentSender } from '../data/catalog.js'
import { isUniqueViolation } from '../data/database.js'
import {
  claimInboundMessage, findDefaultHelpTopic, findDepartmentIdByEmail, findInboundMessage, findTicketIdOfEntry, findTicketIdReceivedFrom,
  findTicketIdSentTo, forgetInboundMessage, processingReason, recordInboundMessage, takeOverInboundClaim
} from '../data/mail.js'
import { findTicketById, findTicketByNumber, type TicketRow } from '../data/tickets.js'
import { findRequester } from '../data/requesters.js'
import { TesseraError } from '../domain/errors.js'
import { agentActor, type Lifecycle, type MailOrigin } from '../domain/lifecycle.js'
import { mergeDestination } from '../domain/merge.js'
import { sanitizeLine, sanitizeText, truncateCodePoints } from '../domain/text.js'
import { ticketNumberInMessageId } from './compose.js'
import { parseMail, type InboundParsed } from './parse.js'
import { trimReply } from './trim.js'

export type InboundResult =
  | { outcome: 'ticket', ticketNumber: string }
  | { outcome: 'reply', ticketNumber: string }
  | { outcome: 'note', ticketNumber: string }
  | { outcome: 'ignored', reason: string }

export interface InboundOptions {
  db: Knex
  lifecycle: Lifecycle
  /** Verifies our own Message-IDs in replies. */
  secret: string
  /** The desk's own sender address: mail from it is a loop. */
  ownAddress: string
  now?: () => number
  /** Messages parsed at the same time in this process; each costs about the size of its text. */
  maxParallel?: number
  /** Messages that may wait for a turn; beyond that, the sender is asked to deliver again later. */
  maxWaiting?: number
}

/**
 * The message cannot be taken now (the desk is busy, or the same message is being processed
 * elsewhere); nothing was recorded, and delivering it again later will work.
 */
export class RetryLater extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'RetryLater'
  }
}

const maxBodyLength = 100_000
const maxSubjectLength = 200
const maxNameLength = 120
/** A "processing" claim older than this was left by a crash, and its message is taken up again. */
export const staleClaimMs = 2 * 60_000

/**
 * Why a message is machine-made (auto-reply, bounce, list mail), or null for a person's
 * mail. Answering machines is how mail loops start, so such mail never becomes a ticket.
 */
export function automatedReason (mail: Pick<InboundParsed, 'headerLines' | 'from'>): string | null {
  // Raw header lines: mailparser turns some headers (Return-Path, List-*) into structures
  // that hide exactly what matters here, such as an empty sender "<>".
  const raw = new Map<string, string>()
  for (const { key, line } of mail.headerLines) {
    if (!raw.has(key)) raw.set(key, line.slice(line.indexOf(':') + 1).trim().toLowerCase())
  }
  const autoSubmitted = raw.get('auto-submitted')
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`
  if (raw.has('x-autoreply') || raw.has('x-autorespond')) return 'auto-reply header'
  const precedence = raw.get('precedence') ?? ''
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`
  if (raw.has('list-id') || raw.has('list-unsubscribe') || raw.has('list-post')) return 'mailing list'
  if (raw.has('return-path') && /^<\s*>$/.test(raw.get('return-path')!)) return 'empty Return-Path (bounce)'
  const from = mail.from?.value[0]?.address?.toLowerCase() ?? ''
  if (/^(mailer-daemon|postmaster)@/.test(from)) return 'bounce'
  if (/^multipart\/report\b/.test(raw.get('content-type') ?? '')) return 'delivery report'
  return null
}

function addresses (field: AddressObject | AddressObject[] | undefined): string[] {
  return [field ?? []].flat().flatMap((a) => a.value).map((v) => v.address?.toLowerCase() ?? '').filter(Boolean)
}

function messageIds (value: string | string[] | undefined): string[] {
  return [value ?? []].flat().flatMap((v) => v.split(/\s+/)).map((v) => v.trim()).filter(Boolean)
}

async function contentHash (source: Buffer | Readable): Promise<string> {
  const hash = createHash('sha256')
  if (Buffer.isBuffer(source)) return hash.update(source).digest('hex')
  for await (const chunk of source) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export type InboundMail = ReturnType<typeof createInboundMail>

/** One pipeline for mail from the MTA pipe, the API endpoint and IMAP. */
export function createInboundMail (options: InboundOptions) {
  const { db, lifecycle } = options
  const now = options.now ?? Date.now
  const maxParallel = options.maxParallel ?? 1
  const maxWaiting = options.maxWaiting ?? 8

  // Parsing holds a message's text in memory: a few at a time keep the heap bounded.
  let active = 0
  const waiting: Array<() => void> = []
  async function acquire (): Promise<void> {
    if (active < maxParallel) { active++; return }
    if (waiting.length >= maxWaiting) throw new RetryLater('Too many messages are being processed; deliver this one again later.')
    // release() hands its turn straight to the first in line.
    await new Promise<void>((resolve) => waiting.push(resolve))
  }
  function release (): void {
    const next = waiting.shift()
    if (next) next()
    else active--
  }

  /**
   * The ticket whose mail this message answers, when `sender` received that mail from us
   * (a Message-ID we signed for that address, or our record of sending it there), or, when
   * `ownMailToo`, sent it to us themselves. Knowing such a Message-ID means having seen the
   * conversation; a From address or a [#number] alone is easily forged.
   */
  async function ticketAnsweredBy (quoted: string[], sender: string, ownMailToo: boolean): Promise<TicketRow | undefined> {
    for (const id of quoted) {
      const number = ticketNumberInMessageId(id, options.secret, sender)
      const ticket = number === undefined ? undefined : await findTicketByNumber(db, number)
      if (ticket) return ticket
    }
    const ticketId = await findTicketIdSentTo(db, quoted, sender) ?? (ownMailToo ? await findTicketIdReceivedFrom(db, quoted, sender) : undefined)
    return ticketId === undefined ? undefined : await findTicketById(db, ticketId)
  }

  /** A trashed ticket takes no mail: the message opens a new ticket, as after the purge. */
  function notTrashed (ticket: TicketRow | undefined): TicketRow | undefined {
    return ticket?.deleted_at === null ? ticket : undefined
  }

  async function route (mail: InboundParsed, messageId: string): Promise<InboundResult> {
    const automated = automatedReason(mail)
    if (automated) return { outcome: 'ignored', reason: automated }
    const from = mail.from?.value[0]
    const sender = from?.address?.toLowerCase()
    if (!sender) return { outcome: 'ignored', reason: 'no sender address' }
    if (sender === options.ownAddress.toLowerCase() || await isDepartmentSender(db, sender)) return { outcome: 'ignored', reason: 'sent by this desk (loop)' }

    const text = sanitizeText(mail.text ?? '', maxBodyLength * 2).trim()
    const trimmed = truncateCodePoints(trimReply(text), maxBodyLength) || '(This message had no text.)'
    const origin: MailOrigin = { messageId, originalBody: trimmed !== text ? text : null }
    const quoted = [...messageIds(mail.inReplyTo), ...messageIds(mail.references).reverse()]

    const agent = await findAgentByEmail(db, sender)
    if (agent?.active === true) {
      // An agent writes a note by answering mail we sent to them; any other mail from their
      // address is treated as anyone's, since a From line proves nothing.
      const answered = notTrashed(await ticketAnsweredBy(quoted, sender, false))
      const access = answered ? await loadAgentAccess(db, agent.id) : undefined
      if (answered && access) {
        // A merged ticket's note goes where its thread went (a client reply is sent there by the lifecycle).
        const target = await mergeDestination(db, answered)
        await lifecycle.addNote(target, agentActor(access), { body: trimmed, mail: origin })
        return { outcome: 'note', ticketNumber: target.number }
      }
    }
    const ticket = notTrashed(await ticketAnsweredBy(quoted, sender, true))
    const requester = ticket ? await findRequester(db, ticket.requester_id) : undefined
    if (ticket && requester?.email === sender) {
      const result = await lifecycle.addClientReply(ticket, { kind: 'requester', requesterId: requester.id }, { body: trimmed, mail: origin })
      return result.followUp ? { outcome: 'ticket', ticketNumber: result.number } : { outcome: 'reply', ticketNumber: result.number }
    }

    const recipients = [...addresses(mail.to), ...addresses(mail.cc), ...addresses(mail.headers.get('delivered-to') as AddressObject | undefined)]
    let departmentId: number | undefined
    for (const address of recipients) {
      departmentId = await findDepartmentIdByEmail(db, address)
      if (departmentId !== undefined) break
    }
    const topic = await findDefaultHelpTopic(db, departmentId) ?? await findDefaultHelpTopic(db)
    if (!topic) return { outcome: 'ignored', reason: 'no active help topic to file it under' }
    const opened = await lifecycle.openTicket({
      name: sanitizeLine(from?.name ?? '', maxNameLength) || sanitizeLine(sender.split('@')[0]!, maxNameLength),
      email: sender,
      subject: sanitizeLine(mail.subject ?? '', maxSubjectLength) || '(no subject)',
      message: truncateCodePoints(text, maxBodyLength) || '(This message had no text.)',
      helpTopicId: topic.id,
      departmentId,
      mail: { messageId, originalBody: null }
    })
    return { outcome: 'ticket', ticketNumber: opened.ticket.number }
  }

  /**
   * Claims a Message-ID for this process: false for a message handled before. A claim still
   * "processing" is someone else's work in progress (deliver again later) unless it is old
   * enough to have been left by a crash, in which case it is taken over.
   */
  async function claim (messageId: string): Promise<boolean> {
    try {
      await claimInboundMessage(db, messageId, now())
      return true
    } catch (err) {
      if (!isUniqueViolation(err)) throw err
    }
    const seen = await findInboundMessage(db, messageId)
    if (!seen) throw new RetryLater('This message was being processed and failed; deliver it again.')
    if (seen.reason !== processingReason) return false
    if (Number(seen.created_at) > now() - staleClaimMs || !await takeOverInboundClaim(db, messageId, Number(seen.created_at), now())) {
      throw new RetryLater('This message is being processed already; deliver it again later if it does not show up.')
    }
    return true
  }

  async function handle (open: () => Buffer | Readable): Promise<InboundResult> {
    const mail = await parseMail(open())
    // Without a Message-ID the content itself identifies a redelivery.
    const messageId = (mail.messageId?.trim() || `<sha256.${await contentHash(open())}@inbound.tessera>`).slice(0, 255)
    // Claim the Message-ID first: a redelivered message stops here, even mid-processing.
    if (!await claim(messageId)) return { outcome: 'ignored', reason: 'duplicate Message-ID' }
    try {
      // A crash after the ticket changed but before the claim was recorded: the change stands.
      const landed = await findTicketIdOfEntry(db, messageId)
      if (landed !== undefined) {
        await recordInboundMessage(db, messageId, 'processed', 'recovered after an interruption', landed)
        return { outcome: 'ignored', reason: 'duplicate Message-ID' }
      }
      const result = await route(mail, messageId)
      const ticket = 'ticketNumber' in result ? await findTicketByNumber(db, result.ticketNumber) : undefined
      await recordInboundMessage(db, messageId, result.outcome === 'ignored' ? 'ignored' : 'processed',
        result.outcome === 'ignored' ? result.reason : result.outcome, ticket?.id ?? null)
      return result
    } catch (err) {
      if (err instanceof TesseraError) {
        await recordInboundMessage(db, messageId, 'ignored', err.message, null)
        return { outcome: 'ignored', reason: err.message }
      }
      // Let the message be delivered again once whatever failed is back.
      await forgetInboundMessage(db, messageId).catch(() => undefined)
      throw err
    }
  }

  async function inTurn (open: () => Buffer | Readable): Promise<InboundResult> {
    await acquire()
    try {
      return await handle(open)
    } finally {
      release()
    }
  }

  return {
    /**
     * Takes one RFC 822 message. Resolves with what became of it; rejects when it should be
     * delivered again later (RetryLater, or the database is unavailable, say).
     */
    async receive (raw: Buffer | string): Promise<InboundResult> {
      const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw)
      return await inTurn(() => bytes)
    },

    /** The same for a message kept in a file, which is streamed rather than read whole. */
    async receiveFile (path: string): Promise<InboundResult> {
      return await inTurn(() => createReadStream(path))
    },

    /** Whether a new message would be refused as too many right now. */
    busy (): boolean {
      return active >= maxParallel && waiting.length >= maxWaiting
    }
  }
}
