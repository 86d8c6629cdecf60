import type { AgentAccess } from '../data/agents.js'
import type { TicketRow } from '../data/tickets.js'

/** How long a deleted ticket can be restored before the purge job removes it for good. */
export const trashRetentionDays = 30
export const trashRetentionMs = trashRetentionDays * 86400_000

export function purgeDueAt (deletedAt: number): number {
  return deletedAt + trashRetentionMs
}

export function restorable (ticket: Pick<TicketRow, 'deleted_at'>, at: number): boolean {
  return ticket.deleted_at !== null && purgeDueAt(ticket.deleted_at) > at
}

/**
 * The departments whose trash this agent sees: those they manage (the role that may
 * delete and restore); null means every department, for administrators.
 */
export function trashDepartments (access: AgentAccess): number[] | null {
  if (access.isAdmin) return null
  return Object.entries(access.roles).filter(([, role]) => role === 'manager').map(([id]) => Number(id))
}
