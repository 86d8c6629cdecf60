import type { Knex } from 'knex'
import { dialectOfDb, withoutLimits } from '../src/data/database.js'

/**
 * Fills a migrated Tessera database with a realistic desk:
 * - requesters, about one per 2.5 tickets, some of whom write often;
 * - tickets with random unique 6- and 7-digit numbers, opened over the past months, with a
 *   status mix that depends on age (recent ones open or pending, old ones mostly closed),
 *   priorities from their help topic (sometimes changed), response/resolve/close times,
 *   due dates and last activity to match;
 * - one opening message and one 'created' event per ticket;
 * - eight agents (no password) with department roles, one team of five, a second
 *   department ("Billing", no help topics, so the portal is unchanged) that part of the
 *   billing tickets were transferred to, and assignments to agents and the team.
 *
 * Rows go in as multi-row INSERT … VALUES statements (as many rows per statement as the
 * bound-variable limit allows) inside one transaction per chunk of tickets, with explicit
 * ids continuing after whatever the database already holds, so it can be called again on
 * the same database. The data is drawn from a seeded generator: the same count, seed and
 * `now` give the same desk.
 */

export interface SeedOptions {
  /** PRNG seed; the same seed gives the same data. */
  seed?: number
  /** "Now" for the generated timeline (epoch ms). */
  now?: number
  /** How far back tickets were opened, in days. */
  spanDays?: number
  /** Tickets written per transaction. */
  chunkSize?: number
  /** Share of tickets with a 7-digit number (the app widens after repeated collisions). */
  sevenDigitShare?: number
}

export interface SeedResult {
  tickets: number
  requesters: number
  /** Agent ids, in the order the agents were defined (the first is an admin). */
  agentIds: number[]
  /** Agents who belong to the team. */
  teamMemberIds: number[]
  teamId: number
  /** Every department: the catalog's and the extra billing department. */
  departmentIds: number[]
  billingDepartmentId: number
  /** Inclusive id range of the tickets this call wrote (empty when count is 0). */
  firstTicketId: number
  lastTicketId: number
  byStatus: Record<string, number>
  ms: number
}

type Status = 'open' | 'pending' | 'resolved' | 'closed'

const day = 86_400_000
const hour = 3_600_000
const minute = 60_000

// SQLite (3.32+) allows 32766 bound variables per statement; stay a little under.
const maxVariables = 32_000
const maxRowsPerStatement = 1000

const firstNames = ['Alice', 'Bram', 'Chiara', 'Dmitri', 'Elif', 'Farah', 'Gustavo', 'Hana', 'Ines', 'Jonas',
  'Kwame', 'Lena', 'Mateo', 'Nadia', 'Oskar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tomasz', 'Uma', 'Viktor',
  'Wen', 'Ximena', 'Yusuf', 'Zofia', 'Amara', 'Björn', 'Camille', 'Diego', 'Emeka', 'Freya']
const lastNames = ['Andersen', 'Brennan', 'Castillo', 'Dubois', 'Eriksson', 'Fernandes', 'Gallagher', 'Horvat',
  'Ivanova', 'Jansen', 'Kowalski', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quinn', 'Rossi',
  'Schmidt', 'Tanaka', 'Ueda', 'Varga', 'Weber', 'Xu', 'Yilmaz', 'Zimmermann', "O'Neill", 'Müller']
const mailDomains = ['example.com', 'example.org', 'example.net', 'mail.example', 'corp.example']

const subjectsByTopic: Record<string, string[]> = {
  'General question': ['Question about opening hours', 'How do I export my data?', 'Can I change my username?',
    'Where can I find the user guide?', 'Do you offer a discount for schools?', 'Is there a mobile app?'],
  'Something is broken': ['Page shows an error after login', 'Upload fails with large files', 'Search returns nothing',
    'Password reset e-mail never arrives', 'Dashboard is very slow since this morning', 'Buttons do nothing in Safari',
    'Report download is empty'],
  'Account and billing': ['Charged twice this month', 'Please update my billing address', 'Invoice is missing VAT number',
    'Cancel my subscription', 'Upgrade to the team plan', 'Refund for the unused period'],
  Feedback: ['Love the new layout', 'Dark mode please', 'The reminder e-mails are too frequent',
    'Suggestion: keyboard shortcuts', 'Great support last week, thank you']
}
const genericSubjects = ['Need help', 'Problem with my account', 'Question', 'Follow-up on my earlier message']

