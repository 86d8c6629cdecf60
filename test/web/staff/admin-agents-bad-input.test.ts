import t from 'tap'
import { countAgents, findAgentByEmail } from '../../../src/data/agents.js'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'

const form = { 'content-type': 'application/x-www-form-urlencoded' }

t.test('bad input on the agent forms gets 422 with the text kept and the message beside its field, never a 500', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { support } = desk.departments
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const list = await ada.get('/staff/admin/agents')
  const agents = await countAgents(app.db)

  const cases: Array<[string, Record<string, string>, string, string]> = [
    ['a name too long', { name: 'N'.repeat(121), email: 'new@desk.test' }, '#invite-name', 'Name must be 120 characters or fewer.'],
    ['a missing name', { name: '   ', email: 'new@desk.test' }, '#invite-name', 'Enter the agent’s name.'],
    ['a malformed e-mail', { name: 'Nia <b>New</b>', email: 'not an address' }, '#invite-email', 'Enter an e-mail address like name@example.com.'],
    ['a duplicate e-mail, in other case', { name: 'Nia New', email: 'BOB@desk.test' }, '#invite-email', 'Another agent already has that e-mail address.'],
    ['a role outside the list', { name: 'Nia New', email: 'nia@desk.test', [`role_${support}`]: 'view only' }, `#invite-role_${support}`, 'Choose view only, agent, manager or no role.'],
    ['a department that does not exist', { name: 'Nia New', email: 'nia@desk.test', role_999999: 'agent' }, '.error-summary', 'That department does not exist'],
    ['a department id that is not a number', { name: 'Nia New', email: 'nia@desk.test', 'role_1; drop table agents': 'agent' }, '.error-summary', 'That department does not exist']
  ]
  for (const [what, fields, where, message] of cases) {
    const page = await ada.submit(list, 'form[action="/staff/admin/agents"]', fields)
    t.equal(page.status, 422, what)
    t.match(page.$(where).closest('.field').text() || page.$(where).text(), message, `${what}: the message is beside the field`)
    t.equal(page.$('#invite-name').attr('value'), fields.name, `${what}: the name typed is kept`)
    t.equal(page.$('#invite-email').attr('value'), fields.email, `${what}: the e-mail typed is kept`)
  }
  t.equal(await countAgents(app.db), agents, 'nobody was invited')

  const csrf = encodeURIComponent(list.$('input[name=_csrf]').first().attr('value')!)
  const twice = await ada.post('/staff/admin/agents', `_csrf=${csrf}&name=A&name=B&email=x%40desk.test&role_${support}=agent&role_${support}=view`, { headers: form })
  t.equal(twice.status, 422, 'fields sent twice')
  const kept = await ada.post('/staff/admin/agents', `_csrf=${csrf}&name=Nia&email=nia%40desk.test&is_admin=${'y'.repeat(10)}`, { headers: form })
  t.equal(kept.status, 422, 'an oversized checkbox value')

  const bob = desk.agents.bob
  let page = await ada.get(`/staff/admin/agents/${bob.id}`)
  page = await ada.submit(page, `form[action="/staff/admin/agents/${bob.id}"]`, { name: 'Robert', email: desk.agents.vic.email.toUpperCase() })
  t.equal(page.status, 422, 'editing to another agent’s address')
  t.match(page.$('#agent-email').closest('.field').text(), 'Another agent already has that e-mail address.')
  t.equal(page.$('#agent-name').attr('value'), 'Robert', 'the text is kept')
  t.equal((await findAgentByEmail(app.db, bob.email))!.name, 'Bob Kahn', 'nothing saved')
  page = await ada.submit(await ada.get(`/staff/admin/agents/${bob.id}`), `form[action="/staff/admin/agents/${bob.id}"]`, { [`role_${support}`]: 'owner' })
  t.equal(page.status, 422, 'a role outside the list')
  t.match(page.$(`#agent-role_${support}`).closest('.field').text(), 'Choose view only, agent, manager or no role.')

  for (const url of ['/staff/admin/agents/999999', '/staff/admin/agents/abc', '/staff/admin/agents/99999999999999999999']) {
    t.equal((await ada.get(url)).status, 404, `GET ${url}`)
    t.equal((await ada.post(url, `_csrf=${csrf}&name=X&email=x%40desk.test`, { headers: form })).status, 404, `POST ${url}`)
    t.equal((await ada.post(`${url}/disablement`, `_csrf=${csrf}`, { headers: form })).status, 404, `POST ${url}/disablement`)
  }

  await app.db('agents').where({ id: bob.id }).update({ active: false })
  await app.db('tickets').insert({ number: '900001', subject: 'Jam', status: 'open', priority: 2, department_id: support, requester_id: (await app.db('requesters').insert({ name: 'R', email: 'r@example.com', created_at: 0 }).returning('id').then((r) => typeof r[0] === 'object' ? r[0].id : r[0])), assignee_id: bob.id, created_at: 0, last_activity_at: 0 })
  for (const agent of ['999999', 'x', '']) {
    const answer = await ada.post(`/staff/admin/agents/${bob.id}/tickets/reassignment`, `_csrf=${csrf}&agent=${agent}`, { headers: form })
    t.equal(answer.status, 422, `reassigning to "${agent}"`)
  }
})

