import type { Db } from './database.js'

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
  const rows: Array<{ key: string, value: string }> = await db('settings').whereIn('key', keys).select('key', 'value')
  return new Map(rows.map((row) => [row.key, row.value]))
}
