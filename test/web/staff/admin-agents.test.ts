import t from 'tap'
import { listAdminEvents } from '../../../src/data/admin-log.js'
import { findAgentByEmail } from '../../../src/data/agents.js'
import { listOutbox } from '../../../src/data/outbox.js'
import { findTicketByNumber, listEvents } from '../../../src/data/tickets.js'
import { agentActor } from '../../../src/domain/permissions.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, password, seedDesk, signIn } from '../../helpers/fixtures.js'
import { tokenInSentMail } from '../../helpers/mail.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

const form = { 'content-type': 'application/x-www-form-urlencoded' }
const inviteForm = 'form[action="/staff/admin/agents"]'
const agentForm = (id: number, path = ''): string => `form[action="/staff/admin/agents/${id}${path}"]`

async function acceptInvitation (app: Parameters<typeof tokenInSentMail>[0], token: string, chosen: string): Promise<Page> {
  const visitor = new Visitor(app)
  const form = await visitor.get(`/staff/password-reset/${token}`)
  return await visitor.submit(form, 'form', { password: chosen, confirm: chosen })
}

async function loggedActions (app: Parameters<typeof tokenInSentMail>[0], subjectId: number): Promise<string[]> {
  const events = await listAdminEvents(app.db, { subjectType: 'agent' }, 100)
  return events.filter((e) => e.subject_id === subjectId).map((e) => e.action).reverse()
}

t.test('an administrator invites an agent with a role; re-sending retires the first link; the accepted agent is active', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  let page = await ada.get('/staff/admin/agents')
  t.equal(page.status, 200)
  const bobRow = page.$('tbody tr').filter((_, row) => page.$(row).text().includes('Bob Kahn')).text()
  t.match(bobRow, /bob@desk\.test[\s\S]*Active[\s\S]*No[\s\S]*Support: Agent/, 'each agent with status, administrator or not, and roles')
  t.match(page.text, /View only\s*Read its tickets\./, 'what each role allows, from the permissions table')
  t.match(page.text, /Manager\s*Everything Agent allows, and merge, delete and restore tickets\./)

  page = await ada.submit(page, inviteForm, { name: 'Zoe Zhang', email: 'Zoe@Desk.TEST', [`role_${desk.departments.support}`]: 'agent' })
  t.equal(page.url, '/staff/admin/agents')
  t.match(page.text, 'Zoe Zhang is invited')
  const zoe = await findAgentByEmail(app.db, 'zoe@desk.test')
  t.ok(zoe, 'the address is stored normalised')
  t.equal(zoe!.password_hash, null)
  t.match(page.$('tbody tr').filter((_, row) => page.$(row).text().includes('Zoe Zhang')).text(), /Invited \(link valid until/)

  const ticket = await openTicket(app, desk.topics.broken)
  const assignOptions = async (): Promise<string[]> => (await ada.get(`/staff/tickets/${ticket.number}`)).$('#assign-agent option').map((_, o) => page.$(o).text()).get()
  t.notOk((await assignOptions()).includes('Zoe Zhang'), 'an invitation not yet accepted is not offered in Assign lists')

  const [first] = await listOutbox(app.db, { toAddress: 'zoe@desk.test' })
  t.equal(first?.template, 'invitation')
  const firstToken = await tokenInSentMail(app, first!.id)

  page = await ada.get(`/staff/admin/agents/${zoe!.id}`)
  page = await ada.submit(page, agentForm(zoe!.id, '/invitation'))
  t.match(page.text, 'A fresh invitation is on its way to zoe@desk.test')
  const second = (await listOutbox(app.db, { toAddress: 'zoe@desk.test' })).filter((m) => m.template === 'invitation')[1]
  t.equal(second?.template, 'invitation')
  const secondToken = await tokenInSentMail(app, second!.id)
  t.equal((await new Visitor(app).get(`/staff/password-reset/${firstToken}`)).status, 404, 'the first link no longer works')

  t.equal((await new Visitor(app).get(`/staff/password-reset/${secondToken}`)).$('h1').text(), 'Choose a password', 'an invited agent chooses a password, not a new one')
  const accepted = await acceptInvitation(app, secondToken, 'zoe picks a phrase')
  t.match(accepted.text, 'Your password is set.')
  page = await ada.get('/staff/admin/agents')
  t.match(page.$('tbody tr').filter((_, row) => page.$(row).text().includes('Zoe Zhang')).text(), /Active/)
  t.ok((await assignOptions()).includes('Zoe Zhang'), 'once accepted, an agent of the department is offered')
  t.same(await loggedActions(app, zoe!.id), ['invited', 'invitation_resent'])
  const [invited] = (await listAdminEvents(app.db, { subjectType: 'agent' }, 100)).filter((e) => e.action === 'invited')
  t.notMatch(invited!.after_state ?? '', /hash|token|reset/i, 'no secret in the log')
  t.match(invited!.after_state ?? '', /"Support":"agent"/)
})

