import { isAssignable } from '../data/agents.js'
import type { HelpTopicRow } from '../data/catalog.js'
import { allInTransaction, type Db } from '../data/database.js'
import { memo } from './memo.js'
import { countOpenAssigned, findTeamRouting, isAway, listRoutableMembers, takeRoutingSlots, type RoutingStrategy, type TeamRouting } from '../data/routing.js'

export interface RoutingDecision {
  assigneeId: number | null
  teamId: number | null
  /** What the history names as the rule ("assigned to Bob by the Printers rule"): the topic or the team. */
  rule: string | null
  strategy: RoutingStrategy | 'topic' | null
}

export interface TicketToRoute {
  department_id: number
  topic: Pick<HelpTopicRow, 'name' | 'default_team_id' | 'default_agent_id'>
}

/** A ticket's routing as read before its turn is taken: decided already, or one of a team's members in turn. */
export type RoutingCandidate = RoutingDecision | { teamId: number, rule: string, strategy: 'round_robin' | 'fewest_open', members: number[] }

/**
 * Who could work each new ticket from the start, for new tickets opened together, in their
 * order. The agent the help topic names comes first, unless they could not be assigned it
 * by hand or are away; otherwise the topic's team, and, when the team has a strategy, its
 * members who may take it now (see listRoutableMembers), one of whom `takeTurns` picks. Only
 * reads, so the creating transaction may read them on other connections beside its writes.
 */
export async function routingCandidates (db: Db, tickets: readonly TicketToRoute[], at: number): Promise<RoutingCandidate[]> {
  const once = memo()
  const topicAgentTakes = async (agentId: number, departmentId: number): Promise<boolean> =>
    await once(`assignable:${agentId}:${departmentId}`, async () => {
      const [assignable, away] = await allInTransaction([isAssignable(db, agentId, departmentId), isAway(db, agentId, at)])
      return assignable && !away
    })
  const teamOf = async (teamId: number): Promise<TeamRouting | undefined> =>
    await once(`team:${teamId}`, async () => await findTeamRouting(db, teamId))
  const membersOf = async (teamId: number, departmentId: number): Promise<number[]> =>
    await once(`members:${teamId}:${departmentId}`, async () => await listRoutableMembers(db, teamId, departmentId, at))
  // Each ticket is decided at once, not after the one before, and its topic's agent, team
  // and members are read at once too: a ticket the topic's agent takes has its team read for
  // nothing, but no lookup waits for another's answer. The memo lets tickets that need the
  // same one share it; the decisions keep the tickets' order.
  return await allInTransaction(tickets.map(async ({ department_id: departmentId, topic }): Promise<RoutingCandidate> => {
    const teamId = topic.default_team_id
    const agentId = topic.default_agent_id
    const [agentTakes, team, members] = await allInTransaction([
      agentId === null ? Promise.resolve(false) : topicAgentTakes(agentId, departmentId),
      teamId === null ? Promise.resolve(undefined) : teamOf(teamId),
      teamId === null ? Promise.resolve([]) : membersOf(teamId, departmentId)
    ])
    if (agentId !== null && agentTakes) return { assigneeId: agentId, teamId, rule: topic.name, strategy: 'topic' }
    const nobody: RoutingDecision = { assigneeId: null, teamId, rule: null, strategy: null }
    if (teamId === null || !team || team.routing === 'none' || members.length === 0) return nobody
    return { teamId, rule: team.name, strategy: team.routing, members }
  }))
}

/** The agents a candidate may assign the ticket to. */
export function candidateAgents (candidate: RoutingCandidate): number[] {
  return 'members' in candidate ? candidate.members : candidate.assigneeId === null ? [] : [candidate.assigneeId]
}

/**
 * Who works each new ticket, handed out in turn as if the tickets had come one after the
 * other. Runs inside the creating transaction: each team's round-robin slots are taken there,
 * atomically, in one statement; the open tickets counted for "fewest open" are counted after
 * that, so concurrent creators wait for each other.
 */
export async function takeTurns (trx: Db, candidates: readonly RoutingCandidate[]): Promise<RoutingDecision[]> {
  // In id order: creators on other instances lock the same teams in the same order.
  const teams = [...new Set(candidates.flatMap((c) => 'members' in c ? [c.teamId] : []))].sort((a, b) => a - b)
  const firstSlots = await allInTransaction(teams.map(async (teamId) => await takeRoutingSlots(trx, teamId, candidates.filter((c) => 'members' in c && c.teamId === teamId).length)))
  const slots = new Map(teams.map((teamId, i) => [teamId, firstSlots[i]!]))
  const load = await countOpenAssigned(trx, [...new Set(candidates.flatMap((c) => 'members' in c && c.strategy === 'fewest_open' ? c.members : []))])
  return candidates.map((candidate) => {
    if (!('members' in candidate)) return candidate
    const { teamId, rule, strategy, members } = candidate
    const slot = slots.get(teamId)!
    slots.set(teamId, slot + 1)
    const chosen = strategy === 'round_robin' ? members[slot % members.length]! : fewestOpen(members, load, slot)
    load.set(chosen, (load.get(chosen) ?? 0) + 1)
    return { assigneeId: chosen, teamId, rule, strategy }
  })
}

/** The member with the fewest open and pending tickets; a tie goes round in turn by the slot. */
function fewestOpen (members: readonly number[], counts: ReadonlyMap<number, number>, slot: number): number {
  const load = (id: number): number => counts.get(id) ?? 0
  const least = Math.min(...members.map(load))
  const tied = members.filter((id) => load(id) === least)
  return tied[slot % tied.length]!
}
