import t from 'tap'
import { listOutbox } from '../../../src/data/outbox.js'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { assertValidDocuments } from '../../helpers/html-validator.js'
import { Visitor, type Page } from '../../helpers/visitor.js'
import { programs, skipWithout } from '../../helpers/programs.js'
import { asAgent, ticketRow } from '../../helpers/actors.js'
import { tokenInSentMail } from '../../helpers/mail.js'

const skip = skipWithout(programs.java)

t.test('every staff page, in each of its states, is valid HTML', { skip }, async (t) => {
  // Workers off: the outbox keeps the states this test puts it in.
  const app = await testApp(t, {}, { startWorkers: false })
  const pages: Record<string, Page> = {}
  /** Keeps a page for the checker after making sure it is the state we meant to reach. */
  const keep = (name: string, page: Page, status: number, shows: string): void => {
    t.equal(page.status, status, `${name}: status ${status}`)
    t.match(page.headers['content-type'], /^text\/html/, `${name}: served as HTML`)
    t.match(page.text, shows, `${name}: shows “${shows}”`)
    t.match(page.html, /^<!DOCTYPE html>/i, `${name}: a whole document`)
    pages[name] = page
  }

  // First run: the setup page exists only while the desk has no agent.
  const setupToken = await app.accounts.issueSetupToken()
  const installer = new Visitor(app)
  const setup = await installer.get(`/staff/setup/${setupToken}`)
  keep('setup', setup, 200, 'Create the first administrator')
  const setupErrors = await installer.submit(setup, 'form[action^="/staff/setup/"]', { name: ' ', email: 'not-an-address', password: 'short', confirm: 'other' })
  t.ok(setupErrors.$('#setup-name-error').length === 1 && setupErrors.$('#setup-email-error').length === 1 && setupErrors.$('#setup-password-error').length === 1, 'setup errors are beside their fields')
  keep('setup with errors', setupErrors, 422, 'There is a problem')
  const setupMismatch = await installer.submit(setup, 'form[action^="/staff/setup/"]', { name: 'Ada Lovelace', email: 'ada@desk.test', password: 'long enough pass', confirm: 'something else' })
  keep('setup with passwords that differ', setupMismatch, 422, 'The two passwords are not the same.')
  keep('setup link not valid', await installer.get('/staff/setup/not-a-token'), 404, 'This setup link is not valid')

  const desk = await seedDesk(app)

  // Signing in.
  const visitor = new Visitor(app)
  const login = await visitor.get('/staff/login?next=%2Fstaff%2Fqueues%2Fmine')
  keep('login', login, 200, 'Staff sign in')
  t.equal(login.$('input[name=next]').attr('value'), '/staff/queues/mine')
  const loginEmpty = await visitor.submit(login, 'form[action="/staff/login"]', { email: '', password: '' })
  t.equal(loginEmpty.$('.field .error').length, 2, 'an error beside both fields')
  keep('login with field errors', loginEmpty, 422, 'Enter your e-mail address.')
  const loginInvalid = await visitor.submit(login, 'form[action="/staff/login"]', { email: 'not-an-address', password: 'x' })
  keep('login with an invalid address', loginInvalid, 422, 'Enter an e-mail address like name@example.com.')
  const loginWrong = await visitor.submit(login, 'form[action="/staff/login"]', { email: desk.agents.bob.email, password: 'wrong password' })
  keep('login with a wrong password', loginWrong, 422, 'That e-mail address and password do not match.')

  // Password reset.
  const resetRequest = await visitor.get('/staff/password-reset')
  keep('password reset request', resetRequest, 200, 'Reset your password')
  keep('password reset request with errors', await visitor.submit(resetRequest, 'form[action="/staff/password-reset"]', { email: 'nope' }), 422, 'There is a problem')
  keep('password reset request sent', await visitor.submit(resetRequest, 'form[action="/staff/password-reset"]', { email: desk.agents.vic.email }), 200, 'we have sent a link')
  const [resetMail] = await listOutbox(app.db, { toAddress: desk.agents.vic.email })
  const resetToken = await tokenInSentMail(app, resetMail!.id)
  const newPassword = await visitor.get(`/staff/password-reset/${resetToken}`)
  keep('new password form', newPassword, 200, 'Choose a new password')
  keep('new password form with errors', await visitor.submit(newPassword, 'form[action^="/staff/password-reset/"]', { password: 'short', confirm: '' }), 422, 'There is a problem')
  keep('new password form, passwords differ', await visitor.submit(newPassword, 'form[action^="/staff/password-reset/"]', { password: 'long enough pass', confirm: 'something else' }), 422, 'The two passwords are not the same.')
  keep('reset link not valid', await visitor.get('/staff/password-reset/not-a-token'), 404, 'This link has expired')

  // Queues: 55 tickets in Support fill a first page and start a second.
  const printerJam = await openTicket(app, desk.topics.broken, 'Printer “jams” <on> page two & three')
  const other = await openTicket(app, desk.topics.broken, 'Toner smudges')
  for (let i = 0; i < 53; i++) await openTicket(app, desk.topics.broken, `Support ticket ${i}`)
  await openTicket(app, desk.topics.billing, 'Invoice is wrong')

  const { visitor: bob, page: open } = await signIn(app, desk.agents.bob.email)
  t.equal(open.$('tbody tr').length, 50, 'the first page is full')
  keep('queue, first page', open, 200, 'All open')
  const next = open.$('a:contains("Next page")').attr('href')
  t.ok(next, 'there is a next page')
  const second = await bob.get(next!)
  t.equal(second.$('tbody tr').length, 5, 'the second page holds the rest')
  t.equal(second.$('a:contains("First page")').length, 1, 'the second page links back to the first')
  keep('queue, second page', second, 200, 'First page')
  keep('queue, empty', await bob.get('/staff/queues/mine'), 200, 'No tickets here.')
  const filtered = await bob.submit(open, 'form.filters', { department: String(desk.departments.support), priority: '2', sort: 'created' })
  keep('queue, filtered and sorted', filtered, 200, 'All open')
  const bulk = await bob.submit(open, 'form.bulk', { action: 'priority', priority: '3', tickets: other.number })
  keep('queue, after a bulk action (flash shown)', bulk, 200, '1 of 1 tickets updated.')
  keep('queue, nothing chosen for a bulk action', await bob.submit(open, 'form.bulk', { action: 'claim' }), 200, 'Choose one or more tickets and an action.')

  // The ticket page: a reply, a note, events, the viewer list.
  const ticketPath = `/staff/tickets/${printerJam.number}`
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  await ada.get(ticketPath) // Ada is now "also viewing"
  let ticket = await bob.get(ticketPath)
  t.match(ticket.$('#viewers').text(), 'Ada Lovelace', 'Bob sees Ada viewing')
  keep('ticket, new (with a viewer)', ticket, 200, 'The second page always jams.')
  keep('ticket, reply with errors', await bob.submit(ticket, 'form.composer', { message: '   ' }), 422, 'Write a message first.')
  ticket = await bob.submit(ticket, 'form.composer', { message: 'Please try the rear paper tray,\nthen print <b>again</b>.' })
  keep('ticket, after a reply (flash shown)', ticket, 200, 'Reply sent to the requester.')
  ticket = await bob.submit(ticket, 'form.composer', { message: 'Fuser was replaced last month & is under warranty.', intent: 'note' })
  t.equal(ticket.$('.entry.note').length, 1, 'the note is in the conversation')
  ticket = await bob.submit(ticket, `form[action="${ticketPath}/assignment"]:has(#assign-agent)`, { agent: String(desk.agents.bob.id), team: String(desk.teams.printers) })
  ticket = await bob.submit(ticket, `form[action="${ticketPath}/priority"]`, { priority: '4' })
  ticket = await bob.submit(ticket, `form[action="${ticketPath}/pending"]`)
  t.ok(ticket.$('.entry.event').length >= 4, 'events are in the conversation')
  keep('ticket, with a reply, a note and events', ticket, 200, 'changed the priority from High to Urgent')
  keep('ticket, canned response inserted', await bob.submit(ticket, 'form.composer', { message: 'Hello,', intent: 'canned' }), 200, 'Hello,')
  // Merging is for managers: Ada's page has the form.
  keep('ticket, a refused merge (flash shown)', await ada.submit(await ada.get(ticketPath), `form[action="${ticketPath}/merge"]`, { target: '000000' }), 200, 'There is no ticket 000000 you can see.')

  // Two agents reply at once: the second is held back with its draft.
  const adasPage = await ada.get(ticketPath)
  const bobsPage = await bob.get(ticketPath)
  await ada.submit(adasPage, 'form.composer', { message: 'Ada here: please restart the printer.' })
  const held = await bob.submit(bobsPage, 'form.composer', { message: 'Bob here: please send a photo.' })
  t.equal(held.$('#composer-message').text(), 'Bob here: please send a photo.', 'the draft is kept')
  keep('ticket, reply held back by a collision (409)', held, 409, 'Someone else wrote on this ticket')

  const { visitor: vic } = await signIn(app, desk.agents.vic.email)
  const viewOnly = await vic.get(ticketPath)
  t.equal(viewOnly.$('form.composer').length, 0, 'a viewer cannot answer')
  t.equal(viewOnly.$('#ticket-summary form[method=post]').length, 0, 'nor change anything (the print choice is a GET form)')
  t.equal(viewOnly.$('#ticket-summary form[method=get][action$="/print"]').length, 1, 'but may print')
  keep('ticket, view only (vic)', viewOnly, 200, 'Please try the rear paper tray')

  ticket = await bob.submit(await bob.get(ticketPath), `form[action="${ticketPath}/resolution"]`)
  keep('ticket, resolved', ticket, 200, 'Reopen')
  await app.lifecycle.mergeTicket(await ticketRow(app, other.id), await asAgent(app, desk.agents.ada.id), { target: await ticketRow(app, printerJam.id) })
  keep('ticket, merged into another', await bob.get(`/staff/tickets/${other.number}`), 200, 'Merged into')
  keep('ticket, not found', await bob.get('/staff/tickets/000000'), 404, 'That ticket could not be found.')

  // The administrator's outbox, with a failed message.
  // The newest message, so it is on the page (the newest 100).
  const failed = await app.db('outbox').orderBy('id', 'desc').first('id') as { id: number }
  await app.db('outbox').where({ id: failed.id }).update({ status: 'failed', attempts: 7, last_error: 'connect ECONNREFUSED 127.0.0.1:25 <smtp> & "more"' })
  const outbox = await ada.get('/staff/admin/outbox')
  keep('admin outbox', outbox, 200, 'ECONNREFUSED')
  keep('admin outbox, failed only', await ada.get('/staff/admin/outbox?status=failed'), 200, 'Retry now')
  keep('admin outbox, sent only (the reset link above was sent to be read)', await ada.get('/staff/admin/outbox?status=sent'), 200, 'password_reset')
  keep('admin outbox, after a test message (flash shown)', await ada.submit(outbox, 'form[action="/staff/admin/outbox/test"]'), 200, 'A test message to ada@desk.test is queued')
  keep('admin outbox, not for agents', await bob.get('/staff/admin/outbox'), 404, 'Not found')

  // Signed out: the sign-in page with its message.
  const signedOut = await bob.submit(await bob.get('/staff/queues/open'), 'form.signout')
  keep('login after signing out (flash shown)', signedOut, 200, 'You have signed out.')
  const reset = await visitor.get(`/staff/password-reset/${resetToken}`)
  const changed = await visitor.submit(reset, 'form[action^="/staff/password-reset/"]', { password: 'a brand new passphrase', confirm: 'a brand new passphrase' })
  keep('login after a password reset (flash shown)', changed, 200, 'Your password has been changed.')

  // The htmx fragments are not documents (no doctype, no <html>): the checker is not given them.
  const fragments = {
    queue: await ada.get('/staff/queues/open', { headers: { 'hx-request': 'true', 'hx-target': 'queue-results' } }),
    conversation: await ada.get(ticketPath, { headers: { 'hx-request': 'true', 'hx-target': 'conversation' } }),
    summary: await ada.get(ticketPath, { headers: { 'hx-request': 'true', 'hx-target': 'ticket-summary' } }),
    viewers: await ada.get(`${ticketPath}/viewers`, { headers: { 'hx-request': 'true', 'hx-target': 'viewers' } })
  }
  for (const [name, fragment] of Object.entries(fragments)) {
    t.equal(fragment.status, 200, `${name} fragment: status 200`)
    t.notMatch(fragment.html, /<!DOCTYPE|<html/i, `${name} fragment: not a document, so not checked`)
  }

  await assertValidDocuments(t, Object.fromEntries(Object.entries(pages).map(([name, page]) => [name, page.html])))
})
