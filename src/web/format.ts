import type { TicketStatus } from '../data/tickets.js'

const statusLabels: Record<TicketStatus, string> = {
  open: 'Open',
  pending: 'Waiting for you',
  resolved: 'Resolved',
  closed: 'Closed'
}

export function statusLabel (status: TicketStatus): string {
  return statusLabels[status] ?? status
}

/** A <time> element; built from a number only, so it is safe to output unescaped. */
export function timeElement (ms: number | string | null): string {
  if (ms === null) return ''
  const date = new Date(Number(ms))
  const iso = date.toISOString()
  return `<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`
}
