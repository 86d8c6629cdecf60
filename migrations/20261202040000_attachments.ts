import type { Knex } from 'knex'

/*
 * Files attached to thread entries. The bytes live on disk, named by their SHA-256 (the
 * same file twice is stored once); a row here gives one entry one file under the name it
 * arrived with. entry_id is a plain column, not a foreign key: purging a ticket deletes
 * its entries first, and the purge deletes these rows in the same transaction.
 */
export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('attachments', (t) => {
    t.increments('id')
    t.integer('entry_id').unsigned().notNullable()
    t.string('sha256', 64).notNullable()
    t.bigInteger('size').notNullable()
    // Names come from browsers and mail clients: up to 1,000 characters of anything.
    t.string('filename', 1000).notNullable()
    t.string('content_type', 255).notNullable()
    // png, jpeg, gif or webp when the bytes are really that image; null otherwise.
    t.string('image_type', 8)
    // An inline part's Content-ID (without angle brackets), for cid: references in mail.
    t.string('content_id', 255)
    t.boolean('inline').notNullable().defaultTo(false)
    t.bigInteger('created_at').notNullable()
    // Each thread lists its entries' files; the purge asks whether a file is still used.
    t.index(['entry_id', 'id'], 'attachments_by_entry')
    t.index(['sha256'], 'attachments_by_sha256')
  })
}

export async function down (knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('attachments')
}
