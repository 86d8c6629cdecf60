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
