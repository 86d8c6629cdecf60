import t from 'tap'
import { findTicketByNumber } from '../../../src/data/tickets.js'
import { asAgent, system } from '../../helpers/actors.js'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { openAbout, resultNumbers } from '../../helpers/search.js'

t.test('search finds tickets by subject, message, note, requester and number, ranked, with the words marked', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const printer = await openAbout(app, desk.topics.broken, 'The printer on floor 3 jams', 'Every morning the printer jams on page two.')
  const cafe = await openAbout(app, desk.topics.broken, 'Coffee machine', 'The café on the ground floor has no milk.', { name: 'Émile Zola', email: 'emile@example.org' })
  const order = await openAbout(app, desk.topics.broken, 'Where is my parcel', 'Order number A-55123 has not arrived.')
  const bob = await asAgent(app, desk.agents.bob.id)
  const noted = (await findTicketByNumber(app.db, order))!
  await app.lifecycle.addNote(noted, bob, { body: 'Courier says the warehouse lost it (internal).' })
  const { visitor } = await signIn(app, desk.agents.bob.email)

  let page = await visitor.get('/staff/queues/open')
  page = await visitor.submit(page, 'form.site-search', { q: 'printer' })
  t.equal(page.status, 200)
  t.same(resultNumbers(page), [printer], 'a word from the subject and the message')
  t.equal(page.$('.search-results mark').first().text().toLowerCase(), 'printer', 'the word is marked')

  t.same(resultNumbers(await visitor.get('/staff/search?q=PRINTER')), [printer], 'case does not matter')
  t.same(resultNumbers(await visitor.get('/staff/search?q=cafe')), [cafe], 'accents do not matter: cafe finds café')
  t.same(resultNumbers(await visitor.get('/staff/search?q=CAF%C3%89')), [cafe], 'nor in the words typed')
  t.same(resultNumbers(await visitor.get('/staff/search?q=emile')), [cafe], 'the requester name, without its accent')
  t.same(resultNumbers(await visitor.get('/staff/search?q=emile%40example.org')), [cafe], 'the requester address')
  t.same(resultNumbers(await visitor.get('/staff/search?q=ground+milk')), [cafe], 'two words, both required, anywhere in one message')
  t.same(resultNumbers(await visitor.get('/staff/search?q=ground+printer')), [], 'two words that no one text holds find nothing')
  t.same(resultNumbers(await visitor.get('/staff/search?q=%22floor+3%22')), [printer], 'a quoted phrase')
  t.same(resultNumbers(await visitor.get('/staff/search?q=%22milk+floor%22')), [], 'a phrase is words in a row, not anywhere')
  t.same(resultNumbers(await visitor.get('/staff/search?q=warehou')), [order], 'the last word is a prefix, and notes are searched')
  t.match((await visitor.get('/staff/search?q=warehouse')).$('.result-quote').text(), 'Internal note:', 'a note is labelled as one')
  t.same(resultNumbers(await visitor.get('/staff/search?q=a-55123')), [order], 'an order number in a message')
  t.same(resultNumbers(await visitor.get(`/staff/search?q=${order}`)), [order], 'a ticket number')

  const both = await visitor.get('/staff/search?q=floor')
  t.same(resultNumbers(both), [printer, cafe], 'the subject match ranks above a match in a message')
  t.same(resultNumbers(await visitor.get(`/staff/search?q=floor&department=${desk.departments.billing}`)), [], 'filters combine with the words')
  t.same(resultNumbers(await visitor.get('/staff/search?q=floor&status=open')), [printer, cafe])
  t.same(resultNumbers(await visitor.get('/staff/search?q=floor&from=2000-01-01&to=2000-01-02')), [], 'created between two days')

  const reply = await visitor.get('/staff/search?q=jams')
  t.equal(reply.$('.search-results li').length, 1)
  const ticket = (await findTicketByNumber(app.db, cafe))!
  await app.lifecycle.addResponse(ticket, bob, { body: 'A new carton of oat milk jams the fridge door.' })
  t.same(resultNumbers(await visitor.get('/staff/search?q=jams')).sort(), [printer, cafe].sort(), 'a reply is found as soon as it is written')
})