const sentences = [
  'Hello, I hope you can help me with this.',
  'Since yesterday afternoon this no longer works the way it used to.',
  'I have tried clearing my browser cache and logging in again, without any change.',
  'The same thing happens on my laptop and on my phone.',
  'A colleague of mine sees exactly the same behaviour.',
  'It worked fine last week, so I suspect something changed on your side.',
  'I attached nothing because the form does not allow it, but I can send screenshots by e-mail.',
  'The error message says something like “request failed, please try again later”.',
  'This is blocking our team from finishing the monthly report.',
  'Could you please tell me what I should do next?',
  'My account was created about two years ago with this same address.',
  'I am using the latest version of Firefox on Windows 11.',
  'There is no hurry, but I would like to understand what is going on.',
  'Our invoice number is printed at the top right of the PDF.',
  'If you need more details, just reply to this message.',
  'I would also like to know whether this can be avoided in the future.',
  'Thanks in advance for your time.',
  'Kind regards.'
]

type Role = 'view' | 'agent' | 'manager'

// Departments: 'support' is every department the catalog has; 'billing' the extra one below.
const agentDefs: ReadonlyArray<{ name: string, email: string, isAdmin: boolean, team: boolean, roles: { support?: Role, billing?: Role } }> = [
  { name: 'Ada Lindgren', email: 'ada.lindgren@desk.example', isAdmin: true, team: true, roles: { support: 'manager', billing: 'manager' } },
  { name: 'Ben Okoro', email: 'ben.okoro@desk.example', isAdmin: false, team: true, roles: { support: 'manager' } },
  { name: 'Carla Mendes', email: 'carla.mendes@desk.example', isAdmin: false, team: true, roles: { support: 'agent' } },
  { name: 'Dev Sharma', email: 'dev.sharma@desk.example', isAdmin: false, team: true, roles: { support: 'agent' } },
  { name: 'Eva Novak', email: 'eva.novak@desk.example', isAdmin: false, team: true, roles: { support: 'agent', billing: 'view' } },
  { name: 'Finn Becker', email: 'finn.becker@desk.example', isAdmin: false, team: false, roles: { billing: 'manager' } },
  { name: 'Grace Liu', email: 'grace.liu@desk.example', isAdmin: false, team: false, roles: { billing: 'agent', support: 'view' } },
  { name: 'Hugo Marchand', email: 'hugo.marchand@desk.example', isAdmin: false, team: false, roles: { support: 'view' } }
]
/** A department without help topics (so the portal is unchanged) that billing tickets are transferred to. */
const billingDepartment = 'Billing'
const teamName = 'Frontline'

/** mulberry32: small, fast and good enough to shape test data. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Inserts rows (arrays in column order) with as few multi-row statements as the bound-
 * variable limit allows. Plain INSERT … VALUES rather than knex's insert(), which on
 * SQLite builds a UNION ALL chain capped at 500 rows.
 */
async function insertRows (trx: Knex.Transaction, table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  const perStatement = Math.max(1, Math.min(maxRowsPerStatement, Math.floor(maxVariables / columns.length)))
  const head = `insert into ?? (${columns.map(() => '??').join(', ')}) values `
  const tuple = `(${columns.map(() => '?').join(', ')})`
  for (let start = 0; start < rows.length; start += perStatement) {
    const batch = rows.slice(start, start + perStatement)
    const bindings: unknown[] = [table, ...columns]
    for (const row of batch) {
      if (row.length !== columns.length) throw new Error(`${table}: row has ${row.length} values for ${columns.length} columns`)
      for (const value of row) bindings.push(value)
    }
    await trx.raw(head + batch.map(() => tuple).join(', '), bindings as Knex.RawBinding[])
  }
}

async function nextId (db: Knex | Knex.Transaction, table: string): Promise<number> {
  const row = await db(table).max('id as max').first() as { max: number | string | null } | undefined
  return Number(row?.max ?? 0) + 1
}

/** PostgreSQL sequences do not see explicit ids; move them past the highest one. */
async function syncSequence (db: Knex | Knex.Transaction, table: string): Promise<void> {
  if (dialectOfDb(db) !== 'postgres') return
  await db.raw("select setval(pg_get_serial_sequence(?, 'id'), (select coalesce(max(id), 0) + 1 from ??), false)", [table, table])
}

