import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { testApp } from '../helpers/app.js'
import { password, seedDesk } from '../helpers/fixtures.js'
import { Visitor, type Page } from '../helpers/visitor.js'
import { freePort } from '../helpers/net.js'
import { findProgram, programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.nginx)

const nginx = findProgram(programs.nginx) ?? 'nginx'

/**
 * How a proxy hands on the sub-path: `keep` sends /support/staff on as is (`proxy_pass
 * http://up;`, IIS ARR with {UNENCODED_URL}); `strip` sends /staff and says where it was
 * in X-Forwarded-Prefix (`proxy_pass http://up/;`, most Kubernetes ingresses).
 */
type ProxyStyle = 'keep' | 'strip'

/**
 * nginx from Debian on 127.0.0.1 with two front doors to the app under /support/: one plain
 * http, one that says the browser came over https (as a proxy ending TLS would).
 */
async function startNginx (t: Test, appPort: number, style: ProxyStyle): Promise<{ http: string, https: string }> {
  // A folder of its own: t.testdir() would empty the test's folder, the app's database with it.
  const dir = mkdtempSync(join(tmpdir(), 'tessera-nginx-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const [httpPort, httpsPort] = [await freePort(), await freePort()]
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub))
  const location = (proto: string): string => `
    location /support/ {
      proxy_pass http://127.0.0.1:${appPort}${style === 'strip' ? '/' : ''};
      ${style === 'strip' ? 'proxy_set_header X-Forwarded-Prefix /support;' : ''}
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto ${proto};
    }`
  writeFileSync(join(dir, 'nginx.conf'), `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server { listen 127.0.0.1:${httpPort}; ${location('$scheme')} }
  server { listen 127.0.0.1:${httpsPort}; ${location('https')} }
}`)
  const child = spawn(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' })
  t.teardown(() => { child.kill('SIGQUIT') })
  const http = `http://127.0.0.1:${httpPort}`
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${http}/support/healthz`).then((r) => r.ok, () => false)
    if (up) return { http, https: `http://127.0.0.1:${httpsPort}` }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('nginx did not start')
}

/** Every link, form, script and stylesheet on the page stays under /support/. */
function assertUnderSubPath (t: Test, page: Page): void {
  const urls = [
    ...page.$('a[href]').map((_, el) => page.$(el).attr('href')).get(),
    ...page.$('form[action]').map((_, el) => page.$(el).attr('action')).get(),
    ...page.$('[formaction]').map((_, el) => page.$(el).attr('formaction')).get(),
    ...page.$('[data-hx-get], [data-hx-post]').map((_, el) => page.$(el).attr('data-hx-get') ?? page.$(el).attr('data-hx-post')).get(),
    ...page.$('link[href], script[src]').map((_, el) => page.$(el).attr('href') ?? page.$(el).attr('src')).get()
  ].filter((url) => !url.startsWith('#'))
  const outside = urls.filter((url) => !url.startsWith('/support/') && !url.startsWith('http://help.example.test/support/'))
  t.same(outside, [], `${page.url}: nothing escapes the sub-path`)
}

for (const style of ['keep', 'strip'] as const) {
  t.test(`behind nginx under /support/ (a proxy that ${style}s the sub-path), the portal and the staff panel work and stay inside it`, { skip }, async (t) => {
    const app = await testApp(t, { BASE_PATH: '/support', TRUST_PROXY: '127.0.0.1' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const proxy = await startNginx(t, (app.server.address() as AddressInfo).port, style)
    const desk = await seedDesk(app)

    const visitor = new Visitor(app, proxy.http)
    const home = await visitor.get('/support/')
    t.equal(home.status, 200)
    assertUnderSubPath(t, home)
    const css = await visitor.get(home.$('link[rel=stylesheet]').attr('href')!)
    t.equal(css.status, 200, 'assets load through the proxy')

    const form = await visitor.get(home.$('a:contains("Open a ticket")').first().attr('href')!)
    assertUnderSubPath(t, form)
    const created = await visitor.submit(form, 'form[action="/support/tickets"]', {
      topic: String(desk.topics.broken), name: 'Grace Hopper', email: 'grace@example.com', subject: 'Proxy test', message: 'Through nginx.'
    })
    t.match(created.text, /Ticket \d{6} received/)
    assertUnderSubPath(t, created)
    const privateLink = created.$('.private-link a').attr('href')!
    t.match(privateLink, /^http:\/\/help\.example\.test\/support\/tickets\/\d+\/access\//, 'e-mailed links carry the sub-path')

    const ticket = await visitor.get(created.$('a:contains("View your ticket")').attr('href')!)
    t.equal(ticket.status, 200)
    assertUnderSubPath(t, ticket)
    const replied = await visitor.submit(ticket, 'form[action$="/replies"]', { message: 'A reply through the proxy.' })
    t.match(replied.text, 'A reply through the proxy.')

    const agent = new Visitor(app, proxy.http)
    const login = await agent.get('/support/staff')
    t.equal(login.url, '/support/staff/login?next=%2Fsupport%2Fstaff')
    const queue = await agent.submit(login, 'form', { email: desk.agents.bob.email, password })
    t.equal(queue.status, 200, 'the login cookie works through the proxy')
    assertUnderSubPath(t, queue)
    const staffTicket = await agent.get(queue.$('a:contains("Proxy test")').attr('href')!)
    t.equal(staffTicket.status, 200)
    assertUnderSubPath(t, staffTicket)
    t.match(agent.setCookieHeaders.find((c) => c.startsWith('tessera_staff='))!, /Path=\/support\/staff/)
    t.notMatch(agent.setCookieHeaders.join('\n'), /Secure/, 'plain http gets no Secure cookies')

    const secure = new Visitor(app, proxy.https)
    const secureLogin = await secure.get('/support/staff/login')
    await secure.submit(secureLogin, 'form', { email: desk.agents.bob.email, password }, { follow: false })
    const cookies = secure.setCookieHeaders
    t.ok(cookies.length >= 2)
    for (const cookie of cookies) t.match(cookie, /; Secure/, `https at the proxy makes ${cookie.split('=')[0]} Secure`)

    t.equal((await visitor.get('/support/no-such-page')).status, 404)
    const slashed = await visitor.get('/support/staff/', { follow: false })
    t.equal(slashed.status, 303, 'a trailing slash redirects')
    t.equal(slashed.headers.location, '/support/staff')
  })
}