t.test('search never shows a ticket, or a note, the agent could not open', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const billing = await openAbout(app, desk.topics.billing, 'Invoice query', 'Please resend the invoice.')
  const support = await openAbout(app, desk.topics.broken, 'Monitor flickers', 'It flickers.')
  const mel = await asAgent(app, desk.agents.mel.id)
  await app.lifecycle.addNote((await findTicketByNumber(app.db, billing))!, mel, { body: 'Secret zebra discount agreed.' })

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  t.same(resultNumbers(await bob.get('/staff/search?q=zebra')), [], 'a note in a department Bob has no role in is never found')
  t.same(resultNumbers(await bob.get('/staff/search?q=invoice')), [], 'nor its subject')
  t.same(resultNumbers(await bob.get(`/staff/search?q=${billing}`)), [], 'nor its number')
  t.same(resultNumbers(await bob.get('/staff/search?q=flickers')), [support])
  const { visitor: melVisitor } = await signIn(app, desk.agents.mel.email)
  t.same(resultNumbers(await melVisitor.get('/staff/search?q=zebra')), [billing], 'the manager of Billing finds it')
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  t.same(resultNumbers(await ada.get('/staff/search?q=zebra')), [billing], 'so does an administrator')
})

t.test('merged and deleted tickets: their words lead to where the thread lives, or nowhere', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const first = await openAbout(app, desk.topics.broken, 'Scanner broken', 'The scanner shows error E42.')
  const second = await openAbout(app, desk.topics.broken, 'Scanner again', 'Still the quokka error.')
  const doomed = await openAbout(app, desk.topics.broken, 'Wombat sighting', 'A wombat in the server room.')
  const ada = await asAgent(app, desk.agents.ada.id)
  const target = (await findTicketByNumber(app.db, first))!
  await app.lifecycle.mergeTicket((await findTicketByNumber(app.db, second))!, ada, { target })
  await app.lifecycle.deleteTicket((await findTicketByNumber(app.db, doomed))!, ada)
  const { visitor } = await signIn(app, desk.agents.ada.email)
  t.same(resultNumbers(await visitor.get('/staff/search?q=quokka')), [first], "the merged ticket's words find the ticket it was merged into")
  t.same(resultNumbers(await visitor.get('/staff/search?q=wombat')), [], 'a ticket in the trash is not found')
  await app.lifecycle.restoreTicket((await findTicketByNumber(app.db, doomed))!, ada)
  t.same(resultNumbers(await visitor.get('/staff/search?q=wombat')), [doomed], 'until it is restored')
  await app.db('tickets').where({ number: doomed }).update({ deleted_at: 1 })
  t.equal(await app.lifecycle.purgeTrash(), 1)
  t.same(resultNumbers(await visitor.get('/staff/search?q=wombat')), [], 'nor once it is deleted for good')
  void system
})

t.test('the last word finds every word it begins, whether few words share it or many', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const plain = await openAbout(app, desk.topics.broken, 'Glass', 'The scan fails.')
  const plural = await openAbout(app, desk.topics.broken, 'Copier', 'Both scanners fail.')
  const other = await openAbout(app, desk.topics.broken, 'Other', 'It says scandal.')
  // Twelve words begin with "zq": more than a prefix is spelled out as (see src/data/search.ts).
  const many = await openAbout(app, desk.topics.broken, 'Noise', Array.from({ length: 11 }, (_, i) => `zq${'abcdefghijk'[i]!}word`).join(' '))
  const last = await openAbout(app, desk.topics.broken, 'Hum', 'zqlword')
  const { visitor } = await signIn(app, desk.agents.bob.email)

  t.same(resultNumbers(await visitor.get('/staff/search?q=scan')).sort(), [plain, plural, other].sort(), 'scan, scanners and scandal')
  t.same(resultNumbers(await visitor.get('/staff/search?q=scanne')), [plural], 'scanners only')
  t.same(resultNumbers(await visitor.get('/staff/search?q=both+scan')), [plural], 'with another word, both required')
  t.same(resultNumbers(await visitor.get('/staff/search?q=says+scan')), [other])
  t.same(resultNumbers(await visitor.get('/staff/search?q=zq')).sort(), [many, last].sort(), 'a prefix of many words, the last of them in order too')
  t.same(resultNumbers(await visitor.get('/staff/search?q=zqf')), [many], 'and of one of them')
  t.same(resultNumbers(await visitor.get('/staff/search?q=scanx')), [], 'a prefix no word has finds nothing')
})
