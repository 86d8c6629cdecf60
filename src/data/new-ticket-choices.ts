import type { Db } from './database.js'

export interface OpenableTopic { id: number, name: string, department_id: number }

/** Help topics an agent may file a new ticket under: active ones (portal or not) in live departments. */
export async function listOpenableTopics (db: Db): Promise<OpenableTopic[]> {
  return await db('help_topics as h').join('departments as d', 'd.id', 'h.department_id')
    .where('h.active', true).whereNull('d.archived_at')
    .orderBy(['h.sort_order', 'h.name']).select('h.id', 'h.name', 'h.department_id')
}
