import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import sqlite3 from 'sqlite3'
import t from 'tap'
import { createDatabase } from '../../src/data/database.js'
import { testFolder } from '../helpers/app.js'

/**
 * How far the WAL has been copied back into the database file, from its index (the -shm
 * file) as https://www.sqlite.org/walformat.html lays it out: the last frame in the WAL at
 * byte 16, the last frame copied (nBackfill) at byte 96, both in the machine's byte order.
 */
function walProgress (dir: string): { frames: number, copied: number } {
  const index = readFileSync(join(dir, 'tessera.sqlite-shm'))
  return { frames: index.readUInt32LE(16), copied: index.readUInt32LE(96) }
}

async function exec (conn: sqlite3.Database, sql: string): Promise<void> {
  await new Promise<void>((resolve, reject) => { conn.exec(sql, (err) => { if (err === null) resolve(); else reject(err) }) })
}

// The SQLite desk only: PostgreSQL and MariaDB have no WAL of ours to look after.
t.test('a checkpoint held back by a reader is tried again until the WAL is copied whole, writes or not', async (t) => {
  const dir = testFolder(t)
  const db = createDatabase({ dataDir: dir, databaseUrl: '' })
  t.teardown(async () => { await db.destroy() })
  await db.schema.createTable('notes', (table) => { table.increments('id'); table.text('body') })
  await sleep(400)

  // A reader in the middle of a long read keeps the frames written after it in the WAL.
  const reader = new sqlite3.Database(join(dir, 'tessera.sqlite'))
  t.teardown(() => { reader.close() })
  await exec(reader, 'BEGIN; SELECT count(*) FROM notes;')
  for (let i = 0; i < 50; i++) await db('notes').insert({ body: 'x'.repeat(8000) })
  await sleep(600)
  const held = walProgress(dir)
  t.ok(held.copied < held.frames, `the reader holds part of the WAL back (${held.copied} of ${held.frames} frames copied)`)

  await exec(reader, 'COMMIT')
  let done = walProgress(dir)
  for (let waited = 0; done.copied < done.frames && waited < 5000; waited += 100) {
    await sleep(100)
    done = walProgress(dir)
  }
  t.equal(done.copied, done.frames, 'once it is done, the rest is copied without another write')
})

t.test('a WAL that keeps growing under readers and writers is emptied once it passes its limit', async (t) => {
  const dir = testFolder(t)
  const db = createDatabase({ dataDir: dir, databaseUrl: '', walRestartPages: 200 })
  t.teardown(async () => { await db.destroy() })
  await db.schema.createTable('notes', (table) => { table.increments('id'); table.text('body') })
  const wal = join(dir, 'tessera.sqlite-wal')

  const load = { reading: true }
  const readers = [1, 2, 3].map(async () => { while (load.reading) await db('notes').max('id as id') })
  const sizes: number[] = []
  // Each row is two pages or more; 1,500 of them are fifteen times the limit.
  for (let i = 0; i < 1500; i++) {
    await db('notes').insert({ body: 'x'.repeat(6000) })
    if (i % 10 === 0) sizes.push(statSync(wal).size)
    if (i % 100 === 0) await sleep(50)
  }
  load.reading = false
  await Promise.all(readers)
  const shrank = sizes.some((size, i) => i > 0 && size < sizes[i - 1]!)
  t.ok(shrank, 'the WAL file was emptied on the way (its size fell)')
  t.ok(Math.max(...sizes) < 1500 * 6000, `and never held everything written (largest ${Math.max(...sizes)} bytes)`)
})