t.test('a manager and a plain agent get 404 on every agent page and POST', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const target = desk.agents.ned.id
  for (const who of [desk.agents.mel, desk.agents.bob]) {
    const { visitor, page } = await signIn(app, who.email)
    const csrf = encodeURIComponent(page.$('input[name=_csrf]').first().attr('value')!)
    t.equal((await visitor.get('/staff/admin/agents')).status, 404, `${who.name}: the list`)
    t.equal((await visitor.get(`/staff/admin/agents/${target}`)).status, 404, `${who.name}: an agent`)
    for (const path of ['', `/${target}`, `/${target}/invitation`, `/${target}/revocation`, `/${target}/disablement`, `/${target}/enablement`,
      `/${target}/password-reset`, `/${target}/tickets/release`, `/${target}/tickets/reassignment`]) {
      const answer = await visitor.post(`/staff/admin/agents${path}`, `_csrf=${csrf}&name=X&email=x%40desk.test&is_admin=yes&agent=${who.id}`, { headers: form })
      t.equal(answer.status, 404, `${who.name}: POST /staff/admin/agents${path}`)
    }
  }
  const ned = await findAgentByEmail(app.db, desk.agents.ned.email)
  t.equal(ned!.active, true, 'nothing changed')
  t.equal(ned!.is_admin, false)
})

t.test('the database itself refuses a role outside the list; stray roles became view', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  await t.rejects(app.db('agent_departments').insert({ agent_id: desk.agents.ned.id, department_id: desk.departments.support, role: 'view only' }), 'a CHECK constraint')
  await t.rejects(app.db('agent_departments').where({ agent_id: desk.agents.bob.id }).update({ role: 'owner' }))

  // Back to before the role migrations, a stray value as the old README suggested, and forward again.
  while ((await app.db.migrate.currentVersion()) >= '20261201120000') await app.db.migrate.down()
  await app.db('agent_departments').where({ agent_id: desk.agents.bob.id }).update({ role: 'view only' })
  await app.db.migrate.latest()
  t.same(await app.db('agent_departments').where({ agent_id: desk.agents.bob.id }).select('role'), [{ role: 'view' }])
  t.same(await app.db('agent_departments').where({ agent_id: desk.agents.mel.id }).select('role'), [{ role: 'manager' }], 'valid roles are kept')
  await t.rejects(app.db('agent_departments').insert({ agent_id: desk.agents.ned.id, department_id: desk.departments.support, role: 'view only' }), 'the constraint is back')
})
