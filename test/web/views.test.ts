import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { serialize } from 'node:v8'
import { dirname, join } from 'node:path'
import t from 'tap'
import { viewsDir } from '../../src/paths.js'
import { escapeHtml, PageEta } from '../../src/web/plugins/views.js'
import { testApp } from '../helpers/app.js'
import { seedDesk, signIn } from '../helpers/fixtures.js'
import { Visitor } from '../helpers/visitor.js'

// Pages render with `PageEta`: an include copies nothing. A component (views/partials/)
// sees its arguments and the globals; any other template also reads its includer's names,
// through a prototype. These hold it to that and to Eta's meaning of include and layout.

const globals = { url: (path: string) => `/base${path}` }

function etaWith (templates: Record<string, string>): PageEta {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-views-'))
  for (const [name, text] of Object.entries(templates)) {
    mkdirSync(dirname(join(dir, `${name}.eta`)), { recursive: true })
    writeFileSync(join(dir, `${name}.eta`), text)
  }
  return new PageEta({ views: dir, cache: true, autoEscape: true }, globals)
}

t.test('an include sees its includer’s names and its own, and gives nothing back', async (t) => {
  const eta = etaWith({
    page: "<% layout('/layout', { title: 'T-' + it.who }) %>[<%~ include('/outer', { who: 'outer arg', extra: 1 }) %>|<%= it.who %>|<%= it.extra ?? 'no extra' %>|<%~ include('/leaf') %>]",
    outer: "<%= it.who %>/<%= it.shared %>/<%~ include('/leaf', { depth: 2 }) %>",
    leaf: '(<%= it.who %> <%= it.shared %> <%= it.depth ?? 0 %> <%= it.extra ?? "-" %>)',
    layout: '<title><%= it.title %></title><%= it.shared %>:<%~ it.body %>'
  })
  const html = eta.render('/page', { who: 'page', shared: 'S' })
  t.equal(html,
    '<title>T-page</title>S:[outer arg/S/(outer arg S 2 1)|page|no extra|(page S 0 -)]',
    'arguments override the includer’s names for the partial alone; the layout gets the page’s names, its own data and the body')
})

t.test('a component sees what it is passed and the globals, not its includer’s names', async (t) => {
  const eta = etaWith({
    page: "<%~ include('/partials/_card', { title: 'T' }) %>|<%~ include('/section', { title: 'S' }) %>",
    section: "<%= it.title %>:<%= it.secret %>:<%~ include('/partials/_card', { title: it.title + '!' }) %>",
    'partials/_card': "[<%= it.title %> <%= it.secret ?? 'no secret' %> <%= it.url('/x') %>]"
  })
  t.equal(eta.render('/page', { ...globals, secret: 'page data' }), '[T no secret /base/x]|S:page data:[S! no secret /base/x]')
})

t.test('an include copies none of its includer’s names: a name is read only where a template reads it', async (t) => {
  const eta = etaWith({
    page: "<% layout('/layout') %><%~ include('/leaf', { n: 1 }) %><%~ include('/leaf', { n: 2 }) %><%~ include('/leaf') %><%~ include('/partials/_leaf', { n: 3 }) %>",
    leaf: '<%= it.n ?? 0 %>',
    'partials/_leaf': '<%= it.n %>',
    layout: '<%~ it.body %>:<%= it.costly %>'
  })
  let reads = 0
  const data = { get costly () { reads++; return 'C' } }
  t.equal(eta.render('/page', data), '1203:C')
  t.equal(reads, 1, 'only the layout read it (a copy per include and per layout read it on each)')
})