export async function seedTickets (db: Knex, count: number, options: SeedOptions = {}): Promise<SeedResult> {
  if (!Number.isInteger(count) || count < 0) throw new Error(`seedTickets: count must be a whole number ≥ 0, got ${count}`)
  const started = performance.now()
  const random = prng(options.seed ?? 20261126)
  const now = options.now ?? Date.now()
  const span = (options.spanDays ?? 180) * day
  const chunkSize = options.chunkSize ?? 10_000

  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1))
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const chance = (p: number): boolean => random() < p

  const topics = await db('help_topics').where({ active: true }).orderBy('id')
    .select('id', 'name', 'department_id', 'priority') as Array<{ id: number, name: string, department_id: number, priority: number }>
  if (topics.length === 0) throw new Error('seedTickets: no active help topics; run the migrations first')

  // Staff: agents (no password, so nobody can sign in as them until a benchmark sets one),
  // one team, department roles, and a second department tickets get transferred to.
  const { agentIds, teamMemberIds, teamId, billingId } = await db.transaction(async (trx) => {
    const at = now - span - 30 * day
    let billing = await trx('departments').where({ name: billingDepartment }).first('id') as { id: number } | undefined
    if (!billing) {
      await trx('departments').insert({ name: billingDepartment, created_at: at })
      billing = await trx('departments').where({ name: billingDepartment }).first('id') as { id: number }
    }
    const billingId = billing.id
    const supportIds = ((await trx('departments').orderBy('id').pluck('id')) as number[]).filter((id) => id !== billingId)

    const existing = new Map<string, number>()
    for (const row of await trx('agents').whereIn('email', agentDefs.map((a) => a.email)).select('id', 'email') as Array<{ id: number, email: string }>) {
      existing.set(row.email, row.id)
    }
    let id = await nextId(trx, 'agents')
    const newAgents: unknown[][] = []
    for (const def of agentDefs) {
      if (existing.has(def.email)) continue
      existing.set(def.email, id)
      newAgents.push([id++, def.name, def.email, null, def.isAdmin, true, at])
    }
    await insertRows(trx, 'agents', ['id', 'name', 'email', 'password_hash', 'is_admin', 'active', 'created_at'], newAgents)
    await syncSequence(trx, 'agents')
    const agentIds = agentDefs.map((def) => existing.get(def.email)!)

    let team = await trx('teams').where({ name: teamName }).first('id') as { id: number } | undefined
    if (!team) {
      await trx('teams').insert({ name: teamName })
      team = await trx('teams').where({ name: teamName }).first('id') as { id: number }
    }
    const teamMemberIds = agentDefs.flatMap((def, i) => def.team ? [agentIds[i]!] : [])
    await trx('team_members').insert(teamMemberIds.map((agentId) => ({ team_id: team.id, agent_id: agentId }))).onConflict(['team_id', 'agent_id']).ignore()
    const memberships = agentDefs.flatMap((def, i) => [
      ...(def.roles.support ? supportIds.map((departmentId) => ({ agent_id: agentIds[i]!, department_id: departmentId, role: def.roles.support })) : []),
      ...(def.roles.billing ? [{ agent_id: agentIds[i]!, department_id: billingId, role: def.roles.billing }] : [])
    ])
    await trx('agent_departments').insert(memberships).onConflict(['agent_id', 'department_id']).ignore()
    return { agentIds, teamMemberIds, teamId: team.id, billingId }
  })
  const departmentIds = (await db('departments').orderBy('id').pluck('id')) as number[]
  // Who may be assigned: agents and managers of the department (and the admin).
  const assignable = (department: 'support' | 'billing'): number[] => agentDefs.flatMap((def, i) => {
    const role = def.roles[department]
    return def.isAdmin || role === 'agent' || role === 'manager' ? [agentIds[i]!] : []
  })
  const supportAssignees = assignable('support')
  const billingAssignees = assignable('billing')

  const byStatus: Record<Status, number> = { open: 0, pending: 0, resolved: 0, closed: 0 }
  if (count === 0) {
    return { tickets: 0, requesters: 0, agentIds, teamMemberIds, teamId, departmentIds, billingDepartmentId: billingId, firstTicketId: 0, lastTicketId: -1, byStatus, ms: performance.now() - started }
  }

  // Requesters: about one per 2.5 tickets; a skewed pick below makes some of them regulars.
  const requesterCount = Math.max(1, Math.round(count / 2.5))
  const firstRequesterId = await nextId(db, 'requesters')
  const requesterNames: string[] = []
  await db.transaction(async (trx) => {
    const rows: unknown[][] = []
    for (let i = 0; i < requesterCount; i++) {
      const first = pick(firstNames)
      const last = pick(lastNames)
      const id = firstRequesterId + i
      const name = `${first} ${last}`
      requesterNames.push(name)
      // The id keeps addresses unique across repeated seeding of the same database.
      const email = `${first}.${last}.${id}@${pick(mailDomains)}`.normalize('NFD').toLowerCase().replace(/[^a-z0-9.@-]/g, '')
      rows.push([id, name, email, now - span - int(0, 365) * day])
      if (rows.length >= chunkSize) { await insertRows(trx, 'requesters', ['id', 'name', 'email', 'created_at'], rows); rows.length = 0 }
    }
    await insertRows(trx, 'requesters', ['id', 'name', 'email', 'created_at'], rows)
    await syncSequence(trx, 'requesters')
  })

  // Ticket numbers: the app's scheme (six random digits, one more after every third
  // collision), checked against numbers already in the database, plus a share of 7-digit
  // numbers so both lengths exist even in a small desk.
  const usedNumbers = new Set<string>((await db('tickets').pluck('number')) as string[])
  const sevenDigitShare = options.sevenDigitShare ?? 0.02
  const ticketNumber = (): string => {
    const extra = chance(sevenDigitShare) ? 3 : 0
    for (let attempt = extra; ; attempt++) {
      const digits = 6 + Math.floor(attempt / 3)
      const number = String(int(10 ** (digits - 1), 10 ** digits - 1))
      if (!usedNumbers.has(number)) { usedNumbers.add(number); return number }
    }
  }

  const slaHours: Record<number, number> = { 1: 7 * 24, 2: 3 * 24, 3: 24, 4: 4 }
  const ticketColumns = ['id', 'number', 'subject', 'status', 'priority', 'department_id', 'help_topic_id', 'requester_id',
    'assignee_id', 'team_id', 'answered', 'created_at', 'first_response_at', 'resolved_at', 'closed_at', 'last_activity_at', 'due_at'] as const
  const entryColumns = ['ticket_id', 'kind', 'agent_id', 'requester_id', 'body', 'created_at'] as const
  const eventColumns = ['ticket_id', 'type', 'actor_kind', 'agent_id', 'requester_id', 'before_state', 'after_state', 'created_at'] as const

  const firstTicketId = await nextId(db, 'tickets')
  // Seven indexes on tickets, most keyed on random values: a larger page cache for the
  // duration of the load roughly halves it. The pool has one connection, so the old
  // value is put back afterwards.
  const restoreCache = await growPageCache(db, 128 * 1024)
  try {
    await insertTicketChunks()
  } finally {
    await restoreCache()
  }
  // A desk that grew to this size over months has planner statistics and, on PostgreSQL, a
  // visibility map (autovacuum's work) that lets counts read indexes alone; a bulk load has neither.
  const dialect = dialectOfDb(db)
  // A vacuum of a million-ticket desk outlasts a request's statement limit.
  if (dialect === 'postgres') await withoutLimits(db, async (own) => { await own.raw('VACUUM ANALYZE tickets, thread_entries, events, requesters') })
  else await db.raw(dialect === 'mysql' ? 'ANALYZE TABLE tickets' : 'ANALYZE')

  return {
    tickets: count,
    requesters: requesterCount,
    agentIds,
    teamMemberIds,
    teamId,
    departmentIds,
    billingDepartmentId: billingId,
    firstTicketId,
    lastTicketId: firstTicketId + count - 1,
    byStatus,
    ms: performance.now() - started
  }

  async function insertTicketChunks (): Promise<void> {
    for (let chunkStart = 0; chunkStart < count; chunkStart += chunkSize) {
      const chunkEnd = Math.min(count, chunkStart + chunkSize)
      const tickets: unknown[][] = []
      const entries: unknown[][] = []
      const events: unknown[][] = []
      for (let i = chunkStart; i < chunkEnd; i++) {
        const id = firstTicketId + i
        const topic = pick(topics)
        // Skewed towards low indices: a minority of requesters open many tickets.
        const requesterIndex = Math.floor(requesterCount * random() ** 2)
        const requesterId = firstRequesterId + requesterIndex
        // Slightly more tickets recently (a growing desk).
        const createdAt = now - Math.floor(span * random() ** 1.3) - int(0, 10 * minute)
        const age = now - createdAt

        const roll = random()
        let status: Status
        if (age < 7 * day) status = roll < 0.55 ? 'open' : roll < 0.78 ? 'pending' : roll < 0.93 ? 'resolved' : 'closed'
        else if (age < 30 * day) status = roll < 0.15 ? 'open' : roll < 0.27 ? 'pending' : roll < 0.45 ? 'resolved' : 'closed'
        else status = roll < 0.03 ? 'open' : roll < 0.05 ? 'pending' : roll < 0.09 ? 'resolved' : 'closed'
        byStatus[status]++

        let priority = topic.priority
        if (chance(0.15)) priority = Math.min(4, Math.max(1, priority + (chance(0.5) ? 1 : -1)))

        const clamp = (t: number): number => Math.min(now, t)
        const answeredOnce = status !== 'open' || chance(0.45)
        const firstResponseAt = answeredOnce ? clamp(createdAt + int(5 * minute, 2 * day)) : null
        let resolvedAt: number | null = null
        let closedAt: number | null = null
        if (status === 'resolved' || status === 'closed') {
          resolvedAt = clamp((firstResponseAt ?? createdAt) + int(10 * minute, 10 * day))
          if (status === 'closed') closedAt = clamp(resolvedAt + int(0, 7 * day))
          // Some tickets are closed without ever being marked resolved.
          if (status === 'closed' && chance(0.2)) resolvedAt = null
        }
        let lastActivityAt = closedAt ?? resolvedAt ?? firstResponseAt ?? createdAt
        // Open and pending tickets keep moving after the first answer.
        if ((status === 'open' || status === 'pending') && chance(0.6)) lastActivityAt = clamp(lastActivityAt + int(0, Math.max(0, now - lastActivityAt)))
        // Open tickets with an answer were answered last unless the client wrote again.
        const answered = status === 'pending' || status === 'resolved' || status === 'closed' || (answeredOnce && chance(0.4))

        // Billing questions are often transferred to the billing department.
        const departmentId = topic.name === 'Account and billing' && chance(0.6) ? billingId : topic.department_id
        const assignees = departmentId === billingId ? billingAssignees : supportAssignees

        // Unassigned tickets are mostly fresh, open ones; most others have an owner who
        // works in the ticket's department (the team works in support).
        let assigneeId: number | null = null
        let ticketTeamId: number | null = null
        const who = random()
        if (status === 'open' && !answeredOnce) {
          if (who < 0.25) ticketTeamId = teamId
          else if (who < 0.45) assigneeId = pick(assignees)
        } else if (who < 0.7) {
          assigneeId = pick(assignees)
          if (teamMemberIds.includes(assigneeId) && chance(0.5)) ticketTeamId = teamId
        } else if (who < 0.85 && departmentId !== billingId) {
          ticketTeamId = teamId
        }

        const subjects = subjectsByTopic[topic.name] ?? genericSubjects
        let subject = pick(subjects)
        if (chance(0.3)) subject += ` (${pick(['urgent', 'again', 'order ' + int(10000, 99999), 'follow-up', 'account ' + int(100, 999)])})`
        // A few distinct sentences, kept in their natural order.
        const body = sentences.filter(() => chance(0.25))
        if (body.length === 0) body.push(pick(sentences))
        body.push(requesterNames[requesterIndex]!)

        tickets.push([id, ticketNumber(), subject, status, priority, departmentId, topic.id, requesterId,
          assigneeId, ticketTeamId, answered, createdAt, firstResponseAt, resolvedAt, closedAt, lastActivityAt,
          createdAt + slaHours[priority]! * hour])
        entries.push([id, 'message', null, requesterId, body.join(chance(0.3) ? '\n\n' : ' '), createdAt])
        events.push([id, 'created', 'requester', null, requesterId, null,
          JSON.stringify({ status: 'open', department_id: topic.department_id, follows: null }), createdAt])
      }
      await db.transaction(async (trx) => {
        await insertRows(trx, 'tickets', ticketColumns, tickets)
        await insertRows(trx, 'thread_entries', entryColumns, entries)
        await insertRows(trx, 'events', eventColumns, events)
        await syncSequence(trx, 'tickets')
      })
    }
  }
}

/** Sets SQLite's page cache to `kib` KiB; returns a function that restores the previous size. */
async function growPageCache (db: Knex, kib: number): Promise<() => Promise<void>> {
  if (!String(db.client.config.client).startsWith('sqlite')) return async () => {}
  const rows = await db.raw('pragma cache_size') as Array<{ cache_size: number }>
  const previous = rows[0]?.cache_size
  await db.raw(`pragma cache_size = ${-Math.abs(Math.trunc(kib))}`)
  return async () => {
    if (previous !== undefined) await db.raw(`pragma cache_size = ${Math.trunc(previous)}`)
  }
}
