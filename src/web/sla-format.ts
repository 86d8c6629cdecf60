/*
 * How SLA clocks read on staff pages: due times relative to now ("due in 2 h", "overdue
 * by 1 d") and one line of history per `sla` event.
 */

const targetNames: Record<string, string> = { first_response: 'first response', resolution: 'resolution' }

function span (ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000)
  if (minutes < 60) return `${minutes} min`
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h`
  return `${Math.floor(minutes / 1440)} d`
}

function utc (ms: unknown): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : '—'
}

/** "due in 2 h" or "overdue by 1 d". */
export function dueLabel (dueAt: number, now: number): string {
  return dueAt > now ? `due in ${span(dueAt - now)}` : `overdue by ${span(now - dueAt)}`
}

/** A queue row's due cell: empty without a clock, paused while pending. */
export function queueDueLabel (row: { status: string, sla_due_at: number | null }, now: number): string {
  if (row.sla_due_at === null) return '—'
  if (row.status === 'pending') return 'paused'
  return dueLabel(Number(row.sla_due_at), now)
}

export interface SlaTargetView { label: string, dueAt: number | null, state: string }

/** A ticket's two targets as its page shows them. */
export function slaTargetsView (row: object, now: number): SlaTargetView[] {
  // Ticket pages select t.*, so the SLA columns come along untyped.
  const ticket = row as Record<string, unknown>
  if (ticket.sla_plan_id === null || ticket.sla_plan_id === undefined) return []
  const paused = ticket.status === 'pending'
  return (['first_response', 'resolution'] as const).map((target) => {
    const dueAt = ticket[`${target}_due_at`] === null ? null : Number(ticket[`${target}_due_at`])
    const outcome = ticket[`${target}_outcome`]
    const done = target === 'first_response' ? ticket.first_response_at !== null : ticket.status === 'resolved' || ticket.status === 'closed'
    let state: string
    if (dueAt === null) state = '—'
    else if (done) state = outcome === 'breached' ? 'breached' : 'met'
    else if (paused) state = 'paused while pending'
    else state = dueLabel(dueAt, now) + (outcome === 'breached' ? ' (breached)' : '')
    return { label: target === 'first_response' ? 'First response' : 'Resolution', dueAt, state }
  })
}

export function describeSlaEvent (after: Record<string, unknown>): string {
  const target = targetNames[String(after.target)] ?? 'SLA'
  switch (after.change) {
    case 'started': return `started the SLA clocks (${String(after.plan)}): first response due ${utc(after.first_response_due_at)}, resolution due ${utc(after.resolution_due_at)}`
    case 'paused': return 'paused the SLA clocks while the ticket is pending'
    case 'resumed': return `resumed the SLA clocks: first response due ${utc(after.first_response_due_at)}, resolution due ${utc(after.resolution_due_at)}`
    case 'restarted': return `restarted the resolution clock: due ${utc(after.resolution_due_at)}`
    case 'warned': return `warned that the ${target} target (due ${utc(after.due_at)}) is 80 % gone`
    case 'met': return `recorded the ${target} target as met (due ${utc(after.due_at)})`
    case 'breached': return `recorded the ${target} target as breached (due ${utc(after.due_at)})`
    default: return 'changed the SLA clocks'
  }
}
