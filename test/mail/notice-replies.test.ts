import t from 'tap'
import { replyMarker } from '../../src/mail/compose.js'
import { testApp } from '../helpers/app.js'
import { asAgent, ticketRow } from '../helpers/actors.js'
import { openTicket, seedDesk } from '../helpers/fixtures.js'
import { apiKey } from '../helpers/mail.js'
import { smtpServer } from '../helpers/smtp.js'

t.test('a notice invites a reply by e-mail only when incoming mail is set up; otherwise it links to the ticket page', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { SMTP_URL: smtp.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  const bob = await asAgent(app, desk.agents.bob.id)
  const closedMailTo = async (subject: string): Promise<string> => {
    const ticket = await openTicket(app, desk.topics.broken, subject)
    await app.lifecycle.closeTicket(await ticketRow(app, ticket.id), bob)
    await app.outbox.runOnce()
    const mail = smtp.messages.find((m) => m.parsed.subject === `[#${ticket.number}] Closed: ${subject}`)
    if (!mail) throw new Error(`no closed notice for ${subject}`)
    return mail.parsed.text ?? ''
  }

  const withoutIntake = await closedMailTo('Scanner offline')
  t.notMatch(withoutIntake, 'simply reply', 'no mail comes back in, so none is invited')
  t.notMatch(withoutIntake, replyMarker, 'and there is no line to reply above')
  t.match(withoutIntake, /write to us on your ticket page:\s+http:\/\/help\.example\.test\/tickets\/\d+\/access\/[A-Za-z0-9_-]{43}/, 'the private link instead')

  await apiKey(app)
  const withIntake = await closedMailTo('Scanner offline again')
  t.match(withIntake, 'simply reply to this message', 'with a mail intake key, replies reach the desk')
  t.match(withIntake, replyMarker)
})
