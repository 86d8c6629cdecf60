import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import { countSearch, deleteSavedSearch, insertSavedSearch, listSavedSearches, type SavedSearch } from '../data/search.js'
import { parseSearchParams } from './search-query.js'

/** `atLeast`: the search found so many places that it ranked only the most recent (the count reads "500+"). */
export type SavedSearchQueue = SavedSearch & { count: number, atLeast: boolean }

const countsTtlMs = 5_000
const maxSaved = 50

/*
 * An agent's saved searches are personal queues: listed beside the queues with how many
 * tickets each finds now. Counting runs every search, so counts are kept a few seconds per
 * agent, and forgotten at once when that agent saves or removes one.
 */
export function createSavedSearches (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now
  const cache = new Map<number, { at: number, queues: Promise<SavedSearchQueue[]> }>()

  async function load (access: AgentAccess): Promise<SavedSearchQueue[]> {
    const saved = await listSavedSearches(db, access.id)
    return await Promise.all(saved.map(async (row) => {
      const { query } = parseSearchParams(Object.fromEntries(new URLSearchParams(row.query)))
      return { ...row, ...await countSearch(db, access, query) }
    }))
  }

  return {
    async list (access: AgentAccess): Promise<SavedSearchQueue[]> {
      const cached = cache.get(access.id)
      if (cached && now() - cached.at < countsTtlMs) return await cached.queues
      const queues = load(access)
      cache.set(access.id, { at: now(), queues })
      queues.catch(() => cache.delete(access.id))
      return await queues
    },

    /** Keeps a search under a name; the query string is one the search page made clean. */
    async save (access: AgentAccess, input: { name: string, query: string }): Promise<number> {
      cache.delete(access.id)
      const existing = await listSavedSearches(db, access.id)
      const name = input.name.trim()
      // Saving again under the same name replaces the old one rather than listing both.
      return await db.transaction(async (trx) => {
        for (const row of existing.filter((row) => row.name === name)) await deleteSavedSearch(trx, access.id, row.id)
        const oldest = existing.length >= maxSaved ? existing.filter((row) => row.name !== name).sort((a, b) => a.created_at - b.created_at)[0] : undefined
        if (oldest) await deleteSavedSearch(trx, access.id, oldest.id)
        return await insertSavedSearch(trx, { agent_id: access.id, name, query: input.query, created_at: now() })
      })
    },

    async remove (access: AgentAccess, id: number): Promise<boolean> {
      cache.delete(access.id)
      return await deleteSavedSearch(db, access.id, id)
    }
  }
}

export type SavedSearches = ReturnType<typeof createSavedSearches>
