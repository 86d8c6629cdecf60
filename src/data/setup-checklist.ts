import type { Db } from './database.js'

/** What the desk holds that the admin checklist ticks off, read in one query. */
export interface SetupFacts {
  deskNamed: boolean
  catalogReviewed: boolean
  agentCount: number
  departmentAddressExists: boolean
  testMessageSent: boolean
}

const catalogChanges = (db: Db): ReturnType<Db> => db('admin_events').whereIn('subject_type', ['department', 'help_topic'])

export async function readSetupFacts (db: Db): Promise<SetupFacts> {
  const exists = (query: ReturnType<Db>): ReturnType<Db['raw']> =>
    db.raw('case when exists ? then 1 else 0 end', [query.select(db.raw('1'))])
  const [row] = await db.select({
    desk_named: exists(db('settings').where({ key: 'desk.name' }).andWhere('value', '<>', '')),
    catalog_reviewed: exists(catalogChanges(db)),
    agent_count: db('agents').count('*'),
    department_address_exists: exists(db('department_addresses')),
    test_message_sent: exists(db('outbox').where({ template: 'test_message', status: 'sent' }))
  }) as Array<Record<string, number | string>>
  return {
    deskNamed: Number(row?.desk_named) === 1,
    catalogReviewed: Number(row?.catalog_reviewed) === 1,
    agentCount: Number(row?.agent_count ?? 0),
    departmentAddressExists: Number(row?.department_address_exists) === 1,
    testMessageSent: Number(row?.test_message_sent) === 1
  }
}

/** Whether any admin change to departments or help topics was recorded. */
export async function catalogWasReviewed (db: Db): Promise<boolean> {
  return await catalogChanges(db).first('id') !== undefined
}
