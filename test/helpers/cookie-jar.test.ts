import t from 'tap'
import { CookieJar } from './cookie-jar.js'

t.test('cookies go back only under their path, longest path first, and leave when expired', async (t) => {
  const jar = new CookieJar()
  jar.store(['tessera_csrf=abc.def; Path=/; HttpOnly; SameSite=Lax', 'tessera_access=tok%2Fen; Path=/tickets/482913; Max-Age=7776000'], 'http://desk.test/tickets/482913/created')
  t.equal(jar.header('http://desk.test/tickets/482913'), 'tessera_access=tok%2Fen; tessera_csrf=abc.def', 'kept as sent, still URL-encoded')
  t.equal(jar.header('/tickets/4829130'), 'tessera_csrf=abc.def', 'a longer number is another path')
  t.equal(jar.header('/'), 'tessera_csrf=abc.def')
  t.equal(jar.get('tessera_access', '/tickets/482913'), 'tok%2Fen')

  jar.store(['tessera_access=; Path=/tickets/482913; Expires=Thu, 01 Jan 1970 00:00:00 GMT'], '/tickets/482913')
  t.equal(jar.get('tessera_access'), undefined, 'an expired cookie is dropped')
  jar.store(['flash=hello'], '/staff/tickets/5/replies')
  t.equal(jar.get('flash', '/staff/tickets/5'), 'hello', 'without Path: the directory of the request')
  jar.store(['flash=x; Path=/staff/tickets/5; Max-Age=0'], '/staff/tickets/5')
  t.equal(jar.get('flash'), undefined, 'Max-Age=0 deletes')
  jar.clear()
  t.equal(jar.header('/'), '')
})
