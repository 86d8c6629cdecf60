import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { findTicketView } from '../../../src/data/tickets.js'
import { holdWallClock, testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn, type Desk } from '../../helpers/fixtures.js'
import type { Page, Visitor } from '../../helpers/visitor.js'

/*
 * The queue page and its bulk form, driven like a browser without JavaScript: tick rows,
 * choose an action, press "Apply to selected", follow the redirect, read the notice.
 */

type Fields = Record<string, string | string[]>

/** The bulk form on `page` as a browser would send it, with `tickets` ticked and `fields` chosen. */
function bulkBody (page: Page, tickets: string[], fields: Fields = {}): string {
  const form = page.$('form.bulk')
  const params = new URLSearchParams()
  params.set('_csrf', form.find('input[name=_csrf]').attr('value') ?? '')
  params.set('back', form.find('input[name=back]').attr('value') ?? '')
  form.find('select').each((_, el) => {
    const select = page.$(el)
    params.set(select.attr('name')!, select.find('option[selected]').attr('value') ?? select.find('option').first().attr('value') ?? '')
  })
  for (const number of tickets) params.append('tickets', number)
  for (const [name, value] of Object.entries(fields)) {
    params.delete(name)
    for (const v of [value].flat()) params.append(name, v)
  }
  return params.toString()
}

async function bulk (visitor: Visitor, page: Page, tickets: string[], fields: Fields = {}): Promise<Page> {
  return await visitor.post(page.$('form.bulk').attr('action')!, bulkBody(page, tickets, fields), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
}

/** The option of a bulk select whose label is `label`. */
function option (page: Page, select: string, label: string): string {
  const value = page.$(`form.bulk select[name=${select}] option`).filter((_, el) => page.$(el).text() === label).attr('value')
  if (value === undefined) throw new Error(`no option ${label} in ${select}`)
  return value
}

async function desk (t: Test): Promise<{ app: FastifyInstance, desk: Desk, visitor: Visitor, page: Page, numbers: string[] }> {
  const app = await testApp(t)
  const d = await seedDesk(app)
  const numbers = [
    (await openTicket(app, d.topics.broken, 'Printer jams')).number,
    (await openTicket(app, d.topics.broken, 'Scanner is slow')).number,
    (await openTicket(app, d.topics.broken, 'Toner is empty')).number
  ]
  const { visitor, page } = await signIn(app, d.agents.bob.email)
  return { app, desk: d, visitor, page, numbers }
}

t.test('every bulk action works from the plain form, for the ticked tickets only', async (t) => {
  const { app, desk: d, visitor, page, numbers } = await desk(t)
  const [a, b, untouched] = numbers as [string, string, string]
  const ticket = async (number: string) => (await findTicketView(app.db, number))!

  const cases: Array<{ action: string, fields: (page: Page) => Fields, check: (number: string) => Promise<void> }> = [
    { action: 'priority', fields: (p) => ({ priority: option(p, 'priority', 'Low') }), check: async (n) => { t.equal((await ticket(n)).priority, 1, `${n} is Low`) } },
    { action: 'claim', fields: () => ({}), check: async (n) => { t.equal((await ticket(n)).assignee_id, d.agents.bob.id, `${n} is Bob's`) } },
    { action: 'assign', fields: (p) => ({ agent: '', team: option(p, 'team', 'Printers') }), check: async (n) => { t.equal((await ticket(n)).team_id, d.teams.printers, `${n} is the Printers team's`) } },
    { action: 'status', fields: (p) => ({ status: p.$('form.bulk select[name=status] option[value=pending]').attr('value')! }), check: async (n) => { t.equal((await ticket(n)).status, 'pending', `${n} is pending`) } },
    { action: 'transfer', fields: (p) => ({ department: option(p, 'department', 'Billing') }), check: async (n) => { t.equal((await ticket(n)).department_id, d.departments.billing, `${n} is in Billing`) } }
  ]
  let current = page
  for (const c of cases) {
    t.ok(current.$(`form.bulk select[name=action] option[value=${c.action}]`).length, `the form offers ${c.action}`)
    const before = await ticket(untouched)
    const after = await bulk(visitor, current, [a, b], { action: c.action, ...c.fields(current) })
    t.equal(after.status, 200, `${c.action}: back on a page`)
    t.equal(after.url, '/staff/queues/open', `${c.action}: back on the queue the form came from`)
    t.match(after.$('[role=status]').text(), '2 of 2 tickets updated.', `${c.action}: the notice says both changed`)
    await c.check(a)
    await c.check(b)
    t.strictSame(await ticket(untouched), before, `${c.action}: the unticked ticket did not change`)
    current = after.$('form.bulk').length ? after : await visitor.get('/staff/queues/open')
  }
})

t.test('one ticked row is a list of one', async (t) => {
  const { app, visitor, page, numbers } = await desk(t)
  const after = await bulk(visitor, page, [numbers[2]!], { action: 'priority', priority: option(page, 'priority', 'Urgent') })
  t.match(after.$('[role=status]').text(), '1 of 1 tickets updated.', 'the notice counts one ticket')
  t.equal((await findTicketView(app.db, numbers[2]!))!.priority, 4, 'and that ticket is Urgent')
})

t.test('a bulk form that names no action or no ticket changes nothing and says why', async (t) => {
  const { app, visitor, page, numbers } = await desk(t)
  const events = async (): Promise<number> => Number((await app.db('events').count({ n: '*' }).first())!.n)
  const before = await events()
  const bad: Array<[string, string[], Fields]> = [
    ['no ticket ticked', [], { action: 'claim' }],
    ['an action that is none of the choices', [numbers[0]!], { action: 'archive' }],
    ['constructor as the action', [numbers[0]!], { action: 'constructor' }],
    ['__proto__ as the action', [numbers[0]!], { action: '__proto__' }],
    ['the action twice', [numbers[0]!], { action: ['claim', 'priority'] }],
    ['no action', [numbers[0]!], { action: [] }],
    ['a ticket number that is text', ['abc'], { action: 'claim' }],
    ['a ticket number of 5,000 digits', ['9'.repeat(5000)], { action: 'claim' }],
    ['201 tickets', Array.from({ length: 201 }, (_, i) => String(100000 + i)), { action: 'claim' }],
    ['a status that is none of the choices', [numbers[0]!], { action: 'status', status: 'deleted' }],
    ['a priority that is not a number', [numbers[0]!], { action: 'priority', priority: 'high' }],
    ['an agent id of 20 digits', [numbers[0]!], { action: 'assign', agent: '9'.repeat(20) }],
    ['"Set status" without a status', [numbers[0]!], { action: 'status', status: [] }],
    ['"Set priority" with an empty priority', [numbers[0]!], { action: 'priority', priority: '' }],
    ['"Transfer to" without a department', [numbers[0]!], { action: 'transfer', department: [] }]
  ]
  for (const [what, tickets, fields] of bad) {
    const answer = await visitor.post('/staff/bulk', bulkBody(page, tickets, fields), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: false })
    t.equal(answer.status, 303, `${what}: redirected, not an error page`)
    t.equal(answer.headers.location, '/staff/queues/open', `${what}: back to the queue`)
    const shown = await visitor.get('/staff/queues/open')
    t.match(shown.$('[role=status]').text(), 'Choose one or more tickets and an action.', `${what}: the notice says what to do`)
  }
  t.equal(await events(), before, 'nothing was recorded')
})

