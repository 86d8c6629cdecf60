import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'

/** RFC 4180: quoted cells may hold commas, quotes (doubled) and line breaks. */
function parseCsv (text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') { cell += '"'; i++ } else if (char === '"') quoted = false
      else cell += char
    } else if (char === '"') quoted = true
    else if (char === ',') { row.push(cell); cell = '' } else if (char === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++ } else cell += char
  }
  return rows
}

const hostile = ['=HYPERLINK("http://evil.example","click")', '+1+1', '-2+3', '@SUM(A1:A9)', 'Comma, "quotes" and\na line break', '\tTabbed']

t.test('a queue and a search download as CSV: every row, hostile cells defused, same text back', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  for (const subject of hostile) await app.lifecycle.openTicket({ name: 'Mallory', email: 'mallory@example.com', subject, message: 'export me', helpTopicId: desk.topics.broken })
  for (let i = 0; i < 1003; i++) {
    await app.db('tickets').insert({ number: String(900000 + i), subject: `Bulk ${i}`, status: 'open', priority: 2, department_id: desk.departments.support, requester_id: 1, answered: false, created_at: 1_700_000_000_000 + i, last_activity_at: 1_700_000_000_000 + i })
  }
  const { visitor } = await signIn(app, desk.agents.bob.email)
  const queue = await visitor.get('/staff/queues/open')
  const link = queue.$('a.export').attr('href')!
  t.equal(link, '/staff/queues/open/export.csv')
  const res = await visitor.get(link)
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], 'text/csv')
  t.match(res.headers['content-disposition'], 'attachment; filename="open-tickets.csv"')
  const rows = parseCsv(res.html.replace(/^\uFEFF/, ''))
  t.same(rows[0]!.slice(0, 3), ['Number', 'Subject', 'Status'])
  t.equal(rows.length, 1 + 1003 + hostile.length, 'every ticket of the queue, across the thousand-row pages, once')
  t.equal(new Set(rows.slice(1).map((row) => row[0])).size, 1003 + hostile.length, 'no ticket twice')
  const subjects = rows.slice(1).map((row) => row[1]!)
  for (const subject of hostile) {
    const formula = /^[=+\-@\t]/.test(subject)
    t.ok(subjects.includes(formula ? `'${subject}` : subject), `${JSON.stringify(subject)} comes back${formula ? ' behind an apostrophe' : ' as it was'}`)
  }
  t.notOk(subjects.some((subject) => /^[=+\-@\t]/.test(subject)), 'no cell starts a formula')

  const filtered = await visitor.get(`/staff/queues/open/export.csv?department=${desk.departments.billing}`)
  t.equal(parseCsv(filtered.html.replace(/^\uFEFF/, '')).length, 1, 'the filters apply: only the header')

  const search = await visitor.get('/staff/search?q=export')
  const searchLink = search.$('a:contains("Download all results as CSV")').attr('href')!
  const found = await visitor.get(searchLink)
  t.equal(parseCsv(found.html.replace(/^\uFEFF/, '')).length, 1 + hostile.length, 'a search exports what it finds')
  t.not((await app.inject({ method: 'GET', url: '/staff/queues/open/export.csv' })).statusCode, 200, 'signed out: no export')
})
