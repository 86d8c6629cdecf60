import type { Knex } from 'knex'
import type { AgentAccess } from '../../data/agents.js'
import { findTeamRouting, isRoutingStrategy, updateTeamRouting, type RoutingStrategy } from '../../data/routing.js'
import { recordAdminChange } from '../admin-log.js'
import { notFound } from '../errors.js'
import { FieldInputError } from './catalog.js'

/** The strategies as the team page offers them. */
export const routingStrategyLabels: Readonly<Record<RoutingStrategy, string>> = {
  none: 'None: the ticket goes to the team, members claim it',
  round_robin: 'Round robin: each member in turn',
  fewest_open: 'Fewest open tickets: the member with the least open and pending work'
}

/** How a team shares out the new tickets its help topics route to it. */
export function createTeamRouting (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now
  return {
    /** Choosing the strategy the team has already changes nothing and logs nothing. */
    async setStrategy (admin: AgentAccess, teamId: number, strategy: string): Promise<boolean> {
      if (!isRoutingStrategy(strategy)) throw new FieldInputError('routing', 'Choose one of the strategies listed.')
      return await db.transaction(async (trx) => {
        const team = await findTeamRouting(trx, teamId)
        if (!team) throw notFound('That team')
        if (team.routing === strategy) return false
        await updateTeamRouting(trx, teamId, strategy)
        await recordAdminChange(trx, admin, { subject: 'team', subjectId: teamId, action: 'routing_changed', before: { routing: team.routing }, after: { routing: strategy } }, now())
        return true
      })
    }
  }
}