t.test('back= only ever leads to a queue of this desk', async (t) => {
  const { visitor, page, numbers } = await desk(t)
  const cases: Array<[string, string, string]> = [
    ['a queue with its filters', '/staff/queues/mine?priority=3&sort=created', '/staff/queues/mine?priority=3&sort=created'],
    ['a later page of a queue', '/staff/queues/open?after=1764147600000_12', '/staff/queues/open?after=1764147600000_12'],
    ['filters that are not ours, dropped', '/staff/queues/open?sort=constructor&x=%0D%0ASet-Cookie:a=b', '/staff/queues/open'],
    ['non-ASCII', '/staff/queues/open?q=Müller€😀', '/staff/queues/open'],
    ['non-ASCII in the path', '/staff/queues/öffen', '/staff/queues/open'],
    ['a newline', '/staff/queues/open\r\nSet-Cookie: evil=1', '/staff/queues/open'],
    ['a newline in the query', '/staff/queues/open?sort=created\nLocation: //evil.example', '/staff/queues/open'],
    ['an absolute URL', 'https://evil.example/staff/queues/open', '/staff/queues/open'],
    ['a protocol-relative URL', '//evil.example/staff/queues/open', '/staff/queues/open'],
    ['a backslash URL', '/\\evil.example/staff/queues/open', '/staff/queues/open'],
    ['a queue path that climbs out', '/staff/queues/../../evil', '/staff/queues/open'],
    ['a queue that does not exist', '/staff/queues/constructor', '/staff/queues/open'],
    ['100,000 characters', '/staff/queues/open?sort=' + 'x'.repeat(100_000), '/staff/queues/open'],
    ['nothing', '', '/staff/queues/open']
  ]
  for (const [what, back, expected] of cases) {
    const answer = await visitor.post('/staff/bulk', bulkBody(page, [numbers[0]!], { action: 'priority', back }), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: false })
    t.equal(answer.status, 303, `${what}: a redirect, not a server error`)
    t.equal(answer.headers.location, expected, `${what}: to ${expected}`)
  }
  const twice = await visitor.post('/staff/bulk', bulkBody(page, [numbers[0]!], { action: 'priority', back: ['/staff/queues/mine', '//evil.example'] }), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: false })
  t.equal(twice.headers.location, '/staff/queues/open', 'back= sent twice: the open queue')
})

