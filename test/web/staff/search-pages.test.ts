import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { openAbout, resultNumbers } from '../../helpers/search.js'

t.test('pages of results, bad input, and saved searches as personal queues', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const numbers: string[] = []
  for (let i = 0; i < 30; i++) numbers.push(await openAbout(app, desk.topics.broken, `Keyboard problem ${i}`, 'The keyboard types twice.'))
  const { visitor } = await signIn(app, desk.agents.bob.email)
  const first = await visitor.get('/staff/search?q=keyboard')
  t.equal(first.$('.search-results > li').length, 25, 'a page of 25')
  const next = await visitor.get(first.$('a:contains("Next page")').attr('href')!)
  t.equal(next.$('.search-results > li').length, 5, 'the rest on the next')
  t.same([...resultNumbers(first), ...resultNumbers(next)].sort(), [...numbers].sort(), 'every ticket once, none twice')

  for (const q of ['"', '""', '*', '-', 'a"b', '%', '\\', '\u0000', 'NEAR(', 'x'.repeat(5000), '((( ', "' or 1=1 --", '+-*~<>']) {
    const page = await visitor.get(`/staff/search?q=${encodeURIComponent(q)}`)
    t.equal(page.status, 200, `search for ${JSON.stringify(q.slice(0, 20))} answers`)
  }
  const bad = await visitor.get('/staff/search?q=keyboard&from=2026-13-45')
  t.equal(bad.status, 422, 'a date that is no date is named')
  t.match(bad.$('#search-from-error').text(), 'Enter a date like')
  t.equal(bad.$('#search-q').val(), 'keyboard', 'with the words kept')
  const clean = await visitor.get('/staff/search?q=keyboard&department=&status=')
  t.equal(clean.url, '/staff/search?q=keyboard', 'empty filters are dropped from the address')

  let page = await visitor.get(`/staff/search?q=keyboard&department=${desk.departments.support}`)
  page = await visitor.submit(page, 'form.save-search', { name: '' })
  t.equal(page.status, 422, 'a saved search needs a name')
  t.match(page.$('#search-name-error').text(), 'Enter a name')
  t.equal(page.$('#search-q').val(), 'keyboard', 'the search stays on the page')
  page = await visitor.submit(page, 'form.save-search', { name: 'Keyboards' })
  t.match(page.$('[role=status]').text(), 'Saved "Keyboards"')
  const queue = await visitor.get('/staff/queues/open')
  const link = queue.$('#queue-counts a:contains("Keyboards")')
  t.equal(link.find('.count').text(), '30', 'listed with the queues, with its count')
  t.equal(link.attr('href'), `/staff/search?q=keyboard&department=${desk.departments.support}`)
  const { visitor: vic } = await signIn(app, desk.agents.vic.email)
  t.equal((await vic.get('/staff/queues/open')).$('#queue-counts a:contains("Keyboards")').length, 0, 'personal: nobody else sees it')
  page = await visitor.get('/staff/search')
  page = await visitor.submit(page, 'form[action$="/delete"]')
  t.match(page.$('[role=status]').text(), 'removed')
  t.equal((await visitor.get('/staff/queues/open')).$('#queue-counts a:contains("Keyboards")').length, 0)
})
