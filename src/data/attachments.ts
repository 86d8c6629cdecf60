import { listOf, preparedRead, type Db, type ListRead } from './database.js'
import type { StoredFile } from '../attachments/store.js'
import type { ImageType } from '../attachments/sniff.js'
import { ticketIdIn, type TicketRef, type TicketRow } from './tickets.js'

export interface AttachmentRow {
  id: number
  entry_id: number
  sha256: string
  size: number
  filename: string
  content_type: string
  image_type: ImageType | null
  content_id: string | null
  inline: boolean
  created_at: number
}

function toRow (row: AttachmentRow): AttachmentRow {
  // MySQL answers 0/1 and PostgreSQL bigints as strings.
  return { ...row, size: Number(row.size), inline: Boolean(row.inline), created_at: Number(row.created_at) }
}

export async function insertAttachments (db: Db, entryId: number, files: readonly StoredFile[], at: number): Promise<void> {
  for (const file of files) {
    await db('attachments').insert({
      entry_id: entryId,
      sha256: file.sha256,
      size: file.size,
      filename: file.filename,
      content_type: file.contentType,
      image_type: file.imageType,
      content_id: file.contentId,
      inline: file.inline,
      created_at: at
    })
  }
}

/** The files of these entries, by entry, in the order they were attached. */
export async function listEntryAttachments (db: Db, entryIds: readonly number[]): Promise<Map<number, AttachmentRow[]>> {
  if (entryIds.length === 0) return new Map()
  return byEntryOf(await db('attachments').whereIn('entry_id', entryIds).orderBy(['entry_id', 'id']))
}

const attachmentColumns: ReadonlyArray<keyof AttachmentRow> = ['id', 'entry_id', 'sha256', 'size', 'filename', 'content_type', 'image_type', 'content_id', 'inline', 'created_at']

/** The files of every entry of the ticket, notes' included, by entry: a list a staff page reads with others. */
export function ticketAttachmentsList (db: Db, ticket: TicketRef): ListRead<Map<number, AttachmentRow[]>> {
  return listOf(ticketAttachments(db, { ticket }), attachmentColumns, byEntryOf)
}

const ticketAttachments = preparedRead((db, { ticket }: { ticket: TicketRef }) =>
  db('attachments').whereIn('entry_id', db('thread_entries').where('ticket_id', ticketIdIn(db, ticket)).select('id'))
    .orderBy(['entry_id', 'id']).select(attachmentColumns))

function byEntryOf (rows: AttachmentRow[]): Map<number, AttachmentRow[]> {
  const byEntry = new Map<number, AttachmentRow[]>()
  for (const row of rows.map(toRow)) {
    const list = byEntry.get(row.entry_id) ?? []
    list.push(row)
    byEntry.set(row.entry_id, list)
  }
  return byEntry
}

/** One file of one ticket's thread, notes included (for agents who may open the ticket). */
export async function findTicketAttachment (db: Db, ticketId: number, id: number): Promise<AttachmentRow | undefined> {
  const row = await db('attachments as f')
    .join('thread_entries as e', 'e.id', 'f.entry_id')
    .where('f.id', id).andWhere('e.ticket_id', ticketId)
    .first('f.*')
  return row === undefined ? undefined : toRow(row as AttachmentRow)
}

/**
 * One file the ticket's requester may download: on an entry their own page shows (the same
 * rule as listRequesterEntries), never on an internal note.
 */
export async function findRequesterAttachment (db: Db, ticket: Pick<TicketRow, 'id' | 'merged_into_id'>, id: number): Promise<AttachmentRow | undefined> {
  const query = db('attachments as f')
    .join('thread_entries as e', 'e.id', 'f.entry_id')
    .where('f.id', id)
    .whereNot('e.kind', 'note')
  if (ticket.merged_into_id !== null) query.where('e.merged_from_id', ticket.id)
  else query.where('e.ticket_id', ticket.id).where('e.staff_only', false)
  const row = await query.first('f.*')
  return row === undefined ? undefined : toRow(row as AttachmentRow)
}

/** An inline part of one entry by its Content-ID, for `cid:` references in that entry's mail. */
export async function findEntryAttachmentByContentId (db: Db, entryId: number, contentId: string): Promise<AttachmentRow | undefined> {
  const row = await db('attachments').where({ entry_id: entryId, content_id: contentId }).first()
  return row === undefined ? undefined : toRow(row as AttachmentRow)
}

/** The files on a ticket's entries, read before a purge deletes the entries. */
export async function listTicketAttachmentRefs (db: Db, ticketId: number): Promise<Array<{ id: number, sha256: string }>> {
  return await db('attachments as f')
    .join('thread_entries as e', 'e.id', 'f.entry_id')
    .where('e.ticket_id', ticketId)
    .select('f.id', 'f.sha256')
}

export async function deleteAttachments (db: Db, ids: readonly number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await db('attachments').whereIn('id', ids.slice(i, i + 500)).delete()
}

/** Which of these files no attachment row and no set-aside message names any more. */
export async function unusedFiles (db: Db, sha256s: readonly string[]): Promise<string[]> {
  const unique = [...new Set(sha256s)]
  if (unique.length === 0) return []
  const used = new Set<string>()
  for (let i = 0; i < unique.length; i += 500) {
    const batch = unique.slice(i, i + 500)
    const rows: Array<{ sha256: string }> = await db('attachments').whereIn('sha256', batch).distinct('sha256')
    for (const row of rows) used.add(row.sha256)
    // Set-aside mail keeps its message in the same store (the bytes of a forwarded .eml, say).
    const setAside: Array<{ raw_sha256: string }> = await db('set_aside_mail').whereIn('raw_sha256', batch).distinct('raw_sha256')
    for (const row of setAside) used.add(row.raw_sha256)
  }
  return unique.filter((sha) => !used.has(sha))
}
