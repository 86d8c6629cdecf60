import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
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
import { findTicketIdByThreadMessageId } from '../data/participants.js'
import { insertSetAside, type SetAsideKind } from '../data/set-aside.js'
import { TesseraError } from '../domain/errors.js'
import { agentActor, type Lifecycle, type MailOrigin } from '../domain/lifecycle.js'
import { mergeCrossesRequesters, mergeDestination } from '../domain/merge.js'
import { createParticipants } from '../domain/participants.js'
import { sanitizeLine, sanitizeText, truncateCodePoints } from '../domain/text.js'
import { ticketNumberInMessageId } from './compose.js'
import { automatedReason, throughList } from './machines.js'
import { UnprocessableMail } from './normalize.js'
import { parseMail, type InboundParsed } from './parse.js'
import { senderOf } from './senders.js'
import { htmlAsText } from './html.js'
import { trimQuotedHtml, trimReply } from './trim.js'
import { isBlockedSender } from '../domain/blocked-senders.js'
import { collectMailAttachments } from './attachments.js'
import type { FileStore, StoredFile } from '../attachments/store.js'
import type { AttachmentLimits } from '../domain/desk-settings.js'

export { automatedReason } from './machines.js'
export { UnprocessableMail } from './normalize.js'

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
  /** Where a message's attachments are kept; without it they are dropped. */
  fileStore?: FileStore
  /** How much of a set-aside message is kept for administrators (its start, when longer). */
  setAsideBytes?: number
  /** The desk's attachment limits (Admin → Settings), read for each message. */
  attachmentLimits?: () => Promise<AttachmentLimits>
}

/** Without the desk's settings: what a mail server lets through anyway. */
const unsetAttachmentLimits: AttachmentLimits = { fileBytes: 100 * 1024 * 1024, messageBytes: 100 * 1024 * 1024, files: 1000 }

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

/** What the thread shows of one message; a longer one is marked shortened, its full text kept. */
const maxBodyLength = 100_000
/** The full text kept of one message (MEDIUMTEXT holds 16 MB, four bytes a code point at most). */
const maxFullLength = 4_000_000
const maxSubjectLength = 200
const maxNameLength = 120
/**
 * Of a set-aside message this much is kept: the API refuses larger mail before reading it,
 * so only a huge message piped in by an MTA is cut (its start kept, the row says so).
 */
export const maxSetAsideBytes = 25 * 1024 * 1024
/** A "processing" claim older than this was left by a crash, and its message is taken up again. */
export const staleClaimMs = 2 * 60_000

function addresses (field: AddressObject | AddressObject[] | undefined): string[] {
  return [field ?? []].flat().flatMap((a) => a.value).map((v) => v.address?.toLowerCase() ?? '').filter(Boolean)
}

function messageIds (value: string | string[] | undefined): string[] {
  return [value ?? []].flat().flatMap((v) => v.split(/\s+/)).map((v) => v.trim()).filter(Boolean)
}

async function contentHash (source: Buffer | Readable): Promise<string> {
  return (await contentDigest(source)).hash
}

/** The message's SHA-256, its size and the start of its header (for a message that could not be parsed). */
async function contentDigest (source: Buffer | Readable): Promise<{ hash: string, size: number, head: string }> {
  const hash = createHash('sha256')
  if (Buffer.isBuffer(source)) return { hash: hash.update(source).digest('hex'), size: source.length, head: source.subarray(0, 65536).toString('latin1') }
  let size = 0
  let head = ''
  for await (const chunk of source) {
    hash.update(chunk as Buffer)
    if (head.length < 65536) head += (chunk as Buffer).subarray(0, 65536 - head.length).toString('latin1')
    size += (chunk as Buffer).length
  }
  return { hash: hash.digest('hex'), size, head }
}

/** The first `limit` bytes of a message, the rest read (counted in `read.total`) and dropped. */
async function * firstBytes (source: Buffer | Readable, limit: number, read: { total: number }): AsyncGenerator<Buffer> {
  for await (const chunk of Buffer.isBuffer(source) ? [source] : source) {
    const bytes = chunk as Buffer
    const left = limit - read.total
    if (left > 0) yield bytes.subarray(0, left)
    read.total += bytes.length
  }
}

