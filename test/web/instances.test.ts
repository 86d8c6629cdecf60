import t from 'tap'
import { sharedApps } from '../helpers/app.js'
import { password, seedDesk } from '../helpers/fixtures.js'
import { Visitor } from '../helpers/visitor.js'

t.test('a session made on one instance works on another', async (t) => {
  const [first, second] = await sharedApps(t, 2)
  const desk = await seedDesk(first!)
  const onFirst = new Visitor(first!)
  const login = await onFirst.get('/staff/login')
  const queue = await onFirst.submit(login, 'form', { email: desk.agents.bob.email, password })
  t.match(queue.url, /^\/staff\/queues\//)

  const res = await second!.inject({ url: '/staff/queues/open', headers: { cookie: `tessera_staff=${onFirst.cookie('tessera_staff')!}` } })
  t.equal(res.statusCode, 200, 'the second instance knows the session')
  t.match(res.body, 'Bob Kahn')
})

t.test('ticket numbers stay unique when instances create tickets at the same time', async (t) => {
  const [first, second] = await sharedApps(t, 2)
  const input = { name: 'Grace Hopper', email: 'grace@example.com', subject: 'S', message: 'M', helpTopicId: 1 }
  const created = await Promise.all(Array.from({ length: 40 }, async (_, i) => await (i % 2 === 0 ? first! : second!).lifecycle.openTicket(input)))
  const numbers = created.map((c) => c.ticket.number)
  t.equal(new Set(numbers).size, 40, 'forty tickets, forty numbers')
  t.equal((await first!.db('tickets').select('number')).length, 40)
})

t.test('health endpoints answer for the proxy', async (t) => {
  const [app] = await sharedApps(t, 1)
  t.same((await app!.inject('/healthz')).json(), { status: 'ok' })
  const ready = await app!.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready' })
  await app!.db.destroy()
  const down = await app!.inject('/readyz')
  t.equal(down.statusCode, 503, 'not ready without a database')
})
