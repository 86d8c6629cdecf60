import { insertedId, type Db } from './database.js'

export interface CannedResponseRow {
  id: number
  title: string
  body: string
  /** Null: offered to every agent. */
  department_id: number | null
}

export interface CannedResponseFields {
  title: string
  body: string
  departmentId: number | null
}

const columns = ['id', 'title', 'body', 'department_id'] as const

export async function listCannedResponses (db: Db): Promise<CannedResponseRow[]> {
  return await db<CannedResponseRow>('canned_responses').orderBy(['title', 'id']).select(columns)
}

export async function findCannedResponse (db: Db, id: number): Promise<CannedResponseRow | undefined> {
  return await db<CannedResponseRow>('canned_responses').where({ id }).first(columns)
}

export async function insertCannedResponse (db: Db, fields: CannedResponseFields): Promise<number> {
  const [row] = await db('canned_responses').insert({ title: fields.title, body: fields.body, department_id: fields.departmentId }).returning('id')
  return insertedId(row)
}

export async function updateCannedResponse (db: Db, id: number, fields: CannedResponseFields): Promise<void> {
  await db('canned_responses').where({ id }).update({ title: fields.title, body: fields.body, department_id: fields.departmentId })
}

export async function deleteCannedResponse (db: Db, id: number): Promise<boolean> {
  return await db('canned_responses').where({ id }).delete() === 1
}
