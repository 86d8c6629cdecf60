import type { Db } from './database.js'

/** Why a message became no ticket: it can never be processed, or a machine wrote it. */
export type SetAsideKind = 'unprocessable' | 'automated' | 'blocked'

export interface SetAsideRow {
  id: number
  kind: SetAsideKind
  reason: string
  message_id: string | null
  from_address: string | null
  subject: string | null
  size_bytes: number | null
  created_at: number
  /** The message as it arrived, in the attachment store; null when no store was configured. */
  raw_sha256: string | null
  /** Bytes of it kept: all of it, or the first bytes up to the cap when `raw_cut`. */
  raw_size: number | null
  raw_cut: boolean
}

export async function insertSetAside (db: Db, row: Omit<SetAsideRow, 'id'>): Promise<void> {
  await db('set_aside_mail').insert({
    ...row,
    reason: row.reason.slice(0, 255),
    message_id: row.message_id?.slice(0, 255) ?? null,
    from_address: row.from_address?.slice(0, 254) ?? null,
    subject: row.subject?.slice(0, 200) ?? null
  })
}

export async function findSetAside (db: Db, id: number): Promise<SetAsideRow | undefined> {
  const row = await db<SetAsideRow>('set_aside_mail').where({ id }).first()
  return row ? { ...row, raw_cut: Boolean(row.raw_cut) } : undefined
}

/** One kind, newest first, `limit` rows below `beforeId` (keyset on the (kind, id) index). */
export async function listSetAside (db: Db, kind: SetAsideKind, beforeId: number | undefined, limit: number): Promise<SetAsideRow[]> {
  const query = db<SetAsideRow>('set_aside_mail').where({ kind }).orderBy('id', 'desc').limit(limit)
  if (beforeId !== undefined) void query.andWhere('id', '<', beforeId)
  return (await query).map((row) => ({ ...row, raw_cut: Boolean(row.raw_cut) }))
}