t.test('a revoked invitation stops working and the invited agent goes away', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  let page = await ada.submit(await ada.get('/staff/admin/agents'), inviteForm, { name: 'Yan Yu', email: 'yan@desk.test' })
  const yan = (await findAgentByEmail(app.db, 'yan@desk.test'))!
  const [invitation] = await listOutbox(app.db, { toAddress: 'yan@desk.test' })
  const token = await tokenInSentMail(app, invitation!.id)

  page = await ada.submit(await ada.get(`/staff/admin/agents/${yan.id}`), agentForm(yan.id, '/revocation'))
  t.equal(page.url, '/staff/admin/agents')
  t.match(page.text, 'The invitation to yan@desk.test is revoked')
  t.notMatch(page.$('tbody').text(), 'Yan Yu')
  t.equal(await findAgentByEmail(app.db, 'yan@desk.test'), undefined)
  t.equal((await new Visitor(app).get(`/staff/password-reset/${token}`)).status, 404, 'the link no longer works')
  t.same(await loggedActions(app, yan.id), ['invited', 'invitation_revoked'])

  page = await ada.submit(await ada.get('/staff/admin/agents'), inviteForm, { name: 'Yan Yu', email: 'yan@desk.test' })
  t.match(page.text, 'Yan Yu is invited', 'the address can be invited again')
  const bobPage = await ada.get(`/staff/admin/agents/${desk.agents.bob.id}`)
  t.equal(bobPage.$(agentForm(desk.agents.bob.id, '/revocation')).length, 0, 'an agent who accepted has no invitation to revoke')
  const forged = await ada.post(`/staff/admin/agents/${desk.agents.bob.id}/revocation`, `_csrf=${encodeURIComponent(bobPage.$('input[name=_csrf]').first().attr('value')!)}`, { headers: form })
  t.equal(forged.status, 409)
  t.match(forged.text, 'has already accepted the invitation')
  t.ok(await findAgentByEmail(app.db, desk.agents.bob.email))
})

t.test('name, e-mail, administrator and roles are edited, logged before and after; the last administrator stays one', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const { support, billing } = desk.departments
  const vic = desk.agents.vic

  let page = await ada.get(`/staff/admin/agents/${vic.id}`)
  t.equal(page.$(`#agent-role_${support} option[selected]`).attr('value'), 'view')
  page = await ada.submit(page, agentForm(vic.id), { name: 'Victoria Viewer', email: 'Victoria@Desk.test', [`role_${support}`]: '', [`role_${billing}`]: 'manager' })
  t.match(page.text, 'Changes saved.')
  t.equal(page.$('#agent-name').attr('value'), 'Victoria Viewer')
  t.equal(page.$('#agent-email').attr('value'), 'victoria@desk.test')
  t.equal(page.$(`#agent-role_${support} option[selected]`).length, 0, 'no role in Support any more')
  t.equal(page.$(`#agent-role_${billing} option[selected]`).attr('value'), 'manager')
  const access = await app.db('agent_departments').where({ agent_id: vic.id }).select('department_id', 'role')
  t.same(access, [{ department_id: billing, role: 'manager' }])
  const [updated] = await listAdminEvents(app.db, { subjectType: 'agent' }, 1)
  t.equal(updated?.action, 'updated')
  t.same(JSON.parse(updated!.before_state!), { name: 'Vic Viewer', email: 'vic@desk.test', roles: { Support: 'view' } })
  t.same(JSON.parse(updated!.after_state!), { name: 'Victoria Viewer', email: 'victoria@desk.test', roles: { Billing: 'manager' } })

  page = await ada.submit(page, agentForm(vic.id), {})
  t.equal((await listAdminEvents(app.db, { subjectType: 'agent' }, 10)).length, 1, 'saving without a change records nothing')

  page = await ada.submit(page, agentForm(vic.id), { is_admin: 'yes' })
  t.ok((await findAgentByEmail(app.db, 'victoria@desk.test'))!.is_admin, 'made an administrator')
  page = await ada.submit(page, agentForm(vic.id), { is_admin: '' })
  t.notOk((await findAgentByEmail(app.db, 'victoria@desk.test'))!.is_admin, 'and back')

  page = await ada.get(`/staff/admin/agents/${desk.agents.ada.id}`)
  page = await ada.submit(page, agentForm(desk.agents.ada.id), { name: 'Ada King', is_admin: '' })
  t.equal(page.status, 422, 'the last administrator cannot stop being one')
  t.match(page.$('#agent-is_admin').closest('.field').text(), 'needs another administrator')
  t.equal(page.$('#agent-name').attr('value'), 'Ada King', 'the text is kept')
  t.ok((await findAgentByEmail(app.db, desk.agents.ada.email))!.is_admin)
  page = await ada.submit(await ada.get(`/staff/admin/agents/${desk.agents.ada.id}`), agentForm(desk.agents.ada.id, '/disablement'))
  t.equal(page.status, 422, 'nor disable themselves')
  t.match(page.text, 'needs another administrator')
  t.ok((await findAgentByEmail(app.db, desk.agents.ada.email))!.active)

  await ada.submit(await ada.get(`/staff/admin/agents/${desk.agents.bob.id}`), agentForm(desk.agents.bob.id), { is_admin: 'yes' })
  page = await ada.submit(await ada.get(`/staff/admin/agents/${desk.agents.ada.id}`), agentForm(desk.agents.ada.id), { is_admin: '' })
  t.match(page.text, 'Changes saved. You are no longer an administrator.', 'with another administrator, one may step down')
  t.equal(page.url, '/staff/queues/open', 'and lands where they still may be')
  t.notOk((await findAgentByEmail(app.db, desk.agents.ada.email))!.is_admin)
})

