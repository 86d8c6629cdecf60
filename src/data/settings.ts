import { listOf, preparedRead, readList, type Db, type ListRead } from './database.js'

export async function getSetting (db: Db, key: string): Promise<string | undefined> {
  const row = await db('settings').where({ key }).first('value')
  return row?.value
}

export async function putSetting (db: Db, key: string, value: string): Promise<void> {
  await db('settings').insert({ key, value }).onConflict('key').merge({ value })
}

/** Deletes the setting only if it still holds `value`; true for the one caller that did. */
export async function takeSetting (db: Db, key: string, value: string): Promise<boolean> {
  return await db('settings').where({ key, value }).delete() === 1
}

/** The stored values among `keys`, in one query; keys never set are missing. */
export async function readSettings (db: Db, keys: readonly string[]): Promise<Map<string, string>> {
  return await readList(db, settingsList(db, keys))
}

/** readSettings as a list read with others. */
export function settingsList (db: Db, keys: readonly string[]): ListRead<Map<string, string>> {
  return listOf(settingsByKey(db, { keys: [...keys] }), ['key', 'value'], (rows: Array<{ key: string, value: string }>) => new Map(rows.map((row) => [row.key, row.value])))
}

const settingsByKey = preparedRead((db, { keys }: { keys: readonly string[] }) => db('settings').whereIn('key', keys).select('key', 'value'))
