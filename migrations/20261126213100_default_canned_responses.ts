import type { Knex } from 'knex'

export async function up (knex: Knex): Promise<void> {
  if (await knex('canned_responses').first('id')) return
  await knex('canned_responses').insert([
    { title: 'Thanks, looking into it', body: 'Thank you for getting in touch. We are looking into this and will get back to you shortly.' },
    { title: 'Need more details', body: 'Could you tell us a little more: what exactly happened, when it started, and what you expected to happen instead?' },
    { title: 'Solved, please confirm', body: 'We believe this is now solved. If it is, please confirm on your ticket page; if not, just reply and we will pick it up again.' }
  ])
}

export async function down (knex: Knex): Promise<void> {
  await knex('canned_responses').whereIn('title', ['Thanks, looking into it', 'Need more details', 'Solved, please confirm']).delete()
}