t.test('no template copies `it` into an include or writes to it', async (t) => {
  const files = readdirSync(viewsDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.eta'))
  t.ok(files.length > 50, 'the views were found')
  const found = (pattern: RegExp): string[] => files.filter((file) => pattern.test(readFileSync(join(viewsDir, file), 'utf8')))
  // A copy would hold only its includer's own names.
  t.same(found(/\.\.\.it\b(?!\.)/), [], 'an include passes only what it adds; the partial reads the rest from its includer')
  // An include given no data (or `it`) shares its includer's object.
  t.same(found(/\bit\.[\w$]+\s*(=(?!=)|\+=|-=)/), [], 'templates only read it')
})

t.test('a page goes out as its exact UTF-8 bytes, whether short or longer than the encoding buffer', async (t) => {
  const app = await testApp(t)
  await seedDesk(app)
  // Kept on the form after the mistake (no address), so the page holds it: ~20,000
  // characters fit the buffer, ~100,000 of up to 4 bytes each do not.
  for (const message of ['Zażółć gęślą jaźń — “quoted” 😀 '.repeat(600), 'ł€😀'.repeat(30_000)]) {
    const visitor = new Visitor(app)
    const page = await visitor.get('/tickets/new')
    const shown = await visitor.submit(page, 'form[action="/tickets"]', { topic: page.$('#ticket-topic option[value!=""]').first().attr('value')!, name: 'Ana', email: '', subject: 'Bytes', message })
    t.equal(shown.status, 422)
    t.equal(Number(shown.headers['content-length']), Buffer.byteLength(shown.html), `Content-Length counts the bytes of ${message.length} characters`)
    t.equal(shown.$('textarea[name=message]').text(), message, 'and the text arrives whole')
  }
})

// Node writes an ASCII page to the socket several times faster than a page with one
// character beyond ASCII, so pages are ASCII whenever what they show allows it.
t.test('the templates’ own text beyond ASCII goes out as character references', async (t) => {
  const eta = etaWith({ page: '<title>Queues · Desk</title><a title="Back ←">← Back</a> — “<%= it.name %>” 😀 <%~ it.raw %>' })
  t.equal(eta.render('/page', { name: 'Zoë', raw: '<b>ok</b>' }),
    '<title>Queues &#183; Desk</title><a title="Back &#8592;">&#8592; Back</a> &#8212; &#8220;Zo&#235;&#8221; &#128512; <b>ok</b>',
    'the template’s punctuation and emoji are references, and so is the name’s Latin-1 letter')
})

t.test('escaping writes Latin-1 letters and typographic punctuation as references, and keeps other scripts', async (t) => {
  t.equal(escapeHtml('It’s “done” — see <a href="x">…</a> & more\u00a0→'),
    'It&#8217;s &#8220;done&#8221; &#8212; see &lt;a href=&quot;x&quot;&gt;&#8230;&lt;/a&gt; &amp; more&#160;&#8594;')
  t.equal(escapeHtml('Björn Müller, café'), 'Bj&#246;rn M&#252;ller, caf&#233;')
  t.equal(escapeHtml('Привет, 東京, 😀'), 'Привет, 東京, 😀', 'letters of other scripts go out as UTF-8, lighter than references')
  const names = Array.from({ length: 10_050 }, (_, i) => `Jörg ${i}`)
  t.ok([...names, ...names].every((name) => escapeHtml(name) === name.replace('ö', '&#246;')), 'a name seen before is escaped as the first time, past the 10,000 kept')
  t.equal(escapeHtml(42), '42')
  t.equal(escapeHtml("O'Neil"), 'O&#39;Neil')
  t.equal(escapeHtml(null), 'null', 'as Eta: anything else is its String()')
  const twoByte = 'Bob’s printer'
  t.ok(isOneByte(escapeHtml(twoByte)), 'text that held a curly quote comes back as one-byte text, as ASCII')
  t.ok(isOneByte(escapeHtml('Zoë’s')), 'and so does a name with a Latin-1 letter')
  t.ok(isOneByte(escapeHtml('Zoë & Jörg don\'t mind. '.repeat(20))), 'a long Latin-1 text, escaped afresh, is one-byte text too')
  t.notOk(isOneByte(escapeHtml('Олег’s')), 'text in another script stays as it is')
})

t.test('a queue page and a ticket page about Western European text with curly quotes and dashes are sent as ASCII', async (t) => {
  const app = await testApp(t)
  const desk = await seedDesk(app)
  const opened = await app.lifecycle.openTicket({
    name: 'Grete Müller', email: 'grete@example.com', subject: 'Printer “jams” — page two', message: 'It’s jammed… again, señor.', helpTopicId: desk.topics.broken
  })
  const { visitor } = await signIn(app, desk.agents.bob.email)
  for (const url of ['/staff/queues/open', `/staff/tickets/${opened.ticket.number}`]) {
    const page = await visitor.get(url)
    t.equal(page.status, 200)
    t.notOk(/[^\0-\x7f]/.test(page.html), `${url} is all ASCII`)
    t.ok(page.text.includes('Printer “jams” — page two'), 'and reads as typed')
  }
  const ticket = await visitor.get(`/staff/tickets/${opened.ticket.number}`)
  t.ok(ticket.text.includes('It’s jammed… again, señor.'))
  t.ok(ticket.text.includes('Grete Müller'))
})

/** Whether V8 holds `text` as one byte a character (the serializer says so in its tag). */
function isOneByte (text: string): boolean {
  return serialize(text)[2] === 0x22
}

t.test('a compiled template makes only the helpers it calls, and layouts and blocks still work', async (t) => {
  const eta = etaWith({
    page: "<% layout('/layout') %><% block('aside', () => { %>A<% }) %>[<%~ include('/leaf', { n: 1 }) %>]",
    leaf: '<%= it.n %>',
    layout: "<%~ block('aside') %>|<%~ it.body %>"
  })
  t.equal(eta.render('/page', {}), 'A|[1]')
  const leaf = eta.compileToString('<%= it.n %>', {})
  t.notMatch(leaf, /function (layout|output|capture|block|captureAsync|blockAsync)\(|includeAsync =/, 'a leaf defines none of them')
  t.match(leaf, /let include = /, 'but include, which a layout needs')
  const page = eta.compileToString("<% layout('/l') %><% block('x', () => { %>x<% }) %>", {})
  t.match(page, /function layout\(/)
  t.match(page, /function block\(/)
  t.match(page, /function capture\(/, 'block calls capture')
  t.notMatch(page, /captureAsync|blockAsync|includeAsync/)
})
