import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { findTicketById, listEntries, listEvents, type TicketStatus } from '../../src/data/tickets.js'
import { listOutbox } from '../../src/data/outbox.js'
import { allowedFrom, statuses, type Verb } from '../../src/domain/lifecycle.js'
import { TesseraError } from '../../src/domain/errors.js'
import { testApp, testClock } from '../helpers/app.js'

const day = 86400_000

async function seedAgent (app: FastifyInstance, name = 'Ada Lovelace'): Promise<number> {
  const [row] = await app.db('agents').insert({ name, email: `${name.split(' ')[0]!.toLowerCase()}@desk.test`, is_admin: true, active: true, created_at: 0 }).returning('id')
  return typeof row === 'object' ? row.id : row
}

async function openTicket (app: FastifyInstance, subject = 'Printer jams'): Promise<number> {
  const opened = await app.lifecycle.openTicket({ name: 'Grace Hopper', email: 'grace@example.com', subject, message: 'It jams.', helpTopicId: 1 })
  return opened.ticket.id
}

/** What each verb does to a ticket, and the status it leaves behind when allowed. */
function verbs (app: FastifyInstance, agentId: number, otherTicketId: number): Record<Verb, { run: (id: number, requesterId: number) => Promise<unknown>, leaves: (from: TicketStatus) => TicketStatus }> {
  const lc = app.lifecycle
  const agent = { kind: 'agent' as const, agentId }
  const same = (from: TicketStatus): TicketStatus => from
  return {
    reply: { run: async (id) => await lc.addResponse(id, agentId, 'Try this.'), leaves: same },
    clientReply: { run: async (id, requesterId) => await lc.addClientReply(id, requesterId, 'Still broken.'), leaves: () => 'open' },
    note: { run: async (id) => await lc.addNote(id, agentId, 'Internal.'), leaves: same },
    assign: { run: async (id) => await lc.assignTicket(id, agent, { agentId, teamId: null }), leaves: same },
    claim: { run: async (id) => await lc.claimTicket(id, agentId), leaves: same },
    release: { run: async (id) => await lc.releaseTicket(id, agent), leaves: same },
    transfer: { run: async (id) => await lc.transferTicket(id, agent, 1), leaves: same },
    changePriority: { run: async (id) => await lc.changePriority(id, agent, 4), leaves: same },
    setPending: { run: async (id) => await lc.setPending(id, agent), leaves: () => 'pending' },
    resolve: { run: async (id) => await lc.resolveTicket(id, agent), leaves: () => 'resolved' },
    close: { run: async (id) => await lc.closeTicket(id, agent), leaves: () => 'closed' },
    reopen: { run: async (id) => await lc.reopenTicket(id, agent), leaves: () => 'open' },
    confirmSolved: { run: async (id, requesterId) => await lc.confirmSolved(id, requesterId), leaves: () => 'closed' },
    merge: { run: async (id) => await lc.mergeTicket(id, otherTicketId, agent), leaves: () => 'closed' }
  }
}

t.test('every verb from every status: allowed ones change the ticket and record an event, the rest are refused', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { now: clock.now })
  const agentId = await seedAgent(app)
  const target = await openTicket(app, 'Merge target')
  const table = verbs(app, agentId, target)

  for (const verb of Object.keys(allowedFrom) as Verb[]) {
    for (const status of statuses) {
      const id = await openTicket(app)
      await app.db('tickets').where({ id }).update({ status, closed_at: status === 'closed' ? clock.now() : null })
      const before = (await findTicketById(app.db, id))!
      const eventsBefore = (await listEvents(app.db, id)).length
      const allowed = allowedFrom[verb].includes(status)
      if (allowed) {
        await table[verb].run(id, before.requester_id)
        const after = (await findTicketById(app.db, id))!
        t.equal(after.status, table[verb].leaves(status), `${verb} from ${status} leaves the ticket ${table[verb].leaves(status)}`)
        t.ok((await listEvents(app.db, id)).length > eventsBefore, `${verb} from ${status} is recorded as an event`)
      } else {
        const error = await table[verb].run(id, before.requester_id).then(() => null, (err: unknown) => err)
        t.ok(error instanceof TesseraError && error.code === 'TESSERA_TRANSITION_REFUSED', `${verb} from ${status} is refused`)
        t.match((error as Error).message, new RegExp(`^An? ${status} ticket cannot be`), 'with a message that names the status')
        t.same(await findTicketById(app.db, id), before, `${verb} from ${status} changes nothing`)
        t.equal((await listEvents(app.db, id)).length, eventsBefore, `${verb} from ${status} records nothing`)
      }
    }
  }
})

