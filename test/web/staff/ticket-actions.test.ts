import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { findTicketByNumber, listEntries, listEvents } from '../../../src/data/tickets.js'
import { holdWallClock, testApp, testClock } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor, type Page } from '../../helpers/visitor.js'
import { system, ticketRow } from '../../helpers/actors.js'

const formFor = (page: Page, path: string): string => `form[action="/staff/tickets/${page.url.split('/')[3]!}/${path}"]`

t.test('each change to a ticket is its own resource, posted by a plain form; a change that changes nothing records nothing', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const events = async (): Promise<string[]> => (await listEvents(app.db, printerJam.id)).map((e) => e.type)

  let page = await bob.get(`/staff/tickets/${printerJam.number}`)
  t.equal(page.$('form[action$="/status"]').length, 0, 'no form dispatches by the shape of its body any more')
  page = await bob.submit(page, formFor(page, 'claim'))
  t.match(page.text, 'You have claimed this ticket.')
  t.equal((await findTicketByNumber(app.db, printerJam.number))!.assignee_id, desk.agents.bob.id)
  t.equal(page.$(formFor(page, 'claim')).length, 0, 'a claimed ticket offers no claim')
  page = await bob.submit(page, formFor(page, 'release'))
  t.match(page.text, 'Ticket released.')
  page = await bob.submit(page, formFor(page, 'assignment'), { agent: '', team: String(desk.teams.printers) })
  t.match(page.text, 'Assignment saved.')

  const priority = (await findTicketByNumber(app.db, printerJam.number))!.priority
  page = await bob.submit(page, formFor(page, 'priority'), { priority: String(priority) })
  t.same(await events(), ['created', 'claimed', 'released', 'assigned'], 'the same priority again is no event')
  page = await bob.submit(page, formFor(page, 'priority'), { priority: '4' })
  t.match(page.text, 'changed the priority from High to Urgent')

  for (const [path, status] of [['pending', 'pending'], ['resolution', 'resolved'], ['reopening', 'open'], ['closure', 'closed']] as const) {
    page = await bob.submit(page, formFor(page, path))
    t.equal((await findTicketByNumber(app.db, printerJam.number))!.status, status, `/${path} leaves the ticket ${status}`)
  }
  t.equal(page.$(formFor(page, 'closure')).length, 0, 'a closed ticket offers no closure')
  const stale = await bob.post(`/staff/tickets/${printerJam.number}/closure`, `_csrf=${encodeURIComponent(page.$('input[name=_csrf]').first().attr('value')!)}`,
    { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.equal(stale.status, 200, 'closing a closed ticket (a stale page, a double click) answers calmly')
  t.same(await events(), ['created', 'claimed', 'released', 'assigned', 'priority_changed', 'status_changed', 'status_changed', 'status_changed', 'status_changed', 'survey_sent'])

  page = await bob.get(`/staff/tickets/${printerJam.number}`)
  const unreadable = await bob.post(`/staff/tickets/${printerJam.number}/priority`, `_csrf=${encodeURIComponent(page.$('input[name=_csrf]').first().attr('value')!)}&priority=urgent`,
    { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  t.match(unreadable.text, 'That form could not be read, so nothing was changed.', 'the route schema refuses a body it cannot read')
})

t.test('a browser that ignores formaction still adds a note as a note and inserts a canned response (issue 8, finding 16)', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  let page = await bob.get(`/staff/tickets/${printerJam.number}`)
  const composer = page.$('form.composer')
  t.equal(composer.attr('action'), `/staff/tickets/${printerJam.number}/replies`)
  const button = (label: string): { name: string, value: string } => {
    const el = composer.find(`button:contains("${label}")`)
    return { name: el.attr('name')!, value: el.attr('value')! }
  }

  // What lynx sends for "Add internal note": the form's own action, with the button's name and value.
  const note = button('Add internal note')
  page = await bob.submit(page, 'form.composer', { message: 'Fuser was replaced last month.', [note.name]: note.value })
  t.match(page.text, 'Internal note added.')
  const entries = await listEntries(app.db, printerJam.id, { includeNotes: true })
  t.same(entries.map((e) => e.kind), ['message', 'note'], 'the text became an internal note')
  t.same((await listOutbox(app.db, { ticketId: printerJam.id, toAddress: 'grace@example.com' })).map((m) => m.template), ['ticket_received'], 'and nothing was mailed to the requester')

  const insert = button('Insert')
  const cannedTitle = page.$('#composer-canned option').first().text()
  const canned = await app.db('canned_responses').where({ title: cannedTitle }).first('body') as { body: string }
  page = await bob.submit(page, 'form.composer', { message: 'Hello,', [insert.name]: insert.value })
  t.equal(page.status, 200)
  t.equal(page.$('#composer-message').text(), `Hello,\n\n${canned.body}`, 'the canned response is added to the draft')
  t.equal((await listEntries(app.db, printerJam.id, { includeNotes: true })).length, 2, 'and nothing was posted')

  const reply = button('Send reply')
  page = await bob.submit(page, 'form.composer', { message: 'Please try the rear tray.', [reply.name]: reply.value })
  t.match(page.text, 'Reply sent to the requester.')

  // On a closed ticket the composer takes notes only; Insert must not become a note there either.
  await app.lifecycle.closeTicket(await ticketRow(app, printerJam.id), system)
  page = await bob.get(`/staff/tickets/${printerJam.number}`)
  t.equal(page.$('form.composer').attr('action'), `/staff/tickets/${printerJam.number}/notes`)
  page = await bob.submit(page, 'form.composer', { message: 'Draft', intent: 'canned' })
  t.equal((await listEntries(app.db, printerJam.id, { includeNotes: true })).length, 3, 'Insert on a notes-only composer posts nothing')
})

t.test('a staff ticket page costs at most 6 SQL statements and an agent reply at most 12', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  await openTicket(app, desk.topics.broken, 'Another one from Grace')
  const statements: string[] = []
  app.db.on('query', (query: { sql: string }) => statements.push(query.sql))
  const count = async <T>(run: () => Promise<T>): Promise<{ result: T, sql: string[] }> => {
    statements.length = 0
    const result = await run()
    return { result, sql: [...statements] }
  }

  // The first view fills the few-seconds cache of menus (agents, teams, departments, …).
  holdWallClock(t)
  await bob.get(`/staff/tickets/${printerJam.number}`)
  const view = await count(async () => await bob.get(`/staff/tickets/${printerJam.number}`))
  t.equal(view.result.status, 200)
  t.match(view.result.text, 'Another one from Grace', 'the page shows the requester\'s other tickets')
  t.ok(view.sql.length <= 6, `a page view costs ${view.sql.length} statements:\n${view.sql.join('\n')}`)
  // SQLite reads the ticket and its lists in one statement: each is a trip to its thread pool.
  if (app.db.client.config.client === 'sqlite3') {
    t.equal(view.sql.length, 1, 'one statement on SQLite')
    t.ok(view.sql[0]!.length <= 20_000, 'short enough for its connection to keep it prepared (see reuseStatements)')
  }
  t.notOk(view.sql.some((sql) => /ticket_viewers/.test(sql) && /^insert/i.test(sql)), 'seen again within seconds: no write for "also viewing"')

  const reply = await count(async () => await bob.submit(view.result, 'form.composer', { message: 'Please try the rear tray.' }, { follow: false }))
  t.equal(reply.result.status, 303)
  t.ok(reply.sql.length <= 12, `a reply costs ${reply.sql.length} statements:\n${reply.sql.join('\n')}`)
})

t.test('a ticket page lists the requester\'s five most recent other tickets the agent may see, never one in the trash', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { now: clock.now })
  const desk = await seedDesk(app)
  const shown = await openTicket(app, desk.topics.broken, 'The one on screen')
  const support: string[] = []
  for (let i = 1; i <= 7; i++) {
    clock.advance(60_000)
    support.push((await openTicket(app, desk.topics.broken, `Support question ${i}`)).number)
  }
  clock.advance(60_000)
  const billing = await openTicket(app, desk.topics.billing, 'An invoice question')
  await app.lifecycle.deleteTicket(await ticketRow(app, (await findTicketByNumber(app.db, support[6]!))!.id), system)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const listed = async (): Promise<string[]> => {
    const page = await bob.get(`/staff/tickets/${shown.number}`)
    return page.$('h3:contains("Other tickets from") + ul li a').map((_, a) => page.$(a).text()).get()
  }
  t.same(await listed(), [6, 5, 4, 3, 2].map((i) => `#${support[i - 1]!} Support question ${i}`),
    'Bob (Support) sees the newest five of Support, without the one in the trash, the billing one he may not open, or this one')
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const adasPage = await ada.get(`/staff/tickets/${shown.number}`)
  t.match(adasPage.$('h3:contains("Other tickets from") + ul').text(), `#${billing.number} An invoice question`, 'an admin sees the billing one first')
})