/** The size of every cookie a response set, as the browser would store it ("name=value"). */
function cookieSizes (page: Page): number[] {
  return [page.headers['set-cookie'] ?? []].flat().map((header) => String(header).split(';')[0]!.length)
}

t.test('what a flash echoes of the input is capped, so no cookie grows past 4 KB', async (t) => {
  const { app, desk: d, numbers } = await desk(t)
  const { visitor: ada, page } = await signIn(app, d.agents.ada.email)
  const noSuchTickets = Array.from({ length: 200 }, (_, i) => String(900000000000 + i))
  const answer = await bulk(ada, page, noSuchTickets, { action: 'claim' })
  t.equal(answer.status, 200, '200 unknown ticket numbers: back on the queue')
  const notice = answer.$('[role=status]').text()
  t.match(notice, /^0 of 200 tickets updated\. 900000000000, 900000000001, .*…: /, 'the notice names the first numbers, then an ellipsis')
  t.ok(notice.length <= 300, `the notice is at most 300 characters (${notice.length})`)
  const posted = await ada.post('/staff/bulk', bulkBody(page, noSuchTickets, { action: 'claim' }), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: false })
  t.ok(Math.max(...cookieSizes(posted)) < 4096, `the flash cookie stays under 4 KB (${Math.max(...cookieSizes(posted))} bytes)`)

  const long = Array.from({ length: 200 }, (_, i) => String(i).padStart(1000, '7'))
  const refused = await ada.post('/staff/bulk', bulkBody(page, long, { action: 'claim' }), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: false })
  t.equal(refused.status, 303, '200 numbers of 1,000 digits: refused calmly')
  t.ok(Math.max(...cookieSizes(refused)) < 4096, `with a small cookie (${Math.max(...cookieSizes(refused))} bytes)`)

  // The merge form's target is echoed in its answer, whichever way it goes.
  const ticketPage = await ada.get(`/staff/tickets/${numbers[0]!}`)
  const mergeForm = ticketPage.$('form').filter((_, el) => /\/merge$/.test(ticketPage.$(el).attr('action') ?? ''))
  t.equal(mergeForm.length, 1, 'the ticket page has a merge form')
  const mergeUrl = mergeForm.attr('action')!
  const csrf = mergeForm.find('input[name=_csrf]').attr('value')!
  for (const [what, target] of [['200,000 characters', '#' + 'x'.repeat(200_000)], ['50,000 emoji (600 KB encoded)', '😀'.repeat(50_000)], ['200,000 digits', '4'.repeat(200_000)]] as const) {
    const merged = await ada.post(mergeUrl, new URLSearchParams({ _csrf: csrf, target }).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, follow: false })
    t.ok(merged.status < 500, `a merge target of ${what}: no server error (${merged.status})`)
    const sizes = cookieSizes(merged)
    t.ok(sizes.length > 0 && Math.max(...sizes) < 4096, `a merge target of ${what}: every cookie under 4 KB (${sizes.join(', ')} bytes)`)
    const shown = await ada.get(`/staff/tickets/${numbers[0]!}`)
    const message = shown.$('[role=status]').text()
    t.ok(message.length > 0 && Array.from(message).length <= 300, `a merge target of ${what}: the notice is at most 300 characters (${Array.from(message).length})`)
    t.notMatch(message, /^Merged/, `a merge target of ${what}: nothing was merged`)
  }
  // JSON can carry half an emoji, which no cookie can hold.
  const halfEmoji = await ada.post(mergeUrl, `{"_csrf":${JSON.stringify(csrf)},"target":"\\ud83d${'x'.repeat(10)}"}`, { headers: { 'content-type': 'application/json' }, follow: false })
  t.ok(halfEmoji.status < 500, `a merge target with half an emoji (JSON): no server error (${halfEmoji.status})`)
})

