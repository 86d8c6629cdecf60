import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { findTicketById, listEntries, listEvents, type TicketRow, type TicketStatus } from '../../src/data/tickets.js'
import { listOutbox } from '../../src/data/outbox.js'
import { statuses } from '../../src/domain/lifecycle.js'
import { allowedFrom, type ClientAction, type StaffAction } from '../../src/domain/permissions.js'
import { TesseraError } from '../../src/domain/errors.js'
import { testApp, testClock } from '../helpers/app.js'
import { asAgent, asRequester, system, ticketRow } from '../helpers/actors.js'

const day = 86400_000

async function seedAgent (app: FastifyInstance, name = 'Ada Lovelace'): Promise<number> {
  const [row] = await app.db('agents').insert({ name, email: `${name.split(' ')[0]!.toLowerCase()}@desk.test`, password_hash: 'set at sign-up', is_admin: true, active: true, created_at: 0 }).returning('id')
  return typeof row === 'object' ? row.id : row
}

async function openTicket (app: FastifyInstance, subject = 'Printer jams'): Promise<number> {
  const opened = await app.lifecycle.openTicket({ name: 'Grace Hopper', email: 'grace@example.com', subject, message: 'It jams.', helpTopicId: 1 })
  return opened.ticket.id
}

type Verb = Exclude<StaffAction, 'read' | 'delete'> | ClientAction

/** Where the status verbs lead: asked from there already, they are calm no-ops. */
const leadsTo: Partial<Record<Verb, TicketStatus>> = { setPending: 'pending', resolve: 'resolved', close: 'closed', reopen: 'open', confirmSolved: 'closed', clientReopen: 'open' }

/** What each verb does to a ticket, and the status it leaves behind when allowed. */
async function verbs (app: FastifyInstance, agentId: number, otherTicketId: number): Promise<Record<Verb, { run: (ticket: TicketRow) => Promise<unknown>, leaves: (from: TicketStatus) => TicketStatus }>> {
  const lc = app.lifecycle
  const agent = await asAgent(app, agentId)
  const [billingRow] = await app.db('departments').insert({ name: 'Billing', created_at: 0 }).returning('id')
  const billing = typeof billingRow === 'object' ? billingRow.id : billingRow
  const same = (from: TicketStatus): TicketStatus => from
  return {
    reply: { run: async (ticket) => await lc.addResponse(ticket, agent, { body: 'Try this.' }), leaves: same },
    clientReply: { run: async (ticket) => await lc.addClientReply(ticket, asRequester(ticket), { body: 'Still broken.' }), leaves: () => 'open' },
    note: { run: async (ticket) => await lc.addNote(ticket, agent, { body: 'Internal.' }), leaves: same },
    assign: { run: async (ticket) => await lc.assignTicket(ticket, agent, { agentId, teamId: null }), leaves: same },
    claim: { run: async (ticket) => await lc.claimTicket(ticket, agent), leaves: same },
    release: { run: async (ticket) => await lc.releaseTicket(ticket, agent), leaves: same },
    transfer: { run: async (ticket) => await lc.transferTicket(ticket, agent, { departmentId: billing }), leaves: same },
    changePriority: { run: async (ticket) => await lc.changePriority(ticket, agent, { priority: 4 }), leaves: same },
    setPending: { run: async (ticket) => await lc.setPending(ticket, agent), leaves: () => 'pending' },
    resolve: { run: async (ticket) => await lc.resolveTicket(ticket, agent), leaves: () => 'resolved' },
    close: { run: async (ticket) => await lc.closeTicket(ticket, agent), leaves: () => 'closed' },
    reopen: { run: async (ticket) => await lc.reopenTicket(ticket, agent), leaves: () => 'open' },
    confirmSolved: { run: async (ticket) => await lc.confirmSolved(ticket, asRequester(ticket)), leaves: () => 'closed' },
    clientReopen: { run: async (ticket) => await lc.clientReopen(ticket, asRequester(ticket)), leaves: () => 'open' },
    merge: { run: async (ticket) => await lc.mergeTicket(ticket, agent, { target: await ticketRow(app, otherTicketId) }), leaves: () => 'closed' }
  }
}

