import { insertedId, type Db } from './database.js'

export interface BlockedSenderRow {
  id: number
  /** An address, or `@domain` for every address at that domain. */
  pattern: string
  created_by: number | null
  created_by_name?: string | null
  created_at: number
}

export async function listBlockedSenders (db: Db): Promise<BlockedSenderRow[]> {
  return await db('blocked_senders as b')
    .leftJoin('agents as a', 'a.id', 'b.created_by')
    .select('b.id', 'b.pattern', 'b.created_by', 'a.name as created_by_name', 'b.created_at')
    .orderBy('b.pattern')
}

export async function findBlockedSender (db: Db, id: number): Promise<BlockedSenderRow | undefined> {
  return await db<BlockedSenderRow>('blocked_senders').where({ id }).first()
}

export async function findBlockedPattern (db: Db, pattern: string): Promise<BlockedSenderRow | undefined> {
  return await db<BlockedSenderRow>('blocked_senders').where({ pattern }).first()
}

export async function insertBlockedSender (db: Db, pattern: string, agentId: number | null, at: number): Promise<number> {
  const [row] = await db('blocked_senders').insert({ pattern, created_by: agentId, created_at: at }).returning('id')
  return insertedId(row)
}

export async function deleteBlockedSender (db: Db, id: number): Promise<boolean> {
  return await db('blocked_senders').where({ id }).delete() > 0
}

/** Every pattern, if there are at most `limit`; undefined when there are more. */
export async function listBlockedPatterns (db: Db, limit: number): Promise<string[] | undefined> {
  const rows: Array<{ pattern: string }> = await db('blocked_senders').select('pattern').limit(limit + 1)
  return rows.length > limit ? undefined : rows.map((row) => row.pattern)
}

/** Whether any of the patterns (an address and its `@domain`) is blocked; one indexed look-up. */
export async function anyPatternBlocked (db: Db, patterns: readonly string[]): Promise<boolean> {
  return await db('blocked_senders').whereIn('pattern', patterns).first('id') !== undefined
}
