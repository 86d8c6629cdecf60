import { createHmac, randomBytes } from 'node:crypto'
import { Eta } from 'eta'
import type { OutboxRow } from '../data/outbox.js'
import { ticketLinkPlaceholder } from '../domain/canned-responses.js'
import { notices, type NoticeTemplate } from '../domain/notices.js'
import { formatTime } from '../domain/time-format.js'
import { viewsDir } from '../paths.js'
import { fileSizeLabel } from '../attachments/names.js'

export interface ComposedMail {
  to: string
  subject: string
  text: string
  html: string
  messageId: string
  inReplyTo?: string
  references?: string[]
  headers: Record<string, string>
  /** Stored files that go out with the mail (by SHA-256, see src/attachments/store.ts). */
  attachments: MailFile[]
}

/** A file an agent attached to a reply, as its notice's payload names it. */
export interface MailFile { name: string, sha256: string, size: number, type: string }

export interface ComposeOptions {
  /** Absolute URL for a path inside the app (base URL and sub-path included). */
  absoluteUrl: (path: string) => string
  productName: string
  /** Signs our Message-IDs so Tessera can recognise replies to its own mail. */
  secret: string
  /** The desk's time zone: mail states its times there, and names it. UTC when absent. */
  timeZone?: string
  /** Files ride along up to this many bytes in all; the rest are named, with the ticket link. Default 10 MB. */
  mailAttachmentBytes?: number
}

/** The files that fit in one mail, in order, and the ones left for the ticket page. */
export function splitMailFiles (files: readonly MailFile[], limitBytes: number): { attached: MailFile[], linked: MailFile[] } {
  const attached: MailFile[] = []
  const linked: MailFile[] = []
  let total = 0
  for (const file of files) {
    if (total + file.size <= limitBytes) { attached.push(file); total += file.size } else linked.push(file)
  }
  return { attached, linked }
}

/** Replies to our notices are cut here; everything below is what we sent. */
export const replyMarker = '-- Reply above this line --'

// Text parts need no escaping; the HTML part is built from the text and escaped there.
const eta = new Eta({ views: viewsDir, cache: true, autoEscape: false, autoTrim: false })

const subjects: Record<NoticeTemplate, (p: Record<string, string>, desk: string) => string> = {
  ticket_received: (p) => `[#${p.number}] We received your request: ${p.subject}`,
  agent_response: (p) => `[#${p.number}] ${p.subject}`,
  participant_copy: (p) => `[#${p.number}] ${p.subject}`,
  ticket_resolved: (p) => `[#${p.number}] Resolved: ${p.subject}`,
  ticket_closed: (p) => `[#${p.number}] Closed: ${p.subject}`,
  access_link: (p) => `[#${p.number}] Your link to ticket ${p.number}`,
  ticket_merged: (p) => `[#${p.number}] Merged: ${p.subject}`,
  pending_reminder: (p) => `[#${p.number}] Waiting for your answer: ${p.subject}`,
  survey_invitation: (p) => `[#${p.number}] How did we do? ${p.subject}`,
  new_ticket: (p) => `[#${p.number}] New ticket: ${p.subject}`,
  ticket_assigned: (p) => `[#${p.number}] Assigned to you: ${p.subject}`,
  client_message: (p) => `[#${p.number}] New message: ${p.subject}`,
  ticket_transferred: (p) => `[#${p.number}] Transferred to your department: ${p.subject}`,
  sla_warning: (p) => `[#${p.number}] ${p.targetLabel} due soon: ${p.subject}`,
  sla_breach: (p) => `[#${p.number}] ${p.targetLabel} overdue: ${p.subject}`,
  survey_not_good: (p) => `[#${p.number}] Rated Not good: ${p.subject}`,
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
  /** The survey token minted for this one mail, when it asks how we did. */
  surveyToken?: string
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
  const { linkToken, surveyToken, repliesByMail = true } = context
  const links = {
    ticketLink: linkToken && payload.number ? options.absoluteUrl(`/tickets/${payload.number}/access/${linkToken}`) : '',
    surveyLink: surveyToken ? options.absoluteUrl(`/survey/${surveyToken}`) : '',
    staffLink: payload.number ? options.absoluteUrl(`/staff/tickets/${payload.number}`) : '',
    resetLink: (template === 'password_reset' || template === 'invitation') && linkToken ? options.absoluteUrl(`/staff/password-reset/${linkToken}`) : ''
  }
  // An agent's reply may say where the requester's private link goes; it exists only now.
  if (template === 'agent_response' && typeof payload.body === 'string') payload.body = payload.body.replaceAll(ticketLinkPlaceholder, links.ticketLink)
  const zone = options.timeZone ?? 'UTC'
  const sentAt = payload.sentAt === undefined ? '' : `${formatTime(Number(payload.sentAt), zone, 'day-month')} (${zone})`
  // A participant's copy never carries the requester's private link.
  if (template === 'participant_copy' && typeof payload.body === 'string') payload.body = payload.body.replaceAll(ticketLinkPlaceholder, '(a private link sent to the requester only)')
  const files = Array.isArray(payload.files) ? payload.files as unknown as MailFile[] : []
  const { attached, linked } = splitMailFiles(files, options.mailAttachmentBytes ?? 10 * 1024 * 1024)
  const linkedFiles = linked.map((f) => ({ name: f.name, sizeLabel: fileSizeLabel(f.size) }))
  const body = eta.render(`/mail/${template}`, { ...payload, ...links, sentAt, productName: options.productName, forAgent, repliesByMail, linkedFiles })
  // Notices about a ticket invite a reply by mail when one can arrive; the marker tells us where it ends.
  const text = payload.number && repliesByMail ? `${replyMarker}\n\n${body}` : body
  const headers: Record<string, string> = {}
  // A person's answer is not automatic; everything else Tessera sends is.
  if (template !== 'agent_response' && template !== 'participant_copy') headers['Auto-Submitted'] = 'auto-generated'
  const threaded = threading.references.length > 0
  return {
    ...(threaded ? { inReplyTo: threading.references[threading.references.length - 1], references: threading.references } : {}),
    to: row.to_address,
    subject: subject(payload, options.productName),
    text,
    html: htmlPart(text, options.productName),
    messageId: threading.messageId,
    headers,
    attachments: attached
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