t.test('opening a ticket writes the ticket, the first message, an event and the e-mail in one go', async (t) => {
  const app = await testApp(t)
  const opened = await app.lifecycle.openTicket({ name: 'Grace Hopper', email: 'grace@example.com', subject: 'Printer jams', message: 'It jams.', helpTopicId: 2 })
  t.match(opened.ticket.number, /^\d{6}$/)
  t.equal(opened.ticket.status, 'open')
  t.equal(opened.ticket.priority, 3, 'the help topic sets the priority')
  const entries = await listEntries(app.db, opened.ticket.id, { includeNotes: true })
  t.same(entries.map((e) => [e.kind, e.body, e.author_name]), [['message', 'It jams.', 'Grace Hopper']])
  t.same((await listEvents(app.db, opened.ticket.id)).map((e) => e.type), ['created'])
  const outbox = await listOutbox(app.db, { ticketId: opened.ticket.id })
  t.same(outbox.map((m) => [m.template, m.to_address]), [['ticket_received', 'grace@example.com']])
  t.notMatch(outbox[0]!.payload, opened.accessToken, 'the outbox holds no token: the mail gets its own link when it is sent')
  const stored = await app.db('ticket_access_tokens').where({ ticket_id: opened.ticket.id }).first()
  t.not(stored.token_hash, opened.accessToken, 'only a hash of the token is stored')
})

t.test('an unknown help topic is refused and leaves nothing behind', async (t) => {
  const app = await testApp(t)
  const error = await app.lifecycle.openTicket({ name: 'G', email: 'g@example.com', subject: 'S', message: 'M', helpTopicId: 999 }).catch((err: unknown) => err)
  t.equal((error as TesseraError).code, 'TESSERA_INVALID_INPUT')
  t.equal((await app.db('tickets').count({ n: '*' }))[0]!.n, 0)
  t.equal((await app.db('requesters').count({ n: '*' }))[0]!.n, 0, 'the transaction rolled back the requester too')
})

t.test('a client reply to a closed ticket reopens it within the window and starts a linked ticket after it', async (t) => {
  const clock = testClock()
  const app = await testApp(t, { REOPEN_WINDOW_DAYS: '7' }, { now: clock.now })
  const agentId = await seedAgent(app)
  const id = await openTicket(app)
  const ticket = (await findTicketById(app.db, id))!
  await app.lifecycle.closeTicket(id, { kind: 'agent', agentId })

  clock.advance(6 * day)
  const within = await app.lifecycle.addClientReply(id, ticket.requester_id, 'It is back.')
  t.equal(within.followUp, null)
  t.equal((await findTicketById(app.db, id))!.status, 'open', 'reopened within the window')

  await app.lifecycle.closeTicket(id, { kind: 'agent', agentId })
  clock.advance(8 * day)
  const later = await app.lifecycle.addClientReply(id, ticket.requester_id, 'Back again, weeks later.')
  t.ok(later.followUp, 'after the window a new ticket is opened')
  t.equal((await findTicketById(app.db, id))!.status, 'closed', 'the old ticket stays closed')
  const followUp = (await findTicketById(app.db, later.followUp!.ticket.id))!
  t.equal(followUp.follows_ticket_id, id, 'the new ticket points at the old one')
  t.equal(followUp.subject, ticket.subject)
  const entries = await listEntries(app.db, followUp.id, { includeNotes: false })
  t.same(entries.map((e) => e.body), ['Back again, weeks later.'])
})

t.test('merging moves the thread and closes the merged ticket with a pointer', async (t) => {
  const app = await testApp(t)
  const agentId = await seedAgent(app)
  const target = await openTicket(app, 'Printer jams')
  const duplicate = await openTicket(app, 'Printer still jams')
  await app.lifecycle.mergeTicket(duplicate, target, { kind: 'agent', agentId })
  const merged = (await findTicketById(app.db, duplicate))!
  t.equal(merged.status, 'closed')
  t.equal(merged.merged_into_id, target)
  t.equal((await listEntries(app.db, target, { includeNotes: true })).length, 2, 'both first messages are on the target')
  const self = await app.lifecycle.mergeTicket(target, target, { kind: 'agent', agentId }).catch((err: unknown) => err)
  t.equal((self as TesseraError).code, 'TESSERA_INVALID_INPUT')
})

t.test('ticket numbers are unique and not sequential', async (t) => {
  const app = await testApp(t)
  const numbers: string[] = []
  for (let i = 0; i < 30; i++) {
    numbers.push((await app.lifecycle.openTicket({ name: 'G', email: 'g@example.com', subject: 'S', message: 'M', helpTopicId: 1 })).ticket.number)
  }
  t.equal(new Set(numbers).size, numbers.length)
  const steps = numbers.slice(1).map((n, i) => Number(n) - Number(numbers[i]))
  t.ok(steps.some((step) => step !== 1), 'numbers do not count up')
})
