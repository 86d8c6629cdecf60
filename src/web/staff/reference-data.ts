import type { Knex } from 'knex'
import { listActiveAgents, listTeams, type NamedRow } from '../../data/agents.js'
import { listCannedResponses, type CannedResponseRow } from '../../data/canned-responses.js'
import { listDepartments, listHelpTopics, type DepartmentRow } from '../../data/catalog.js'
import { ttlCache } from '../ttl-cache.js'

export interface ReferenceData {
  departments: DepartmentRow[]
  topics: NamedRow[]
  agents: NamedRow[]
  teams: NamedRow[]
  canned: CannedResponseRow[]
}

const caches = new WeakMap<Knex, () => Promise<ReferenceData>>()

/** After an admin change to one of these lists, this instance shows it on the next page. */
export function forgetReferenceData (db: Knex): void {
  caches.delete(db)
}

/**
 * The short lists every staff page offers in its menus. They change only through admin
 * work, so a few seconds of staleness saves five queries on every page. One cache per
 * database, shared by every staff page; the function returned looks it up on each call,
 * so routes that keep it still see a cache forgotten after an admin change.
 */
export function referenceData (db: Knex): () => Promise<ReferenceData> {
  return async () => await currentCache(db)()
}

function currentCache (db: Knex): () => Promise<ReferenceData> {
  const existing = caches.get(db)
  if (existing) return existing
  const cache = ttlCache<'all', ReferenceData>(5_000)
  const lists = async (): Promise<ReferenceData> => await cache('all', async () => {
    const [departments, topics, agents, teams, canned] = await Promise.all([
      listDepartments(db), listHelpTopics(db), listActiveAgents(db), listTeams(db), listCannedResponses(db)
    ])
    return { departments, topics, agents, teams, canned }
  })
  caches.set(db, lists)
  return lists
}