t.test('"also viewing" is written when an agent opens a ticket, then refreshed at most every 15 seconds', async (t) => {
  const clock = testClock()
  const app = await testApp(t, {}, { now: clock.now })
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const seenAt = async (): Promise<number | undefined> => (await app.db('ticket_viewers').where({ ticket_id: printerJam.id, agent_id: desk.agents.bob.id }).first('seen_at'))?.seen_at as number | undefined
  await bob.get(`/staff/tickets/${printerJam.number}`)
  const first = await seenAt()
  t.equal(first, clock.now(), 'the first view marks Bob as viewing')
  clock.advance(10_000)
  await bob.get(`/staff/tickets/${printerJam.number}`)
  t.equal(await seenAt(), first, 'ten seconds later the mark stands as it was')
  const adasPage = await ada.get(`/staff/tickets/${printerJam.number}`)
  t.match(adasPage.$('#viewers').text(), /^Also viewing: Bob/, 'and Ada sees Bob viewing')
  clock.advance(10_000)
  await bob.get(`/staff/tickets/${printerJam.number}`)
  t.equal(await seenAt(), clock.now(), 'after 15 seconds a view refreshes it')
})

t.test('"this solved my problem" twice (a double click) closes the ticket once and answers calmly', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const printerJam = await openTicket(app, desk.topics.broken)
  await app.lifecycle.resolveTicket(await ticketRow(app, printerJam.id), system)
  const grace = new Visitor(app)
  const page = await grace.get(`/tickets/${printerJam.number}/access/${printerJam.token}`)
  const first = await grace.submit(page, `form[action="/tickets/${printerJam.number}/closure"]`)
  t.equal(first.status, 200)
  const second = await grace.submit(page, `form[action="/tickets/${printerJam.number}/closure"]`)
  t.equal(second.status, 200, 'the second click is not a 409')
  t.match(second.text, 'The ticket is now closed.')
  t.same((await listEvents(app.db, printerJam.id)).map((e) => e.type), ['created', 'status_changed', 'status_changed', 'survey_sent'], 'resolved, then closed once (and asked how we did, once)')
})

