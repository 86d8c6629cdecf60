import t from 'tap'
import { checkAccessibility } from '../../helpers/axe.js'
import { launchBrowser, openPage, servedApp } from '../../helpers/browser.js'
import { password } from '../../helpers/fixtures.js'
import { programs, skipWithout } from '../../helpers/programs.js'
import { updateAgentSettings } from '../../../src/data/agent-preferences.js'
import { forgetReferenceData } from '../../../src/web/staff/reference-data.js'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { clock, workTheDesk } from '../../helpers/report-desk.js'
import type { Page } from '../../helpers/visitor.js'

/** The cells of a report table, one array per row, the row's name first. */
function table (page: Page, id: string): string[][] {
  return page.$(`#table-${id} tbody tr`).map((_, tr) => [page.$(tr).find('th, td').map((_, cell) => page.$(cell).text().trim()).get()]).get() as string[][]
}

function parseCsv (text: string): string[][] {
  return text.replace(/^\uFEFF/, '').trim().split('\r\n').map((line) => line.split(','))
}

const range = 'from=2026-11-26&to=2026-11-30'

t.test('the reports page counts a hand-worked desk, in tables, charts and CSV', async (t) => {
  const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(app)
  await workTheDesk(app, desk)
  const { visitor: ada, page: start } = await signIn(app, desk.agents.ada.email)
  t.equal(start.$('nav a[href="/staff/reports"]').text(), 'Reports', 'the header links to the reports')

  const defaults = await ada.get('/staff/reports')
  t.equal(defaults.status, 200)
  t.equal(defaults.$('#report-from').val(), '2026-11-02', 'by default the last 30 days…')
  t.equal(defaults.$('#report-to').val(), '2026-12-01', '…to today in the reader’s zone (UTC here)')
  t.equal(table(defaults, 'volume').length, 30)

  const page = await ada.submit(defaults, 'form.filters', { from: '2026-11-26', to: '2026-11-30', group: 'day', by: 'agent' })
  t.equal(page.status, 200)
  t.equal(page.url, `/staff/reports?${range}&group=day&by=agent`)
  t.same(table(page, 'volume'), [
    ['2026-11-26', '2', '1', '0'],
    ['2026-11-27', '1', '1', '1'],
    ['2026-11-28', '1', '1', '0'],
    ['2026-11-29', '0', '0', '0'],
    ['2026-11-30', '0', '0', '0']
  ], 'created, resolved and reopened per day')
  t.same(table(page, 'backlog').map((row) => row[1]), ['1', '2', '1', '1', '1'], 'open at the end of each day; the deleted ticket left the backlog')
  t.same(table(page, 'first-response'), [
    ['2026-11-26', '2', '35 min', '1 h 45 min'],
    ['2026-11-27', '0', '—', '—'],
    ['2026-11-28', '0', '—', '—'],
    ['2026-11-29', '0', '—', '—'],
    ['2026-11-30', '1', '9 h', '9 h']
  ], 'first replies: Billing counts its office hours only')
  t.same(table(page, 'resolution').slice(0, 3), [
    ['2026-11-26', '1', '2 h 15 min', '2 h 15 min'],
    ['2026-11-27', '1', '28 h', '28 h'],
    ['2026-11-28', '1', '2 d 6 h', '2 d 6 h']
  ])
  t.same(table(page, 'sla').slice(0, 5), [
    ['2026-11-26', '1', '1', '1', '0'],
    ['2026-11-27', '0', '0', '1', '0'],
    ['2026-11-28', '0', '0', '0', '1'],
    ['2026-11-29', '0', '0', '0', '0'],
    ['2026-11-30', '1', '0', '0', '0']
  ], 'each target judged met or breached, on the day it was')
  t.same(table(page, 'satisfaction').slice(0, 2), [['2026-11-26', '—', '0', '0', '0', '0'], ['2026-11-27', '100', '1', '0', '0', '1']])
  t.same(table(page, 'breakdown'), [
    ['Nobody assigned', '4', '1', '1', '1 h 45 min', '9 h', '2 d 6 h', '2 d 6 h', '1', '2', '—', '0'],
    ['Bob Kahn', '0', '2', '0', '35 min', '35 min', '2 h 15 min', '28 h', '3', '0', '100', '1']
  ], 'by agent: where each ticket was when each thing happened')

  const chart = page.$('#report-volume').closest('section').find('svg')
  t.equal(chart.attr('role'), 'img')
  t.equal(chart.attr('width'), '100%')
  t.match(chart.attr('viewBox'), /^0 0 \d+ \d+$/)
  t.equal(chart.find('title').text(), 'Created and resolved')
  t.equal(chart.find('rect').length, 10, 'a bar per day and series')
  t.same(chart.find('rect').map((_, rect) => Number(page.$(rect).attr('height')) > 0).get(), [true, true, true, false, false, true, true, true, false, false], 'created then resolved, the quiet days flat')
  t.equal(page.$('script').length, 0, 'no JavaScript')

  const weeks = await ada.get(`/staff/reports?${range}&group=week&by=department`)
  t.same(table(weeks, 'volume'), [['Week of 2026-11-23', '4', '3', '1'], ['Week of 2026-11-30', '0', '0', '0']], 'per week, from Monday')
  t.same(table(weeks, 'backlog').map((row) => row[1]), ['1', '1'])
  t.same(table(weeks, 'breakdown').map((row) => row.slice(0, 4)), [['Support', '3', '3', '0'], ['Billing', '1', '0', '1']])

  const later = await ada.get('/staff/reports?from=2026-11-27&to=2026-11-28')
  t.same(table(later, 'backlog').map((row) => row[1]), ['2', '1'], 'a range that starts later carries the backlog it starts with')

  const csv = await ada.get(`/staff/reports/first-response.csv?${range}&group=day&by=agent`)
  t.equal(csv.status, 200)
  t.match(csv.headers['content-type'], 'text/csv')
  t.same(parseCsv(csv.html), [
    ['Day (UTC)', 'First replies', 'Median', '90th percentile'],
    ['2026-11-26', '2', '35', '105'],
    ['2026-11-27', '0', '', ''],
    ['2026-11-28', '0', '', ''],
    ['2026-11-29', '0', '', ''],
    ['2026-11-30', '1', '540', '540']
  ], 'the CSV holds the same numbers, durations in minutes')
  t.equal(page.$(`a[href="/staff/reports/first-response.csv?${range}&group=day&by=agent"]`).length, 1, 'the page links to it')
  const volume = parseCsv((await ada.get(`/staff/reports/volume.csv?${range}&group=week`)).html)
  t.same(volume, [['Week starting (UTC)', 'Created', 'Resolved', 'Reopened'], ['2026-11-23', '4', '3', '1'], ['2026-11-30', '0', '0', '0']])

  await app.db('help_topics').where({ id: desk.topics.billing }).update({ name: '=HYPERLINK("http://evil.example")' })
  forgetReferenceData(app.db)
  const byTopic = await ada.get(`/staff/reports/breakdown.csv?${range}&by=topic`)
  t.ok(byTopic.html.includes('"\'=HYPERLINK(""http://evil.example"")"'), 'a name that would be a formula is written as text')

  await updateAgentSettings(app.db, desk.agents.ada.id, { time_zone: 'Pacific/Honolulu' })
  const { visitor: adaInHonolulu } = await signIn(app, desk.agents.ada.email)
  const honolulu = await adaInHonolulu.get('/staff/reports')
  t.equal(honolulu.$('#report-to').val(), '2026-11-30', 'at 08:00 UTC on 1 December it is still 30 November in Honolulu')
  t.equal(honolulu.$('#report-from').val(), '2026-11-01')

  const wrong = await ada.get('/staff/reports?from=2026-11-30&to=2026-11-01')
  t.equal(wrong.status, 422, 'a range that ends before it starts is refused…')
  t.equal(wrong.$('#report-to-error').text(), 'The last day must not come before the first.')
  t.equal(wrong.$('#report-from').val(), '2026-11-30', '…keeping what was typed')
  t.equal((await ada.get('/staff/reports/volume.csv?from=someday')).status, 422, 'so is a CSV of a range that is no date')

  await assertValidDocuments(t, { reports: page.html, weeks: weeks.html, refused: wrong.html })
})