t.test('a disabled agent is signed out at once; their open tickets are released or reassigned, each an event', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const tickets = [await openTicket(app, desk.topics.broken, 'One'), await openTicket(app, desk.topics.broken, 'Two')]
  const bobActor = agentActor((await import('../../../src/data/agents.js').then((m) => m.loadAgentAccess(app.db, desk.agents.bob.id)))!)
  for (const ticket of tickets) await app.lifecycle.claimTicket((await findTicketByNumber(app.db, ticket.number))!, bobActor)

  let page = await ada.submit(await ada.get(`/staff/admin/agents/${desk.agents.bob.id}`), agentForm(desk.agents.bob.id, '/disablement'))
  t.match(page.text, 'Bob Kahn is disabled and signed out everywhere.')
  t.equal(await app.db('sessions').where({ agent_id: desk.agents.bob.id }).first(), undefined, 'every session of theirs is gone')
  const next = await bob.get('/staff/queues/open', { follow: false })
  t.equal(next.status, 303)
  t.match(next.headers.location, /^\/staff\/login/, 'their next request goes to sign-in')
  const stranger = new Visitor(app)
  const again = await stranger.submit(await stranger.get('/staff/login'), 'form[action="/staff/login"]', { email: desk.agents.bob.email, password })
  t.equal(again.status, 422, 'and they cannot sign in')

  t.match(page.text, /One[\s\S]*Two/, 'their open tickets are listed')
  const reassign = page.$(agentForm(desk.agents.bob.id, '/tickets/reassignment'))
  const takers = reassign.find('option').map((_, o) => page.$(o).text()).get()
  t.ok(takers.includes('Ada Lovelace'))
  t.notOk(takers.includes('Vic Viewer') || takers.includes('Ned Nobody') || takers.includes('Bob Kahn'), 'only agents who work Support may take them')

  page = await ada.submit(page, agentForm(desk.agents.bob.id, '/tickets/reassignment'), { agent: String(desk.agents.ned.id) })
  t.equal(page.status, 422, 'a forged choice of someone who does not work Support is refused')
  t.match(page.text, 'Nothing was changed.')
  for (const ticket of tickets) t.equal((await findTicketByNumber(app.db, ticket.number))!.assignee_id, desk.agents.bob.id, 'in one transaction: no ticket moved')

  page = await ada.submit(page, agentForm(desk.agents.bob.id, '/tickets/reassignment'), { agent: String(desk.agents.ada.id) })
  t.match(page.text, '2 tickets reassigned.')
  for (const ticket of tickets) {
    t.equal((await findTicketByNumber(app.db, ticket.number))!.assignee_id, desk.agents.ada.id)
    t.equal((await listEvents(app.db, ticket.id)).at(-1)?.type, 'assigned', 'each change is an event on its ticket')
  }

  const third = await openTicket(app, desk.topics.broken, 'Three')
  await app.db('tickets').where({ id: third.id }).update({ assignee_id: desk.agents.bob.id })
  page = await ada.submit(await ada.get(`/staff/admin/agents/${desk.agents.bob.id}`), agentForm(desk.agents.bob.id, '/tickets/release'))
  t.match(page.text, '1 tickets released.')
  t.equal((await findTicketByNumber(app.db, third.number))!.assignee_id, null)
  t.equal((await listEvents(app.db, third.id)).at(-1)?.type, 'released')
  t.match(page.text, 'No open tickets are assigned to Bob Kahn.')

  page = await ada.submit(page, agentForm(desk.agents.bob.id, '/enablement'))
  t.match(page.text, 'Bob Kahn can sign in again.')
  await signIn(app, desk.agents.bob.email)
  t.same(await loggedActions(app, desk.agents.bob.id), ['disabled', 'tickets_reassigned', 'tickets_released', 'enabled'])
})

t.test('an administrator sends a password reset link', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.submit(await ada.get(`/staff/admin/agents/${desk.agents.ned.id}`), agentForm(desk.agents.ned.id, '/password-reset'))
  t.match(page.text, 'A link to choose a new password (valid for an hour) is on its way to ned@desk.test')
  const [reset] = await listOutbox(app.db, { toAddress: desk.agents.ned.email })
  t.equal(reset?.template, 'password_reset')
  const done = await acceptInvitation(app, await tokenInSentMail(app, reset!.id), 'ned has a new one')
  t.match(done.text, 'Your password has been changed.')
  t.same(await loggedActions(app, desk.agents.ned.id), ['password_reset_sent'])
})