t.test('the assignment, transfer and priority menus, made once per choice, show each ticket its own values and an admin\'s change at once', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const first = await openTicket(app, desk.topics.broken, 'Printer jams')
  const second = await openTicket(app, desk.topics.broken, 'Scanner is slow')
  const billing = await openTicket(app, desk.topics.billing, 'Invoice is wrong')
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const chosen = (page: Page, form: string, name: string): string | undefined => page.$(`${formFor(page, form)} select[name=${name}] option[selected]`).attr('value')
  const labels = (page: Page, form: string, name: string): string[] => page.$(`${formFor(page, form)} select[name=${name}] option`).map((_, el) => page.$(el).text()).get()

  let page = await ada.get(`/staff/tickets/${first.number}`)
  page = await ada.submit(page, formFor(page, 'priority'), { priority: '4' })
  page = await ada.submit(page, formFor(page, 'assignment'), { agent: String(desk.agents.bob.id), team: String(desk.teams.printers) })
  page = await ada.get(`/staff/tickets/${first.number}`)
  t.equal(chosen(page, 'priority', 'priority'), '4', 'the first ticket shows its own priority')
  t.equal(chosen(page, 'assignment', 'agent'), String(desk.agents.bob.id))
  t.equal(chosen(page, 'assignment', 'team'), String(desk.teams.printers))
  const other = await ada.get(`/staff/tickets/${second.number}`)
  t.not(chosen(other, 'priority', 'priority'), '4', 'the second ticket of the same department shows its own')
  t.equal(chosen(other, 'assignment', 'agent'), undefined, 'and nobody assigned')
  t.equal(chosen(other, 'assignment', 'team'), undefined)
  t.ok(labels(other, 'assignment', 'agent').includes('Bob Kahn'), 'Support\'s agents are offered for a Support ticket')
  const invoice = await ada.get(`/staff/tickets/${billing.number}`)
  t.equal(chosen(invoice, 'department', 'department'), String(desk.departments.billing), 'a Billing ticket shows its department')
  t.notOk(labels(invoice, 'assignment', 'agent').includes('Bob Kahn'), 'and Billing\'s agents, not Support\'s')
  t.ok(labels(invoice, 'assignment', 'agent').includes('Mel Manager'))

  const team = await ada.get(`/staff/admin/teams/${desk.teams.printers}`)
  await ada.submit(team, `form[action="/staff/admin/teams/${desk.teams.printers}"]`, { name: 'Printing' })
  page = await ada.get(`/staff/tickets/${first.number}`)
  t.ok(labels(page, 'assignment', 'team').includes('Printing'), 'a renamed team shows in the menu at once')
  t.notOk(labels(page, 'assignment', 'team').includes('Printers'))
})
