import t from 'tap'
import { accessCacheMs } from '../src/web/session-store.js'
import { listAdminEvents } from '../src/data/admin-log.js'
import { findAgentByEmail } from '../src/data/agents.js'
import { listOutbox } from '../src/data/outbox.js'
import { testApp } from './helpers/app.js'
import { runCli } from './helpers/cli.js'
import { Visitor } from './helpers/visitor.js'
import { tokenInSentMail } from './helpers/mail.js'

// Apart from test/cli.test.ts: the one long story here runs the CLI a dozen times, and
// sharing a file put both near tap's per-file time limit on a busy machine.

t.test('agents are invited, given roles, disabled and enabled from the shell, by the same verbs as the admin pages', async (t) => {
  const app = await testApp(t)
  await runCli(app, ['create-agent', '--name', 'Ada Lovelace', '--email', 'ada@desk.test', '--admin'], 'a long passphrase\n')

  const invited = await runCli(app, ['invite', '--name', 'Bob Kahn', '--email', 'Bob@Desk.test', '--role', 'support=view'])
  t.equal(invited.code, 0, invited.stderr)
  t.match(invited.stdout, 'Invited bob@desk.test')
  const bob = await findAgentByEmail(app.db, 'bob@desk.test')
  t.equal(bob?.password_hash, null)
  const [invitation] = await listOutbox(app.db, { toAddress: 'bob@desk.test' })
  t.equal(invitation?.template, 'invitation')
  const support = (await app.db('departments').where({ name: 'Support' }).first('id')).id as number
  t.same(await app.db('agent_departments').where({ agent_id: bob!.id }).select('department_id', 'role'), [{ department_id: support, role: 'view' }])

  const setRole = await runCli(app, ['set-role', '--email', 'bob@desk.test', '--department', 'Support', '--role', 'manager'])
  t.equal(setRole.code, 0, setRole.stderr)
  t.match(setRole.stdout, 'bob@desk.test is manager in Support.')
  t.same(await app.db('agent_departments').where({ agent_id: bob!.id }).select('role'), [{ role: 'manager' }])
  const bad = await runCli(app, ['set-role', '--email', 'bob@desk.test', '--department', 'Support', '--role', 'view only'])
  t.equal(bad.code, 1)
  t.match(bad.stderr, 'A role is one of view, agent, manager or none')
  t.equal((await runCli(app, ['set-role', '--email', 'bob@desk.test', '--department', 'Nowhere', '--role', 'agent'])).code, 1, 'an unknown department')
  t.equal((await runCli(app, ['disable', '--email', 'nobody@desk.test'])).code, 1, 'an unknown agent')
  t.equal((await runCli(app, ['invite', '--name', 'Bob', '--email', 'bob@desk.test'])).code, 1, 'an address already taken')

  const token = await tokenInSentMail(app, invitation!.id)
  const visitor = new Visitor(app)
  await visitor.submit(await visitor.get(`/staff/password-reset/${token}`), 'form', { password: 'bob chooses this', confirm: 'bob chooses this' })
  await visitor.submit(await visitor.get('/staff/login'), 'form', { email: 'bob@desk.test', password: 'bob chooses this' })
  t.equal((await visitor.get('/staff/queues/open')).status, 200)

  const disabled = await runCli(app, ['disable', '--email', 'bob@desk.test'])
  t.equal(disabled.code, 0, disabled.stderr)
  t.match(disabled.stdout, 'bob@desk.test is disabled and signed out everywhere.')
  // The shell is another instance: the app notices within the second it may remember a session.
  await new Promise((resolve) => setTimeout(resolve, accessCacheMs + 100))
  t.match((await visitor.get('/staff/queues/open')).url, /^\/staff\/login/, 'their session ended')
  const enabled = await runCli(app, ['enable', '--email', 'bob@desk.test'])
  t.equal(enabled.code, 0, enabled.stderr)
  t.ok((await findAgentByEmail(app.db, 'bob@desk.test'))!.active)

  const logged = (await listAdminEvents(app.db, { subjectType: 'agent' }, 10)).map((e) => e.action).reverse()
  t.same(logged, ['invited', 'updated', 'disabled', 'enabled'], 'each change is in the admin log')
  t.equal((await runCli(app, ['disable', '--email', 'ada@desk.test'])).code, 1, 'the last administrator is not disabled')
})
