import type { Knex } from 'knex'
import { listAgentNames, listAssignableAgents, listTeams, type AssignableAgent, type NamedRow } from '../../data/agents.js'
import { listCannedResponses, listDepartments, listHelpTopics, type CannedResponseRow, type DepartmentRow } from '../../data/catalog.js'
import { ttlCache } from '../ttl-cache.js'

export interface ReferenceData {
  departments: DepartmentRow[]
  topics: NamedRow[]
  /** Every agent, disabled ones too, for the names beside what they did. */
  agents: NamedRow[]
  /** Who may be given tickets, and where (see assigneesFor). */
  assignable: AssignableAgent[]
  teams: NamedRow[]
  canned: CannedResponseRow[]
}

interface CachedLists {
  lists: () => Promise<ReferenceData>
  forget: () => void
}

const caches = new WeakMap<Knex, CachedLists>()

/** After an admin change to one of these lists, this instance shows it on the next page. */
export function forgetReferenceData (db: Knex): void {
  caches.get(db)?.forget()
}

/**
 * The short lists every staff page offers in its menus. They change only through admin
 * work, so a few seconds of staleness saves six queries on every page. One cache per
 * database, shared by every staff page; routes keep the returned function, so forgetting
 * empties the cache behind it rather than dropping the function.
 */
export function referenceData (db: Knex): () => Promise<ReferenceData> {
  const existing = caches.get(db)
  if (existing) return existing.lists
  let cache = ttlCache<'all', ReferenceData>(5_000)
  const lists = async (): Promise<ReferenceData> => await cache('all', async () => {
    const [departments, topics, agents, assignable, teams, canned] = await Promise.all([
      listDepartments(db), listHelpTopics(db), listAgentNames(db), listAssignableAgents(db), listTeams(db), listCannedResponses(db)
    ])
    return { departments, topics, agents, assignable, teams, canned }
  })
  caches.set(db, { lists, forget: () => { cache = ttlCache<'all', ReferenceData>(5_000) } })
  return lists
}

/**
 * The agents an Assign list offers: those who may be given a ticket of the department (or,
 * without one, of any department). The assign verb enforces the same rule.
 */
export function assigneesFor (assignable: readonly AssignableAgent[], departmentId?: number): NamedRow[] {
  return assignable
    .filter((a) => a.isAdmin || (departmentId === undefined ? a.departmentIds.length > 0 : a.departmentIds.includes(departmentId)))
    .map(({ id, name }) => ({ id, name }))
}
