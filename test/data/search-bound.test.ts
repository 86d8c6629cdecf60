import t from 'tap'
import { loadAgentAccess } from '../../src/data/agents.js'
import { countSearch, searchTickets } from '../../src/data/search.js'
import { parseSearchParams } from '../../src/domain/search-query.js'
import { testApp } from '../helpers/app.js'
import { seedDesk } from '../helpers/fixtures.js'
import { openAbout } from '../helpers/search.js'

t.test('a word found in more places than a search ranks: the most recent of the tickets the agent may open, after the filters, and the count says "at least"', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  // Two older tickets in Billing, then five newer ones in Support, all about zebras.
  const billing = [
    await openAbout(app, desk.topics.billing, 'Zebra invoice', 'The zebra invoice is wrong.'),
    await openAbout(app, desk.topics.billing, 'Zebra refund', 'A zebra refund, please.')
  ]
  const support: string[] = []
  for (let i = 0; i < 5; i++) support.push(await openAbout(app, desk.topics.broken, `Zebra printer ${i}`, `Zebra stripes on page ${i}.`))
  const ada = (await loadAgentAccess(app.db, desk.agents.ada.id))!
  const ranked = 3
  const numbers = async (params: Record<string, string>): Promise<string[]> => {
    const { query } = parseSearchParams(params)
    return (await searchTickets(app.db, ada, { ...query, limit: 25 }, ranked)).map((row) => row.number).sort()
  }

  t.same(await numbers({ q: 'zebra' }), support.slice(2).sort(), 'the three most recent of seven')
  const { query: all } = parseSearchParams({ q: 'zebra' })
  t.same(await countSearch(app.db, ada, all, ranked), { count: 3, atLeast: true }, 'counted as "3+"')
  t.same(await numbers({ q: 'zebra', department: String(desk.departments.billing) }), [...billing].sort(), 'a filter reaches the older tickets: it applies before the bound')
  const { query: billingOnly } = parseSearchParams({ q: 'zebra', department: String(desk.departments.billing) })
  t.same(await countSearch(app.db, ada, billingOnly, ranked), { count: 2, atLeast: false }, 'and counts them exactly')
  t.same(await numbers({ q: 'zebra invoice' }), [billing[0]!], 'so does another word')

  const bob = (await loadAgentAccess(app.db, desk.agents.bob.id))!
  const { query } = parseSearchParams({ q: 'zebra' })
  const bobs = (await searchTickets(app.db, bob, { ...query, limit: 25 }, 1)).map((row) => row.number)
  t.equal(bobs.length, 1)
  t.ok(support.includes(bobs[0]!), 'an agent outside Billing ranks only what he may open')
})

t.test('a rare word is found however many newer tickets lack it, in subjects, messages and names alike', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  // The oldest tickets carry the rare words; a dozen newer ones do not, so on PostgreSQL
  // the words sit before the window of newest rows that search walks first.
  const quokka = await openAbout(app, desk.topics.broken, 'Quokka in the server room', 'It is eating the cables.')
  const wombat = await openAbout(app, desk.topics.broken, 'Cables chewed', 'A wombat again, near rack four.')
  const named = await openAbout(app, desk.topics.broken, 'Printer jam', 'Tray two jams.', { name: 'Zofia Numbat', email: 'zofia@example.com' })
  for (let i = 0; i < 12; i++) await openAbout(app, desk.topics.broken, `Printer jam ${i}`, `Tray ${i} jams again.`)
  const ada = (await loadAgentAccess(app.db, desk.agents.ada.id))!
  const ranked = 3
  const numbers = async (q: string): Promise<string[]> => {
    const { query } = parseSearchParams({ q })
    return (await searchTickets(app.db, ada, { ...query, limit: 25 }, ranked)).map((row) => row.number)
  }

  t.same(await numbers('quokka'), [quokka], 'a word of an old subject')
  t.same(await numbers('quok'), [quokka], 'a prefix of it')
  t.same(await numbers('wombat'), [wombat], 'a word of an old message')
  t.same(await numbers('numbat'), [named], 'an old requester\'s name')
  const jams = await numbers('jams')
  t.equal(jams.length, 3, 'a word in every newer ticket still ranks only the most recent three')
  t.notOk(jams.includes(named), 'and not the oldest of them')
})
