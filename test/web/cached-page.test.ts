import { gunzipSync } from 'node:zlib'
import t from 'tap'
import { testApp } from '../helpers/app.js'

t.test('the portal home is compressed once and served the same to every gzip client', async (t) => {
  const app = await testApp(t)
  const plain = await app.inject('/')
  t.equal(plain.statusCode, 200)
  t.equal(plain.headers['content-encoding'], undefined, 'no gzip for a client that does not ask')
  t.match(plain.body, 'Open a ticket')

  const first = await app.inject({ url: '/', headers: { 'accept-encoding': 'br;q=1.0, gzip;q=0.8' } })
  const second = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip, deflate' } })
  t.equal(first.headers['content-encoding'], 'gzip')
  t.equal(gunzipSync(first.rawPayload).toString('utf8'), plain.body, 'the same page, compressed')
  t.ok(first.rawPayload.equals(second.rawPayload), 'the same bytes each time: compressed once')
  t.ok(first.rawPayload.length < plain.body.length / 2)
  t.match(first.headers.vary, /Accept-Encoding/)
  t.match(first.headers.vary, /HX-Request/)
  t.equal(first.headers['content-security-policy'], plain.headers['content-security-policy'], 'and the security headers')

  const refused = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip;q=0, identity' } })
  t.equal(refused.headers['content-encoding'], undefined, 'gzip;q=0 means no gzip')
  t.equal(refused.body, plain.body)
})

t.test('at the default level, one log line per request', async (t) => {
  const lines: string[] = []
  const app = await testApp(t, { LOG_LEVEL: 'info' }, { logStream: { write: (line) => { lines.push(line) } } })
  lines.length = 0
  await app.inject('/')
  await app.inject('/tickets/new')
  const logged = lines.map((line) => JSON.parse(line) as { msg: string, req?: { method: string, url: string }, status?: number })
  t.same(logged.map((line) => [line.msg, line.req?.url, line.status]), [['request completed', '/', 200], ['request completed', '/tickets/new', 200]])
})
