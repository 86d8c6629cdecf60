import type { Knex } from 'knex'
import { listAgentNames, listAssignableAgents, listTeams, type AssignableAgent, type NamedRow } from '../../data/agents.js'
import { listCannedResponses, type CannedResponseRow } from '../../data/canned-responses.js'
import { listDepartments, listHelpTopics, type DepartmentRow } from '../../data/catalog.js'
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

type Cache = (key: 'all', load: () => Promise<ReferenceData>) => Promise<ReferenceData>

const caches = new WeakMap<Knex, Cache>()
const versions = new WeakMap<Knex, number>()

/** After an admin change to one of these lists, this instance shows it on the next page. */
export function forgetReferenceData (db: Knex): void {
  caches.delete(db)
  versions.set(db, (versions.get(db) ?? 0) + 1)
}

/**
 * A ttlCache for what the catalog decides (the portal's help topics and home page) that
 * starts empty again after an admin change on this instance, so the change shows at once.
 */
export function catalogCache<K, V> (db: Knex, ttlMs: number): (key: K, load: () => Promise<V>) => Promise<V> {
  let version = versions.get(db) ?? 0
  let cache = ttlCache<K, V>(ttlMs)
  return async (key, load) => {
    const current = versions.get(db) ?? 0
    if (current !== version) {
      version = current
      cache = ttlCache<K, V>(ttlMs)
    }
    return await cache(key, load)
  }
}

/**
 * The short lists every staff page offers in its menus. They change only through admin
 * work, so a few seconds of staleness saves six queries on every page. One cache per
 * database, shared by every staff page; looked up on each call, so a reader kept by a route
 * since start-up sees what forgetReferenceData dropped.
 */
export function referenceData (db: Knex): () => Promise<ReferenceData> {
  const load = async (): Promise<ReferenceData> => {
    const [departments, topics, agents, assignable, teams, canned] = await Promise.all([
      listDepartments(db), listHelpTopics(db), listAgentNames(db), listAssignableAgents(db), listTeams(db), listCannedResponses(db)
    ])
    return { departments, topics, agents, assignable, teams, canned }
  }
  return async () => {
    let cache = caches.get(db)
    if (!cache) caches.set(db, cache = ttlCache<'all', ReferenceData>(5_000))
    return await cache('all', load)
  }
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
