import { isAssignable } from '../data/agents.js'
import type { HelpTopicRow } from '../data/catalog.js'
import type { Db } from '../data/database.js'
import { countOpenAssigned, findTeamRouting, isAway, listRoutableMembers, takeRoutingSlot, type RoutingStrategy } from '../data/routing.js'

export interface RoutingDecision {
  assigneeId: number | null
  teamId: number | null
  /** What the history names as the rule ("assigned to Bob by the Printers rule"): the topic or the team. */
  rule: string | null
  strategy: RoutingStrategy | 'topic' | null
}

/**
 * Who works a new ticket from the start. The agent the help topic names comes first, unless
 * they could not be assigned it by hand or are away; otherwise the topic's team, and, when
 * the team has a strategy, one of its members who may take it now (see listRoutableMembers).
 * Runs inside the creating transaction: the round-robin slot is taken there, atomically.
 */
export async function routeNewTicket (trx: Db, ticket: { department_id: number },
  topic: Pick<HelpTopicRow, 'name' | 'default_team_id' | 'default_agent_id'>, at: number): Promise<RoutingDecision> {
  const teamId = topic.default_team_id
  const agentId = topic.default_agent_id
  if (agentId !== null && await isAssignable(trx, agentId, ticket.department_id) && !await isAway(trx, agentId, at)) {
    return { assigneeId: agentId, teamId, rule: topic.name, strategy: 'topic' }
  }
  const nobody: RoutingDecision = { assigneeId: null, teamId, rule: null, strategy: null }
  if (teamId === null) return nobody
  const team = await findTeamRouting(trx, teamId)
  if (!team || team.routing === 'none') return nobody
  const members = await listRoutableMembers(trx, teamId, ticket.department_id, at)
  if (members.length === 0) return nobody
  const slot = await takeRoutingSlot(trx, teamId)
  const chosen = team.routing === 'round_robin' ? members[slot % members.length]! : await fewestOpen(trx, members, slot)
  return { assigneeId: chosen, teamId, rule: team.name, strategy: team.routing }
}

/** The member with the fewest open and pending tickets; a tie goes round in turn by the slot. */
async function fewestOpen (trx: Db, members: readonly number[], slot: number): Promise<number> {
  const counts = await countOpenAssigned(trx, members)
  const load = (id: number): number => counts.get(id) ?? 0
  const least = Math.min(...members.map(load))
  const tied = members.filter((id) => load(id) === least)
  return tied[slot % tied.length]!
}
