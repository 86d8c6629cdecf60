import { createHash } from 'node:crypto'
import type { Knex } from 'knex'
import type { AddressObject, ParsedMail } from 'mailparser'
import { findAgentByEmail, loadAgentAccess } from '../data/agents.js'
import { isUniqueViolation } from '../data/database.js'
import {
  claimInboundMessage, findDefaultHelpTopic, findDepartmentIdByEmail, findTicketIdByMessageIds, forgetInboundMessage,
  recordInboundMessage
} from '../data/mail.js'
import { findTicketById, findTicketByNumber, type TicketRow } from '../data/tickets.js'
import { findRequester } from '../data/requesters.js'
import { TesseraError } from '../domain/errors.js'
import { agentActor, type Lifecycle, type MailOrigin } from '../domain/lifecycle.js'
import { mergeDestination } from '../domain/merge.js'
import { ticketNumberInMessageId } from './compose.js'
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
}

const maxBodyLength = 100_000
const maxSubjectLength = 200

/**
 * Why a message is machine-made (auto-reply, bounce, list mail), or null for a person's
 * mail. Answering machines is how mail loops start, so such mail never becomes a ticket.
 */
export function automatedReason (mail: ParsedMail): string | null {
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

export type InboundMail = ReturnType<typeof createInboundMail>

/** One pipeline for mail from the MTA pipe, the API endpoint and IMAP. */
export function createInboundMail (options: InboundOptions) {
  const { db, lifecycle } = options
  const now = options.now ?? Date.now

  /** The ticket a reply belongs to: quoted Message-IDs first, then [#number] from its requester. */
  async function matchTicket (mail: ParsedMail, sender: string, senderIsAgent: boolean): Promise<TicketRow | undefined> {
    const quoted = [...messageIds(mail.inReplyTo), ...messageIds(mail.references)]
    const ticketId = await findTicketIdByMessageIds(db, quoted)
    if (ticketId !== undefined) return await findTicketById(db, ticketId)
    // Our own Message-IDs name their ticket under a signature, even if the records are gone.
    for (const id of quoted) {
      const number = ticketNumberInMessageId(id, options.secret)
      const ticket = number === undefined ? undefined : await findTicketByNumber(db, number)
      if (ticket) return ticket
    }
    const number = /\[#(\d{6,12})\]/.exec(mail.subject ?? '')?.[1]
    if (!number) return undefined
    const ticket = await findTicketByNumber(db, number)
    if (!ticket) return undefined
    const requester = await findRequester(db, ticket.requester_id)
    // A subject token alone is easy to guess; only the requester (or an agent) may use it.
    return requester?.email === sender || senderIsAgent ? ticket : undefined
  }

  async function route (mail: ParsedMail, messageId: string): Promise<InboundResult> {
    const automated = automatedReason(mail)
    if (automated) return { outcome: 'ignored', reason: automated }
    const from = mail.from?.value[0]
    const sender = from?.address?.toLowerCase()
    if (!sender) return { outcome: 'ignored', reason: 'no sender address' }
    if (sender === options.ownAddress.toLowerCase()) return { outcome: 'ignored', reason: 'sent by this desk (loop)' }

    const text = (mail.text ?? '').replace(/\r\n?/g, '\n').trim()
    const trimmed = trimReply(text).slice(0, maxBodyLength) || '(This message had no text.)'
    const origin: MailOrigin = { messageId, originalBody: trimmed !== text ? text.slice(0, maxBodyLength * 2) : null }
    const agent = await findAgentByEmail(db, sender)
    const senderIsAgent = agent?.active === true
    const matched = await matchTicket(mail, sender, senderIsAgent)
    // A trashed ticket takes no mail: the message opens a new ticket, as after the purge.
    const ticket = matched?.deleted_at === null ? matched : undefined

    const access = ticket && senderIsAgent ? await loadAgentAccess(db, agent.id) : undefined
    if (ticket && access) {
      // Agents write notes by mail: nothing an agent mails in reaches the requester by accident.
      // A merged ticket's note goes where its thread went (a client reply is sent there by the lifecycle).
      const target = await mergeDestination(db, ticket)
      await lifecycle.addNote(target, agentActor(access), { body: trimmed, mail: origin })
      return { outcome: 'note', ticketNumber: target.number }
    }
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
      name: (from?.name?.trim() || sender.split('@')[0]!).slice(0, 120),
      email: sender,
      subject: (mail.subject?.trim() || '(no subject)').slice(0, maxSubjectLength),
      message: text.slice(0, maxBodyLength) || '(This message had no text.)',
      helpTopicId: topic.id,
      departmentId,
      mail: { messageId, originalBody: null }
    })
    return { outcome: 'ticket', ticketNumber: opened.ticket.number }
  }

  return {
    /**
     * Takes one RFC 822 message. Resolves with what became of it; rejects only when it
     * should be tried again later (the database is unavailable, say).
     */
    async receive (raw: Buffer | string): Promise<InboundResult> {
      // Loaded on first use: mailparser and its charset tables are large, and many desks
      // never receive mail.
      const { simpleParser } = await import('mailparser')
      const mail = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true })
      // Without a Message-ID the content itself identifies a redelivery.
      const messageId = (mail.messageId?.trim() || `<sha256.${createHash('sha256').update(raw).digest('hex')}@inbound.tessera>`).slice(0, 255)
      // Claim the Message-ID first: a redelivered message stops here, even mid-processing.
      try {
        await claimInboundMessage(db, messageId, now())
      } catch (err) {
        if (isUniqueViolation(err)) return { outcome: 'ignored', reason: 'duplicate Message-ID' }
        throw err
      }
      try {
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
  }
}
