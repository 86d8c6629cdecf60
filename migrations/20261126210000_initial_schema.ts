import type { Knex } from 'knex'

// Times are stored as epoch milliseconds in BIGINT columns: one representation that
// compares, sorts and round-trips identically on SQLite, PostgreSQL and MySQL.

export async function up (knex: Knex): Promise<void> {
  await knex.schema.createTable('departments', (t) => {
    t.increments('id')
    t.string('name', 120).notNullable().unique()
    t.bigInteger('created_at').notNullable()
  })

  await knex.schema.createTable('help_topics', (t) => {
    t.increments('id')
    t.string('name', 120).notNullable().unique()
    t.integer('department_id').unsigned().notNullable().references('departments.id')
    t.smallint('priority').notNullable().defaultTo(2)
    t.boolean('active').notNullable().defaultTo(true)
    t.integer('sort_order').notNullable().defaultTo(0)
  })

  await knex.schema.createTable('agents', (t) => {
    t.increments('id')
    t.string('name', 120).notNullable()
    t.string('email', 254).notNullable().unique()
    t.string('password_hash', 255)
    t.boolean('is_admin').notNullable().defaultTo(false)
    t.boolean('active').notNullable().defaultTo(true)
    t.bigInteger('created_at').notNullable()
  })

  await knex.schema.createTable('teams', (t) => {
    t.increments('id')
    t.string('name', 120).notNullable().unique()
  })

  await knex.schema.createTable('team_members', (t) => {
    t.integer('team_id').unsigned().notNullable().references('teams.id').onDelete('CASCADE')
    t.integer('agent_id').unsigned().notNullable().references('agents.id').onDelete('CASCADE')
    t.primary(['team_id', 'agent_id'])
    t.index(['agent_id'])
  })

  await knex.schema.createTable('agent_departments', (t) => {
    t.integer('agent_id').unsigned().notNullable().references('agents.id').onDelete('CASCADE')
    t.integer('department_id').unsigned().notNullable().references('departments.id').onDelete('CASCADE')
    t.string('role', 16).notNullable().defaultTo('agent')
    t.primary(['agent_id', 'department_id'])
    t.index(['department_id'])
  })

  await knex.schema.createTable('requesters', (t) => {
    t.increments('id')
    t.string('name', 120).notNullable()
    t.string('email', 254).notNullable().unique()
    t.bigInteger('created_at').notNullable()
  })

  await knex.schema.createTable('tickets', (t) => {
    t.increments('id')
    t.string('number', 12).notNullable().unique()
    t.string('subject', 200).notNullable()
    t.string('status', 16).notNullable()
    t.smallint('priority').notNullable().defaultTo(2)
    t.integer('department_id').unsigned().notNullable().references('departments.id')
    t.integer('help_topic_id').unsigned().references('help_topics.id')
    t.integer('requester_id').unsigned().notNullable().references('requesters.id')
    t.integer('assignee_id').unsigned().references('agents.id')
    t.integer('team_id').unsigned().references('teams.id')
    t.integer('merged_into_id').unsigned().references('tickets.id')
    t.integer('follows_ticket_id').unsigned().references('tickets.id')
    t.boolean('answered').notNullable().defaultTo(false)
    t.bigInteger('created_at').notNullable()
    t.bigInteger('first_response_at')
    t.bigInteger('resolved_at')
    t.bigInteger('closed_at')
    t.bigInteger('last_activity_at').notNullable()
    t.bigInteger('due_at')
    // Queue queries filter by one of these columns and sort by last activity; the id
    // breaks ties so keyset pagination is stable.
    t.index(['status', 'last_activity_at', 'id'], 'tickets_status_activity')
    t.index(['assignee_id', 'status', 'last_activity_at', 'id'], 'tickets_assignee_activity')
    t.index(['team_id', 'status', 'last_activity_at', 'id'], 'tickets_team_activity')
    t.index(['department_id', 'status', 'last_activity_at', 'id'], 'tickets_department_activity')
    t.index(['requester_id', 'created_at'], 'tickets_requester')
    t.index(['status', 'created_at', 'id'], 'tickets_status_created')
  })

  await knex.schema.createTable('ticket_access_tokens', (t) => {
    t.increments('id')
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE')
    t.string('token_hash', 64).notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['ticket_id'])
  })

  await knex.schema.createTable('thread_entries', (t) => {
    t.increments('id')
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE')
    t.string('kind', 16).notNullable()
    t.integer('agent_id').unsigned().references('agents.id')
    t.integer('requester_id').unsigned().references('requesters.id')
    // MEDIUMTEXT on MySQL (TEXT stops at 64 KB there); plain text elsewhere.
    t.text('body', 'mediumtext').notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['ticket_id', 'id'])
  })

  await knex.schema.createTable('events', (t) => {
    t.increments('id')
    t.integer('ticket_id').unsigned().notNullable().references('tickets.id').onDelete('CASCADE')
    t.string('type', 32).notNullable()
    t.string('actor_kind', 16).notNullable()
    t.integer('agent_id').unsigned().references('agents.id')
    t.integer('requester_id').unsigned().references('requesters.id')
    t.text('before_state')
    t.text('after_state')
    t.bigInteger('created_at').notNullable()
    t.index(['ticket_id', 'id'])
  })

  await knex.schema.createTable('outbox', (t) => {
    t.increments('id')
    t.string('template', 48).notNullable()
    t.string('to_address', 254).notNullable()
    t.integer('ticket_id').unsigned().references('tickets.id').onDelete('SET NULL')
    t.text('payload', 'mediumtext').notNullable()
    t.string('status', 16).notNullable().defaultTo('queued')
    t.integer('attempts').notNullable().defaultTo(0)
    t.bigInteger('next_attempt_at').notNullable()
    t.bigInteger('lease_until')
    t.text('last_error')
    t.bigInteger('created_at').notNullable()
    t.bigInteger('sent_at')
    t.index(['status', 'next_attempt_at'])
  })

  await knex.schema.createTable('sessions', (t) => {
    t.string('sid', 128).primary()
    t.text('data').notNullable()
    t.bigInteger('expires_at').notNullable()
    t.index(['expires_at'])
  })

  await knex.schema.createTable('settings', (t) => {
    t.string('key', 64).primary()
    t.text('value').notNullable()
  })
}

export async function down (knex: Knex): Promise<void> {
  for (const table of [
    'settings', 'sessions', 'outbox', 'events', 'thread_entries', 'ticket_access_tokens',
    'tickets', 'requesters', 'agent_departments', 'team_members', 'teams', 'agents',
    'help_topics', 'departments'
  ]) {
    await knex.schema.dropTableIfExists(table)
  }
}
