import { createHmac, randomBytes } from 'node:crypto'
import { Eta } from 'eta'
import type { OutboxRow } from '../data/outbox.js'
import { ticketLinkPlaceholder } from '../domain/canned-responses.js'
import { notices, type NoticeTemplate } from '../domain/notices.js'
import { viewsDir } from '../paths.js'

export interface ComposedMail {
  to: string
  subject: string
  text: string
  html: string
  messageId: string
  inReplyTo?: string
  references?: string[]
  headers: Record<string, string>
}

export interface ComposeOptions {
  /** Absolute URL for a path inside the app (base URL and sub-path included). */
  absoluteUrl: (path: string) => string
  productName: string
  /** Signs our Message-IDs so Tessera can recognise replies to its own mail. */
  secret: string
}

/** Replies to our notices are cut here; everything below is what we sent. */
export const replyMarker = '-- Reply above this line --'

// Text parts need no escaping; the HTML part is built from the text and escaped there.
const eta = new Eta({ views: viewsDir, cache: true, autoEscape: false, autoTrim: false })

const subjects: Record<NoticeTemplate, (p: Record<string, string>, desk: string) => string> = {
  ticket_received: (p) => `[#${p.number}] We received your request: ${p.subject}`,
  agent_response: (p) => `[#${p.number}] ${p.subject}`,
  ticket_resolved: (p) => `[#${p.number}] Resolved: ${p.subject}`,
  ticket_closed: (p) => `[#${p.number}] Closed: ${p.subject}`,
  access_link: (p) => `[#${p.number}] Your link to ticket ${p.number}`,
  ticket_merged: (p) => `[#${p.number}] Merged: ${p.subject}`,
  new_ticket: (p) => `[#${p.number}] New ticket: ${p.subject}`,
  ticket_assigned: (p) => `[#${p.number}] Assigned to you: ${p.subject}`,
  client_message: (p) => `[#${p.number}] New message: ${p.subject}`,
  ticket_transferred: (p) => `[#${p.number}] Transferred to your department: ${p.subject}`,
  password_reset: (p, desk) => `Reset your ${desk} password`,
  invitation: (p, desk) => `You are invited to the ${desk} staff panel`,
  test_message: (p, desk) => `${desk} test message`
}

function signature (secret: string, reference: string, recipient: string): string {
  return createHmac('sha256', secret).update(`message:${reference}:${recipient.toLowerCase()}`).digest('hex').slice(0, 16)
}

/**
 * `<tessera.482913.RANDOM.SIGNATURE@host>`: unique per message, names the ticket, and the
 * signature, which covers the recipient's address, proves that we sent it and to whom: a
 * reply quoting it comes from someone who received that mail (or was shown it). Random
 * rather than sequential, so ids reveal nothing about how much mail the desk sends.
 */
export function newMessageId (ticketNumber: string | undefined, recipient: string, options: Pick<ComposeOptions, 'secret' | 'absoluteUrl'>): string {
  const reference = `${ticketNumber ?? 'x'}.${randomBytes(8).toString('hex')}`
  return `<tessera.${reference}.${signature(options.secret, reference, recipient)}@${new URL(options.absoluteUrl('/')).hostname}>`
}

/**
 * The ticket number one of our own Message-IDs names, when we sent that message to
 * `recipient`; undefined for anyone else's ids and for our mail to someone else.
 */
export function ticketNumberInMessageId (messageId: string, secret: string, recipient: string): string | undefined {
  const match = /^<?tessera\.(\d{6,12}\.[0-9a-f]{16})\.([0-9a-f]{16})@/.exec(messageId.trim())
  if (!match || signature(secret, match[1]!, recipient) !== match[2]) return undefined
  return match[1]!.split('.')[0]
}

export interface Threading {
  /** This message's id (kept on the outbox row, so a retry sends the same one). */
  messageId: string
  /** Message-IDs of the ticket's earlier mail to and from this recipient, oldest first. */
  references: string[]
}

export interface MailContext {
  /** The private-link or password token minted for this one mail (never stored raw). */
  linkToken?: string
  /**
   * Whether a reply to this mail reaches the desk (incoming mail is set up). Without it a
   * notice never invites one: it points to the ticket page instead.
   */
  repliesByMail?: boolean
}

/** A department's own sender (name and address), for mail about its tickets. */
export interface DepartmentSender { name: string | null, address: string }

/**
 * The From of a message: the department's sender for mail about its tickets, else
 * MAIL_FROM. An object, so nodemailer quotes the name whatever it holds.
 */
export function senderOf (department: DepartmentSender | undefined, mailFrom: string): string | { name: string, address: string } {
  return department ? { name: department.name ?? '', address: department.address } : mailFrom
}

/** Turns a queued outbox row into the message to send. */
export function composeMail (row: OutboxRow, options: ComposeOptions, threading: Threading, context: MailContext = {}): ComposedMail {
  const payload = JSON.parse(row.payload) as Record<string, string>
  const template = row.template
  const subject = subjects[template]
  if (!subject) throw new Error(`No mail template for ${row.template}`)
  const forAgent = notices[template].audience === 'agent'
  const { linkToken, repliesByMail = true } = context
  const links = {
    ticketLink: linkToken && payload.number ? options.absoluteUrl(`/tickets/${payload.number}/access/${linkToken}`) : '',
    staffLink: payload.number ? options.absoluteUrl(`/staff/tickets/${payload.number}`) : '',
    resetLink: (template === 'password_reset' || template === 'invitation') && linkToken ? options.absoluteUrl(`/staff/password-reset/${linkToken}`) : ''
  }
  // An agent's reply may say where the requester's private link goes; it exists only now.
  if (template === 'agent_response' && typeof payload.body === 'string') payload.body = payload.body.replaceAll(ticketLinkPlaceholder, links.ticketLink)
  const body = eta.render(`/mail/${template}`, { ...payload, ...links, productName: options.productName, forAgent, repliesByMail })
  // Notices about a ticket invite a reply by mail when one can arrive; the marker tells us where it ends.
  const text = payload.number && repliesByMail ? `${replyMarker}\n\n${body}` : body
  const headers: Record<string, string> = {}
  // A person's answer is not automatic; everything else Tessera sends is.
  if (template !== 'agent_response') headers['Auto-Submitted'] = 'auto-generated'
  const threaded = threading.references.length > 0
  return {
    ...(threaded ? { inReplyTo: threading.references[threading.references.length - 1], references: threading.references } : {}),
    to: row.to_address,
    subject: subject(payload, options.productName),
    text,
    html: htmlPart(text, options.productName),
    messageId: threading.messageId,
    headers
  }
}

// The HTML part is the text part laid out by views/mail/_html.eta, escaped by Eta.
const htmlEta = new Eta({ views: viewsDir, cache: true, autoEscape: true, autoTrim: false })

type Line = Array<{ text: string, href?: string }>

/** The text as paragraphs of lines, each line split into plain runs and links. */
function paragraphsOf (text: string): Line[][] {
  return text.trimEnd().split(/\n{2,}/).map((paragraph) => paragraph.split('\n').map((line) =>
    line.split(/(https?:\/\/[^\s<>"]+)/).filter(Boolean).map((part) => /^https?:\/\//.test(part) ? { text: part, href: part } : { text: part })))
}

function htmlPart (text: string, productName: string): string {
  return htmlEta.render('/mail/_html', { productName, paragraphs: paragraphsOf(text) })
}
