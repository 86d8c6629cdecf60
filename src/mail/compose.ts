import { Eta } from 'eta'
import type { OutboxRow } from '../data/outbox.js'
import { viewsDir } from '../paths.js'

export interface ComposedMail {
  to: string
  subject: string
  text: string
  messageId: string
  headers: Record<string, string>
}

export interface ComposeOptions {
  /** Absolute URL for a path inside the app (base URL and sub-path included). */
  absoluteUrl: (path: string) => string
  productName: string
}

// Plain text needs no HTML escaping; the templates only place values into prose.
const eta = new Eta({ views: viewsDir, cache: true, autoEscape: false, autoTrim: false })

const subjects: Record<string, (p: Record<string, string>) => string> = {
  ticket_received: (p) => `[#${p.number}] We received your request: ${p.subject}`,
  agent_response: (p) => `[#${p.number}] ${p.subject}`,
  ticket_resolved: (p) => `[#${p.number}] Resolved: ${p.subject}`,
  access_link: (p) => `[#${p.number}] Your link to ticket ${p.number}`,
  password_reset: () => 'Reset your Tessera password'
}

/** Turns a queued outbox row into the message to send. */
export function composeMail (row: OutboxRow, options: ComposeOptions): ComposedMail {
  const payload = JSON.parse(row.payload) as Record<string, string>
  const subject = subjects[row.template]
  if (!subject) throw new Error(`No mail template for ${row.template}`)
  const links = {
    ticketLink: payload.token && payload.number ? options.absoluteUrl(`/tickets/${payload.number}/access/${payload.token}`) : '',
    resetLink: row.template === 'password_reset' ? options.absoluteUrl(`/staff/password-reset/${payload.token}`) : ''
  }
  const host = new URL(options.absoluteUrl('/')).hostname
  return {
    to: row.to_address,
    subject: subject(payload),
    text: eta.render(`/mail/${row.template}`, { ...payload, ...links, productName: options.productName }),
    // Stable per outbox row: a message retried after a crash carries the same id, so mail
    // systems can recognise the duplicate.
    messageId: `<tessera.outbox.${row.id}@${host}>`,
    headers: { 'Auto-Submitted': 'auto-generated' }
  }
}
