import type { FastifyInstance } from 'fastify'
import { loadAgentAccess } from '../../src/data/agents.js'
import { findTicketById, type TicketRow } from '../../src/data/tickets.js'
import { agentActor, type Actor, type AgentActor } from '../../src/domain/lifecycle.js'

/** The ticket as a request would load it now, for calling lifecycle verbs directly. */
export async function ticketRow (app: FastifyInstance, id: number): Promise<TicketRow> {
  const ticket = await findTicketById(app.db, id)
  if (!ticket) throw new Error(`no ticket ${id}`)
  return ticket
}

/** An agent with the access a signed-in request would load. */
export async function asAgent (app: FastifyInstance, agentId: number): Promise<AgentActor> {
  const access = await loadAgentAccess(app.db, agentId)
  if (!access) throw new Error(`no active agent ${agentId}`)
  return agentActor(access)
}

export const system: Actor = { kind: 'system' }

export function asRequester (ticket: Pick<TicketRow, 'requester_id'>): Actor {
  return { kind: 'requester', requesterId: ticket.requester_id }
}