t.test('the refresh asks for the rows and counts alone, keeping ticked rows ticked', async (t) => {
  const { visitor, page, numbers } = await desk(t)
  const poller = page.$('[data-hx-trigger="every 30s"]')
  t.equal(poller.attr('data-hx-target'), '#queue-rows', 'the poll replaces the rows')
  t.equal(page.$('#queue-rows select, #queue-rows fieldset').length, 0, 'and the bulk choices are outside what it replaces')
  t.equal(page.$('form.bulk #queue-rows').length, 1, 'while the rows stay inside the bulk form')
  const refreshed = await visitor.get(`${poller.attr('data-hx-get')!}?tickets=${numbers[1]!}`, { headers: { 'hx-request': 'true', 'hx-target': 'queue-rows' } })
  t.notMatch(refreshed.html, /<html|<form|<select/, 'only rows come back, no form and no select')
  t.equal(refreshed.$(`#select-${numbers[1]!}`).is('[checked]'), true, 'the ticked row comes back ticked')
  t.equal(refreshed.$(`#select-${numbers[0]!}`).is('[checked]'), false, 'the others do not')
  t.equal(refreshed.$(`#select-${numbers[0]!}`).attr('data-hx-preserve'), 'true', 'a box ticked while the answer travels is kept by htmx')
  t.equal(refreshed.$('#queue-counts[data-hx-swap-oob=true] a[aria-current=page] .count').text(), '3', 'the counts come along, out of band')
})

// Each statement is a trip to SQLite's thread pool and Knex's pool; menus and counts come
// from their few-seconds caches, so a queue page (filtered, or further on) reads one.
t.test('a queue page costs one SQL statement once the menus and counts are cached, on every database', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  for (let i = 0; i < 3; i++) await openTicket(app, desk.topics.broken, `Printer ${i}`)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  holdWallClock(t)
  const first = await bob.get('/staff/queues/open')
  const statements: string[] = []
  const count = (query: { sql: string }): void => { statements.push(query.sql) }
  app.db.on('query', count)
  t.teardown(() => { app.db.removeListener('query', count) })
  for (const path of ['/staff/queues/open', '/staff/queues/open?priority=2', '/staff/queues/mine', '/staff/queues/open?sort=created']) {
    statements.length = 0
    const page = await bob.get(path)
    t.equal(page.status, 200)
    t.equal(statements.length, 1, `${path}: ${statements.join('\n')}`)
  }
  t.match(first.text, 'Printer 2')
})

t.test('the filter form and the bulk menus, made once per view, show each page its own choices and an admin\'s change at once', async (t) => {
  const app = await testApp(t)
  const d = await seedDesk(app)
  const { visitor: ada } = await signIn(app, d.agents.ada.email)
  const chosen = (page: Page, name: string): string | undefined => page.$(`form.filters select[name=${name}] option[selected]`).attr('value')
  const bulkAgents = (page: Page): string[] => page.$('form.bulk select[name=agent] option').map((_, el) => page.$(el).text()).get()

  for (const [url, priority] of [['/staff/queues/open?priority=3', '3'], ['/staff/queues/open?priority=1', '1'], ['/staff/queues/open?priority=3', '3']] as const) {
    t.equal(chosen(await ada.get(url), 'priority'), priority, `${url}: its own priority chosen`)
  }
  const mine = await ada.get('/staff/queues/mine?priority=3')
  t.equal(mine.$('form.filters').attr('action'), '/staff/queues/mine', 'each queue\'s form sends to its own queue')
  t.equal(chosen(await ada.get('/staff/queues/open'), 'priority'), undefined, 'no filter, nothing chosen')

  const billing = await ada.get(`/staff/queues/open?department=${d.departments.billing}`)
  t.equal(chosen(billing, 'department'), String(d.departments.billing))
  t.ok(bulkAgents(billing).includes('Mel Manager'), 'Billing\'s agents are offered for its tickets')
  t.notOk(bulkAgents(billing).includes('Bob Kahn'), 'Support\'s are not')
  const support = await ada.get(`/staff/queues/open?department=${d.departments.support}`)
  t.ok(bulkAgents(support).includes('Bob Kahn'))
  t.notOk(bulkAgents(support).includes('Mel Manager'))

  const form = await ada.get(`/staff/admin/departments/${d.departments.billing}`)
  await ada.submit(form, `form[action="/staff/admin/departments/${d.departments.billing}"]`, { name: 'Accounts' })
  const after = await ada.get(`/staff/queues/open?department=${d.departments.billing}`)
  const departmentNames = (name: string): string[] => after.$(`${name} option`).map((_, el) => after.$(el).text()).get()
  t.ok(departmentNames('form.filters select[name=department]').includes('Accounts'), 'the renamed department is in the filter at once')
  t.notOk(departmentNames('form.filters select[name=department]').includes('Billing'))
  t.ok(departmentNames('form.bulk select[name=department]').includes('Accounts'), 'and in the bulk transfer menu')
})
