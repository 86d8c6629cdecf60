import type { Db } from './database.js'

export interface HelpTopicRow {
  id: number
  name: string
  department_id: number
  priority: number
  active: boolean
  sort_order: number
}

export interface DepartmentRow {
  id: number
  name: string
}

export async function listActiveHelpTopics (db: Db): Promise<HelpTopicRow[]> {
  return await db<HelpTopicRow>('help_topics').where({ active: true }).orderBy(['sort_order', 'name'])
}

export async function findActiveHelpTopic (db: Db, id: number): Promise<HelpTopicRow | undefined> {
  return await db<HelpTopicRow>('help_topics').where({ id, active: true }).first()
}

export async function listDepartments (db: Db): Promise<DepartmentRow[]> {
  return await db<DepartmentRow>('departments').orderBy('name').select('id', 'name')
}

export async function findDepartment (db: Db, id: number): Promise<DepartmentRow | undefined> {
  return await db<DepartmentRow>('departments').where({ id }).first('id', 'name')
}

export async function listHelpTopics (db: Db): Promise<Array<{ id: number, name: string }>> {
  return await db('help_topics').orderBy('name').select('id', 'name')
}

export async function findTeam (db: Db, id: number): Promise<{ id: number, name: string } | undefined> {
  return await db('teams').where({ id }).first('id', 'name')
}