/** A header's value in the raw start of a message, unfolded; for the set-aside list only. */
function rawHeader (head: string, name: string): string | null {
  const block = head.split(/\r?\n\r?\n|\r\r/)[0] ?? ''
  const match = new RegExp(`^${name}[ \\t]*:(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(block)
  return match ? match[1]!.replace(/\s+/g, ' ').trim().slice(0, 255) || null : null
}

export type InboundMail = ReturnType<typeof createInboundMail>

/** A message's attachments: kept for the entry it becomes, and those over the limits. */
interface MessageFiles {
  keep: () => Promise<StoredFile[]>
  refusals: () => Promise<string[]>
}

/** One pipeline for mail from the MTA pipe, the API endpoint and IMAP. */
export function createInboundMail (options: InboundOptions) {
  const { db, lifecycle } = options
  const now = options.now ?? Date.now
  const participants = createParticipants(db, { now: lifecycle.now })
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

  /** The message as it arrived, into the file store, up to maxSetAsideBytes of it. */
  async function keepRaw (open: () => Buffer | Readable): Promise<{ sha256: string, size: number, total: number } | null> {
    const store = options.fileStore
    if (!store) return null
    const limit = options.setAsideBytes ?? maxSetAsideBytes
    const read = { total: 0 }
    const file = await store.receive(Readable.from(firstBytes(open(), limit, read)), limit)
    await store.keep(file)
    return { sha256: file.sha256, size: file.size, total: read.total }
  }

  async function setAside (kind: SetAsideKind, reason: string, open: () => Buffer | Readable,
    about: { messageId: string | null, from: string | null, subject: string | null, size: number | null }): Promise<void> {
    const raw = await keepRaw(open)
    await insertSetAside(db, {
      kind,
      reason,
      message_id: about.messageId,
      from_address: about.from,
      subject: about.subject,
      size_bytes: about.size ?? raw?.total ?? null,
      created_at: now(),
      raw_sha256: raw?.sha256 ?? null,
      raw_size: raw?.size ?? null,
      raw_cut: raw !== null && raw.total > raw.size
    })
  }

  async function route (mail: InboundParsed, messageId: string, attachments: MessageFiles, open: () => Buffer | Readable): Promise<InboundResult> {
    const files = attachments.keep
    const sender = senderOf(mail)
    const automated = automatedReason(mail)
    if (automated) {
      await setAside('automated', automated, open, { messageId, from: sender?.address ?? null, subject: sanitizeLine(mail.subject ?? '', maxSubjectLength) || null, size: null })
      return { outcome: 'ignored', reason: automated }
    }
    if (!sender) return { outcome: 'ignored', reason: 'no sender address' }
    const { address } = sender
    if (await isBlockedSender(db, address)) {
      // Never answered and never a ticket: listed for administrators beside the other mail set aside.
      await setAside('blocked', 'The sender is blocked.', open, { messageId, from: address, subject: sanitizeLine(mail.subject ?? '', maxSubjectLength) || null, size: null })
      return { outcome: 'ignored', reason: 'blocked sender' }
    }
    if (address === options.ownAddress.toLowerCase() || await isDepartmentSender(db, address)) return { outcome: 'ignored', reason: 'sent by this desk (loop)' }

    // Files over the desk's limits are named under the text, for the agent to ask for them another way.
    const refused = (await attachments.refusals()).join('\n')
    const notKept = (body: string): string => refused === '' ? body : `${body}\n\n${refused}`
    // The whole text is kept; the thread shows up to maxBodyLength of it and says when it shows less.
    const text = sanitizeText(mail.text ?? '', maxFullLength).trim()
    const html = mail.html !== undefined && mail.html.length <= maxFullLength ? mail.html : null
    // An HTML-only message loses its quoted part by the webmail's markers before it becomes
    // text, then the text rules run on what is left.
    const subject = mail.subject ?? undefined
    const answer = mail.textFromHtml === true && html !== null ? sanitizeText(htmlAsText(trimQuotedHtml(html, { subject })), maxFullLength).trim() : text
    const trimmedFull = trimReply(answer, { subject })
    const trimmed = notKept(truncateCodePoints(trimmedFull, maxBodyLength) || '(This message had no text.)')
    const shown = truncateCodePoints(trimmedFull, maxBodyLength)
    const origin: MailOrigin = { messageId, originalBody: shown !== text ? text : null, html, shortened: shown.length < trimmedFull.length }
    const quoted = [...messageIds(mail.inReplyTo), ...messageIds(mail.references).reverse()]

    const agent = await findAgentByEmail(db, address)
    if (agent?.active === true) {
      // An agent writes a note by answering mail we sent to them; any other mail from their
      // address is treated as anyone's, since a From line proves nothing.
      const answered = notTrashed(await ticketAnsweredBy(quoted, address, false))
      const access = answered ? await loadAgentAccess(db, agent.id) : undefined
      if (answered && access) {
        // A merged ticket's note goes where its thread went (a client reply is sent there by the lifecycle).
        const target = await mergeDestination(db, answered)
        await lifecycle.addNote(target, agentActor(access), { body: trimmed, mail: origin, files: await files() })
        return { outcome: 'note', ticketNumber: target.number }
      }
    }
    const ticket = notTrashed(await ticketAnsweredBy(quoted, address, true))
    const requester = ticket ? await findRequester(db, ticket.requester_id) : undefined
    if (ticket && requester?.email === address) {
      const result = await lifecycle.addClientReply(ticket, { kind: 'requester', requesterId: requester.id }, { body: trimmed, mail: origin, files: await files() })
      return result.followUp ? { outcome: 'ticket', ticketNumber: result.number } : { outcome: 'reply', ticketNumber: result.number }
    }
    const name = sanitizeLine(sender.name, maxNameLength) || sanitizeLine(address.split('@')[0]!, maxNameLength)

    // A colleague on the thread (in Cc of the conversation) answers: they join the ticket.
    // Never an agent's address: a From line proves nothing, and agents write notes.
    if (agent === undefined) {
      const threadTicketId = await findTicketIdByThreadMessageId(db, quoted)
      const answered = notTrashed(threadTicketId === undefined ? undefined : await findTicketById(db, threadTicketId))
      const target = answered ? await mergeDestination(db, answered) : undefined
      if (answered && target && target.deleted_at === null && (await findRequester(db, target.requester_id))?.email !== address &&
        (target.status !== 'closed' || await lifecycle.replyReopens(target))) {
        const crosses = mergeCrossesRequesters(answered, target)
        await participants.receive(target, { email: address, name, body: trimmed, mail: origin, staffOnly: crosses, mergedFromId: target.id === answered.id ? null : answered.id })
        return { outcome: 'reply', ticketNumber: target.number }
      }
    }

    const recipients = [...addresses(mail.to), ...addresses(mail.cc), ...addresses(mail.headers.get('delivered-to') as AddressObject | undefined)]
    let departmentId: number | undefined
    for (const recipient of recipients) {
      departmentId = await findDepartmentIdByEmail(db, recipient)
      if (departmentId !== undefined) break
    }
    const topic = await findDefaultHelpTopic(db, departmentId) ?? await findDefaultHelpTopic(db)
    if (!topic) return { outcome: 'ignored', reason: 'no active help topic to file it under' }
    const start = truncateCodePoints(text, maxBodyLength)
    const message = notKept(start || '(This message had no text.)')
    const opened = await lifecycle.openTicket({
      name,
      email: address,
      subject: sanitizeLine(mail.subject ?? '', maxSubjectLength) || '(no subject)',
      message,
      helpTopicId: topic.id,
      departmentId,
      // A person writing through a list or a group alias gets no automatic mail: it would go to the list.
      noReceipt: throughList(mail),
      mail: { messageId, originalBody: start.length < text.length ? text : null, html, shortened: start.length < text.length },
      files: await files(),
      source: 'email'
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

  /** Records a message that can never be processed, then refuses it for good. */
  async function refuse (open: () => Buffer | Readable, err: UnprocessableMail): Promise<never> {
    const { hash, size, head } = await contentDigest(open())
    const messageId = (rawHeader(head, 'message-id') ?? `<sha256.${hash}@inbound.tessera>`).slice(0, 255)
    if (await claim(messageId)) {
      await recordInboundMessage(db, messageId, 'ignored', `unprocessable: ${err.message}`, null)
      await setAside('unprocessable', err.message, open, { messageId, from: rawHeader(head, 'from'), subject: rawHeader(head, 'subject'), size })
    }
    throw err
  }

  async function handle (open: () => Buffer | Readable): Promise<InboundResult> {
    // Attachments are read in the same pass as the text, into the store's temporary folder.
    const attachments = options.fileStore ? collectMailAttachments(options.fileStore, await options.attachmentLimits?.() ?? unsetAttachmentLimits) : undefined
    try {
      return await handleParsed(open, attachments)
    } finally {
      await attachments?.discard()
    }
  }

  async function handleParsed (open: () => Buffer | Readable, attachments: ReturnType<typeof collectMailAttachments> | undefined): Promise<InboundResult> {
    let mail
    try {
      mail = await parseMail(open(), { onAttachment: attachments?.onAttachment })
    } catch (err) {
      if (err instanceof UnprocessableMail) return await refuse(open, err)
      throw err
    }
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
      // Kept only for mail that becomes an entry: machines' mail leaves nothing on disk.
      const files: MessageFiles = { keep: async () => await attachments?.keep() ?? [], refusals: async () => await attachments?.refusals() ?? [] }
      const result = await route(mail, messageId, files, open)
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