t.test('managers see only their departments; agents get no reports', async (t) => {
  const app = await testApp(t, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(app)
  await workTheDesk(app, desk)

  const { visitor: mel, page: start } = await signIn(app, desk.agents.mel.email)
  t.equal(start.$('nav a[href="/staff/reports"]').length, 1, 'Mel manages Billing: the header offers reports')
  const page = await mel.get(`/staff/reports?${range}`)
  t.equal(page.status, 200)
  t.same(table(page, 'volume').map((row) => row[1]), ['0', '1', '0', '0', '0'], 'only the Billing ticket is counted')
  t.same(table(page, 'backlog').map((row) => row[1]), ['0', '1', '1', '1', '1'])
  t.same(table(page, 'breakdown').map((row) => row[0]), ['Billing'], 'no Support row')
  const csv = parseCsv((await mel.get(`/staff/reports/volume.csv?${range}`)).html)
  t.same(csv.slice(1).map((row) => row[1]), ['0', '1', '0', '0', '0'])

  const { visitor: bob, page: bobStart } = await signIn(app, desk.agents.bob.email)
  t.equal(bobStart.$('nav a[href="/staff/reports"]').length, 0, 'Bob is an agent: no link…')
  t.equal((await bob.get('/staff/reports')).status, 403, '…and no page')
  t.equal((await bob.get(`/staff/reports/volume.csv?${range}`)).status, 403, '…and no CSV')
  t.not((await app.inject({ method: 'GET', url: '/staff/reports' })).statusCode, 200, 'signed out: nothing')
})

t.test('the reports page, charts included, has no serious accessibility problems (axe-core) and fits 360 px', { skip: skipWithout(programs.chromium) }, async (t) => {
  const { app, origin } = await servedApp(t, {}, { now: clock.now, startWorkers: false })
  const desk = await seedDesk(app)
  await workTheDesk(app, desk)
  const browser = await launchBrowser(t)
  // The CSP (script-src 'self') would block the injected axe script: bypassed for the audit only.
  const { page } = await openPage(t, browser, origin, { bypassCSP: true, viewport: { width: 360, height: 740 } })
  await page.goto('/staff/login')
  await page.getByLabel('E-mail address').fill(desk.agents.ada.email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
  const response = await page.goto(`/staff/reports?${range}&by=agent`)
  await page.getByRole('img', { name: 'Created and resolved' }).waitFor()
  await checkAccessibility(t, page, 'reports page', 200, response?.status())
  const chartWidth = await page.getByRole('img', { name: 'Backlog' }).evaluate((svg) => svg.getBoundingClientRect().width)
  t.ok(chartWidth > 200 && chartWidth <= 360, `the chart scales to the narrow screen (${chartWidth} px)`)
})
