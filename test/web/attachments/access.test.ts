import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn, type Desk } from '../../helpers/fixtures.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

const form = 'form[action="/tickets"]'

async function portalTicket (app: FastifyInstance, email: string, files: Array<{ name: string, content: string }>): Promise<{ visitor: Visitor, number: string, page: Page }> {
  const visitor = new Visitor(app)
  const blank = await visitor.get('/tickets/new')
  const topic = blank.$('select[name=topic] option').filter((_, o) => blank.$(o).text() === 'Something is broken').attr('value')!
  const created = await visitor.upload(blank, form, { topic, name: 'Someone', email, subject: 'Files', message: 'Attached.' }, files)
  const number = /Ticket (\d{6,12}) received/.exec(created.text)![1]!
  return { visitor, number, page: await visitor.get(`/tickets/${number}`) }
}

async function noteWithFile (app: FastifyInstance, desk: Desk, number: string): Promise<string> {
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = await bob.upload(await bob.get(`/staff/tickets/${number}`), 'form.composer', { message: 'Internal only.', intent: 'note' }, [{ name: 'salary.xlsx', content: 'secret' }])
  return page.$('#conversation .entry.note .attachments a').attr('href')!
}

t.test('downloads: only the ticket\'s requester (public entries) and agents who may open the ticket', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const grace = await portalTicket(app, 'grace@example.com', [{ name: 'grace.txt', content: 'grace’s file' }])
  const mallory = await portalTicket(app, 'mallory@example.com', [{ name: 'mallory.txt', content: 'mine' }])
  const graceFile = grace.page.$('.attachments a').attr('href')!
  const graceFileId = graceFile.split('/').pop()!
  t.equal((await grace.visitor.get(graceFile)).status, 200, 'the requester downloads their own file')

  t.equal((await mallory.visitor.get(graceFile)).status, 404, 'the requester of another ticket may not')
  t.equal((await mallory.visitor.get(`/tickets/${mallory.number}/files/${graceFileId}`)).status, 404, 'not even through their own ticket\'s address')
  t.equal((await new Visitor(app).get(graceFile)).status, 404, 'nor may someone without the private link')

  const noteFile = await noteWithFile(app, desk, grace.number)
  const noteFileId = noteFile.split('/').pop()!
  const gracePage = await grace.visitor.get(`/tickets/${grace.number}`)
  t.notMatch(gracePage.text, 'salary.xlsx', 'the requester does not see an internal note\'s file')
  t.equal((await grace.visitor.get(`/tickets/${grace.number}/files/${noteFileId}`)).status, 404, 'and cannot download it')
  t.equal((await grace.visitor.get(`/tickets/${grace.number}/files/${noteFileId}/image`)).status, 404)

  const { visitor: ned } = await signIn(app, desk.agents.ned.email)
  t.equal((await ned.get(`/staff/tickets/${grace.number}/files/${graceFileId}`)).status, 404, 'an agent of another department may not')
  t.equal((await ned.get(noteFile)).status, 404)
  const { visitor: vic } = await signIn(app, desk.agents.vic.email)
  t.equal((await vic.get(noteFile)).status, 200, 'an agent who may view the ticket may, notes\' files included')
  t.equal((await new Visitor(app).get(noteFile, { follow: false })).status, 303, 'signed-out visitors are sent to sign in')
  const otherTicketsFile = mallory.page.$('.attachments a').attr('href')!.split('/').pop()!
  t.equal((await vic.get(`/staff/tickets/${grace.number}/files/${otherTicketsFile}`)).status, 404, 'a file is only found through its own ticket')
  for (const bad of ['abc', '-1', '99999999999', '1e3']) {
    t.equal((await grace.visitor.get(`/tickets/${grace.number}/files/${bad}`)).status, 404, `file id ${bad}`)
  }
})

t.test('file names can be anything: stored as given, shown escaped, sent with filename*', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await seedDesk(app)
  const long = `${'ж'.repeat(996)}.txt`
  const names = [
    '"; rm -rf ~.txt',
    '../../../etc/passwd',
    'Ünïcødé 文件 🙂.txt',
    '<script>alert(1)</script>.html',
    "it's (1) 100%.txt",
    `${long}extra`
  ]
  const { visitor, page } = await portalTicket(app, 'grace@example.com', names.map((name, i) => ({ name, content: `file ${i}` })))
  const expected = [...names.slice(0, 5), [...`${long}extra`].slice(0, 1000).join('')]
  const shown = page.$('.attachments a').map((_, a) => page.$(a).text()).get()
  t.same(shown, expected, 'each name is shown as typed (a very long one cut at 1,000 characters)')
  t.notMatch(page.html, '<script>alert(1)', 'markup in a name is escaped')
  t.same(await app.db('attachments').orderBy('id').pluck('filename'), expected, 'and stored as text')
  const hrefs = page.$('.attachments a').map((_, a) => page.$(a).attr('href')).get()
  for (const [i, href] of hrefs.entries()) {
    const answer = await visitor.get(href)
    t.equal(answer.html, `file ${i}`)
    const disposition = String(answer.headers['content-disposition'])
    t.match(disposition, /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!-]+$/, `a safe header for name ${i}`)
    t.equal(decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(disposition)![1]!), expected[i], 'that names the file exactly')
  }
})