t.test('every verb from every status: allowed ones change the ticket and record an event, no-ops are calm, the rest are refused', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { now: clock.now })
  const agentId = await seedAgent(app)
  const [teamRow] = await app.db('teams').insert({ name: 'Printers' }).returning('id')
  const team = typeof teamRow === 'object' ? teamRow.id : teamRow
  const target = await openTicket(app, 'Merge target')
  const table = await verbs(app, agentId, target)

  for (const verb of Object.keys(table) as Verb[]) {
    for (const status of statuses) {
      const id = await openTicket(app)
      // Worked by a team, so that assigning, claiming and releasing each change something.
      await app.db('tickets').where({ id }).update({ status, team_id: team, closed_at: status === 'closed' ? clock.now() : null })
      const before = await ticketRow(app, id)
      const eventsBefore = (await listEvents(app.db, id)).length
      const outcome = await table[verb].run(before).then(() => null, (err: unknown) => err)
      if (leadsTo[verb] === status) {
        t.equal(outcome, null, `${verb} from ${status} answers calmly`)
        t.same(await findTicketById(app.db, id), before, `${verb} from ${status} changes nothing`)
        t.equal((await listEvents(app.db, id)).length, eventsBefore, `${verb} from ${status} records nothing`)
      } else if (allowedFrom[verb].includes(status)) {
        t.equal(outcome, null, `${verb} from ${status} is allowed`)
        const after = (await findTicketById(app.db, id))!
        t.equal(after.status, table[verb].leaves(status), `${verb} from ${status} leaves the ticket ${table[verb].leaves(status)}`)
        t.ok((await listEvents(app.db, id)).length > eventsBefore, `${verb} from ${status} is recorded as an event`)
      } else {
        t.ok(outcome instanceof TesseraError && outcome.code === 'TESSERA_TRANSITION_REFUSED', `${verb} from ${status} is refused`)
        t.match((outcome as Error).message, new RegExp(`^An? ${status} ticket cannot be`), 'with a message that names the status')
        t.same(await findTicketById(app.db, id), before, `${verb} from ${status} changes nothing`)
        t.equal((await listEvents(app.db, id)).length, eventsBefore, `${verb} from ${status} records nothing`)
      }
    }
  }
})

t.test('verbs that would change nothing answer calmly and record nothing', async (t) => {
  const app = await testApp(t)
  const agentId = await seedAgent(app)
  const agent = await asAgent(app, agentId)
  const id = await openTicket(app)
  const ticket = await ticketRow(app, id)
  const events = async (): Promise<string[]> => (await listEvents(app.db, id)).map((e) => e.type)

  await app.lifecycle.changePriority(ticket, agent, { priority: ticket.priority })
  await app.lifecycle.transferTicket(ticket, agent, { departmentId: ticket.department_id })
  await app.lifecycle.releaseTicket(ticket, agent)
  await app.lifecycle.assignTicket(ticket, agent, { agentId: null, teamId: null })
  await app.lifecycle.reopenTicket(ticket, agent)
  t.same(await events(), ['created'], 'the same priority, department, (no) assignment and status again: no event')

  const claimed = await app.lifecycle.claimTicket(ticket, agent)
  await app.lifecycle.claimTicket(claimed, agent)
  const resolved = await app.lifecycle.resolveTicket(claimed, system)
  const closed = await app.lifecycle.confirmSolved(resolved, asRequester(resolved))
  await app.lifecycle.confirmSolved(closed, asRequester(closed))
  await app.lifecycle.closeTicket(closed, agent)
  // The confirmation closes the ticket, which asks the requester how we did (survey_sent).
  t.same(await events(), ['created', 'claimed', 'status_changed', 'status_changed', 'survey_sent'], 'claiming twice and confirming twice record each once')
  t.same((await listOutbox(app.db, { ticketId: id })).map((m) => m.template).filter((m) => m === 'ticket_closed'), [], 'closing a closed ticket sends nothing')
})

t.test('a verb acting on what it saw refuses when someone changed the ticket meanwhile', async (t) => {
  const app = await testApp(t)
  const ada = await asAgent(app, await seedAgent(app))
  const bob = await asAgent(app, await seedAgent(app, 'Bob Kahn'))
  const id = await openTicket(app)
  const seenByBoth = await ticketRow(app, id)
  await app.lifecycle.claimTicket(seenByBoth, ada)
  await t.rejects(app.lifecycle.claimTicket(seenByBoth, bob), { code: 'TESSERA_CONFLICT' }, 'the second claim from a stale page is refused, not silently winning')
  t.equal((await ticketRow(app, id)).assignee_id, ada.access.id)
  await app.lifecycle.resolveTicket(seenByBoth, ada)
  await t.rejects(app.lifecycle.setPending(seenByBoth, bob), { code: 'TESSERA_CONFLICT' })
  t.same((await listEvents(app.db, id)).map((e) => e.type), ['created', 'claimed', 'status_changed'])
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
  const agent = await asAgent(app, agentId)
  await app.lifecycle.closeTicket(ticket, agent)

  clock.advance(6 * day)
  const within = await app.lifecycle.addClientReply(await ticketRow(app, id), asRequester(ticket), { body: 'It is back.' })
  t.equal(within.followUp, null)
  t.equal((await findTicketById(app.db, id))!.status, 'open', 'reopened within the window')

  await app.lifecycle.closeTicket(await ticketRow(app, id), agent)
  clock.advance(8 * day)
  const later = await app.lifecycle.addClientReply(await ticketRow(app, id), asRequester(ticket), { body: 'Back again, weeks later.' })
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
  const agent = await asAgent(app, agentId)
  await app.lifecycle.mergeTicket(await ticketRow(app, duplicate), agent, { target: await ticketRow(app, target) })
  const merged = (await findTicketById(app.db, duplicate))!
  t.equal(merged.status, 'closed')
  t.equal(merged.merged_into_id, target)
  t.equal((await listEntries(app.db, target, { includeNotes: true })).length, 2, 'both first messages are on the target')
  const self = await app.lifecycle.mergeTicket(await ticketRow(app, target), agent, { target: await ticketRow(app, target) }).catch((err: unknown) => err)
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
