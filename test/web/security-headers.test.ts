import t from 'tap'
import { testApp } from '../helpers/app.js'

const pageHeaders = ['content-security-policy', 'referrer-policy', 'x-content-type-options', 'x-frame-options', 'cross-origin-opener-policy']

t.test('every answer carries the security headers: pages, assets, 404, 405 and the malformed-URL 400', async (t) => {
  const app = await testApp(t)
  const home = await app.inject('/')
  for (const url of ['/', '/tickets/new', '/nothing-here', '/%E0%A4%A', '/tickets/%zz', '/healthz']) {
    const res = await app.inject(url)
    for (const name of pageHeaders) t.equal(res.headers[name], home.headers[name], `${url} (${res.statusCode}): ${name}`)
    t.equal(res.headers['strict-transport-security'], undefined, 'no HSTS while BASE_URL is http')
  }
  const malformed = await app.inject('/%E0%A4%A')
  t.equal(malformed.statusCode, 400)
  t.match(malformed.body, 'That request could not be understood.')
  t.equal(home.headers['referrer-policy'], 'no-referrer')
  t.match(home.headers['content-security-policy'], "default-src 'self';script-src 'self'")
})

t.test('with an https BASE_URL every answer, errors included, offers HSTS', async (t) => {
  const app = await testApp(t, { BASE_URL: 'https://help.example.test' })
  for (const url of ['/', '/nothing-here', '/%E0%A4%A']) {
    const res = await app.inject(url)
    t.equal(res.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', `${url} (${res.statusCode})`)
  }
})
