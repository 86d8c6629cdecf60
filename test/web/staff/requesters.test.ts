import t from 'tap'
import { findTicketByNumber } from '../../../src/data/tickets.js'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor } from '../../helpers/visitor.js'

async function ticketFrom (app: Awaited<ReturnType<typeof testApp>>, name: string, email: string, topic: number, subject: string): Promise<{ number: string, token: string }> {
  const opened = await app.lifecycle.openTicket({ name, email, subject, message: 'Details inside.', helpTopicId: topic })
  return { number: opened.ticket.number, token: opened.accessToken }
}

t.test('the requester directory: find a person, see the tickets one may see, keep a note, fix the record', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  await ticketFrom(app, 'Grace Hopper', 'grace@example.com', desk.topics.broken, 'Printer jams')
  const invoice = await ticketFrom(app, 'Grace Hopper', 'grace@example.com', desk.topics.billing, 'Invoice is wrong')
  for (let i = 0; i < 55; i++) await ticketFrom(app, `Person ${String(i).padStart(2, '0')}`, `p${i}@example.com`, desk.topics.broken, `Question ${i}`)

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  let page = await bob.get('/staff/requesters')
  t.equal(page.$('tbody tr').length, 50, 'one page of 50, by name')
  const next = await bob.get(page.$('a:contains("Next page")').attr('href')!)
  t.equal(next.$('tbody tr').length, 6, 'the rest on the next page')
  t.match(next.$('tbody tr').last().text(), 'Person 54', 'in name order, nobody twice')

  page = await bob.submit(page, 'form[role=search][action$="/staff/requesters"]', { q: 'GRACE' })
  t.equal(page.$('tbody tr').length, 1, 'found by name, whatever the case')
  t.equal((await bob.get('/staff/requesters?q=p7%40example')).$('tbody tr').length, 1, 'by address')
  t.match((await bob.get(`/staff/requesters?q=${invoice.number}`)).$('tbody tr').text(), 'Grace Hopper', 'by ticket number')
  t.equal((await bob.get('/staff/requesters?q=100%25_!')).$('tbody td').text(), 'Nobody matches that.', 'wildcards typed are plain characters')

  page = await bob.get(page.$('a:contains("Grace Hopper")').attr('href')!)
  t.equal(page.status, 200)
  t.match(page.$('main').text(), 'Printer jams', 'her Support ticket')
  t.notMatch(page.$('main').text(), 'Invoice is wrong', 'not her Billing ticket: Bob has no role there')
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  t.match((await ada.get(page.url)).$('main').text(), 'Invoice is wrong', 'an administrator sees both')

  page = await bob.submit(page, 'form[action$="/note"]', { note: 'Prefers the phone before 10.' })
  t.match(page.$('[role=status]').text(), 'Note saved.')
  t.equal(page.$('#note-note').text(), 'Prefers the phone before 10.')
  page = await bob.submit(page, `form[action="${page.url}"]`, { name: '', email: 'not an address' })
  t.equal(page.status, 422, 'a bad edit is refused')
  t.equal(page.$('#edit-email').val(), 'not an address', 'with the text kept')
  t.match(page.$('#edit-name-error').text(), 'Enter a name.')
  page = await bob.submit(page, `form[action="${page.url}"]`, { name: 'Grace B. Hopper', email: 'p3@example.com' })
  t.equal(page.status, 422)
  t.match(page.$('#edit-name-error, #edit-email-error, .error-summary').text(), 'p3@example.com belongs to another requester; merge the two records instead.')
  page = await bob.submit(page, `form[action="${page.url}"]`, { name: 'Grace B. Hopper', email: 'Grace.Hopper@Example.com' })
  t.match(page.$('[role=status]').text(), 'Requester saved.')
  t.match(page.$('.facts').text(), 'grace.hopper@example.com', 'the address is stored in its one form')

  const log = await ada.get('/staff/admin/log?subject=requester')
  t.match(log.$('tbody').text(), /Bob Kahn[\s\S]*edited[\s\S]*Grace Hopper → Grace B\. Hopper/, 'the edit is in the log with before and after')
  t.match(log.$('tbody').text(), /noted[\s\S]*Prefers the phone/)

  const { visitor: vic } = await signIn(app, desk.agents.vic.email)
  const viewOnly = await vic.get(page.url)
  t.equal(viewOnly.$('form[action$="/note"]').length, 0, 'a view-only agent reads the note but cannot change it')
  t.equal(viewOnly.$('form[action$="/merge"]').length, 0)
  t.match(viewOnly.$('main').text(), 'Prefers the phone before 10.')
  t.equal((await bob.get('/staff/requesters/999999')).status, 404)
  t.equal((await bob.get('/staff/requesters/nope')).status, 404)
})

t.test('merging two records of one person: tickets move, private links work, mail from either address lands on one record', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const home = await ticketFrom(app, 'Grace Hopper', 'grace@home.example', desk.topics.broken, 'From home')
  const work = await ticketFrom(app, 'G. Hopper', 'grace@work.example', desk.topics.broken, 'From work')
  const workRequester = (await findTicketByNumber(app.db, work.number))!.requester_id
  const homeRequester = (await findTicketByNumber(app.db, home.number))!.requester_id

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.equal((await bob.get(`/staff/requesters/${workRequester}`)).$('form[action$="/merge"]').length, 0, 'merging takes a manager')
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let page = await ada.get(`/staff/requesters/${workRequester}`)
  page = await ada.submit(page, 'form[action$="/merge"]', { into: 'grace@work.example' })
  t.equal(page.status, 422)
  t.match(page.$('#merge-into-error').text(), 'cannot be merged with themselves')
  page = await ada.submit(page, 'form[action$="/merge"]', { into: 'nobody@example.com' })
  t.match(page.$('#merge-into-error').text(), 'There is no requester with the address nobody@example.com.')
  page = await ada.submit(page, 'form[action$="/merge"]', { into: 'Grace@Home.example' })
  t.equal(page.url, `/staff/requesters/${homeRequester}`, 'the surviving record is shown')
  t.match(page.$('main').text(), 'From home')
  t.match(page.$('main').text(), 'From work', 'the other record\'s ticket moved here')
  t.equal((await findTicketByNumber(app.db, work.number))!.requester_id, homeRequester)
  t.equal((await new Visitor(app).get(`/tickets/${work.number}/access/${work.token}`)).status, 200, 'the moved ticket\'s private link still opens it')

  const later = await app.lifecycle.openTicket({ name: 'Grace', email: 'grace@work.example', subject: 'Again from work', message: 'Hi.', helpTopicId: desk.topics.broken })
  t.equal(later.ticket.requester_id, homeRequester, 'a new ticket from the merged address lands on the surviving record')
  const merged = await ada.get(`/staff/requesters/${workRequester}`)
  t.match(merged.$('.notice.warning').text(), 'This record was merged into Grace Hopper')
  t.equal((await ada.get('/staff/requesters?q=work.example')).$('tbody td').text(), 'Nobody matches that.', 'the merged record leaves the directory')
  t.match((await ada.get('/staff/admin/log?subject=requester')).$('tbody').text(), /merged[\s\S]*grace@home\.example/)
})
