import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { openTicket, seedDesk, signIn } from '../../helpers/fixtures.js'
import { mailEnv } from '../../helpers/mail.js'
import { smtpServer } from '../../helpers/smtp.js'

const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex')
const composer = 'form.composer'

t.test('an agent\'s reply with files reaches the requester\'s mail server with the files; past the mail limit, a link', async (t) => {
  const smtp = await smtpServer(t)
  const app = await testApp(t, { SMTP_URL: smtp.url, MAIL_ATTACHMENTS_MB: '0.01', ...mailEnv }, { startWorkers: false })
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  await app.outbox.runOnce()
  smtp.messages.length = 0

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = await bob.get(`/staff/tickets/${ticket.number}`)
  t.equal(page.$(composer).attr('enctype'), 'multipart/form-data')
  t.equal(page.$(composer).attr('data-hx-encoding'), 'multipart/form-data', 'htmx sends the files too')
  const big = Buffer.alloc(20_000, 0x41)
  const sent = await bob.upload(page, composer, { message: 'The driver and a photo are attached.' }, [
    { name: 'driver-notes.txt', content: 'Install v2.1\n', type: 'text/plain' },
    { name: 'tray.png', content: png, type: 'image/png' },
    { name: 'firmware.bin', content: big }
  ])
  t.equal(sent.status, 200)
  t.match(sent.text, 'Reply sent to the requester.')
  t.same(sent.$('#conversation .entry.response .attachments a').map((_, a) => sent.$(a).text()).get(), ['driver-notes.txt', 'tray.png', 'firmware.bin'])

  t.equal(await app.outbox.runOnce(), 1)
  const [mail] = smtp.messages
  t.same(mail!.envelopeTo, ['grace@example.com'])
  t.same(mail!.parsed.attachments.map((a) => a.filename), ['driver-notes.txt', 'tray.png'], 'the files within the limit travel with the mail')
  t.equal(mail!.parsed.attachments[0]!.content.toString(), 'Install v2.1\n')
  t.ok(mail!.parsed.attachments[1]!.content.equals(png), 'byte for byte')
  t.match(mail!.parsed.text, /Too large to attach to this e-mail; download from your ticket page \(link below\):\n- firmware\.bin \(20 KB\)/, 'the larger one is named')
  t.match(mail!.parsed.text, /http:\/\/help\.example\.test\/tickets\/\d+\/access\//, 'with the private link that leads to it')

  const note = await bob.upload(await bob.get(`/staff/tickets/${ticket.number}`), composer, { message: 'Internal: vendor says RMA.', intent: 'note' }, [{ name: 'rma.pdf', content: '%PDF-1.4 rma' }], {})
  t.equal(note.status, 200)
  t.match(note.text, 'Internal note added.')
  t.same(note.$('#conversation .entry.note .attachments a').map((_, a) => note.$(a).text()).get(), ['rma.pdf'])
  t.equal(await app.outbox.runOnce(), 0, 'a note sends nothing')
})

t.test('a staff reply with a file over the limit keeps the draft, names the file, and sends nothing (with and without htmx)', async (t) => {
  const app = await testApp(t, { ATTACHMENT_FILE_MB: '0.001' }, { startWorkers: false })
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = await bob.get(`/staff/tickets/${ticket.number}`)
  for (const headers of [{}, { 'hx-request': 'true', 'hx-target': 'conversation' }] as Array<Record<string, string>>) {
    const refused = await bob.upload(page, composer, { message: 'My long careful answer.' }, [{ name: 'dump.bin', content: Buffer.alloc(4000) }], { headers })
    t.equal(refused.status, 422)
    t.match(refused.$('#composer-files-error').text(), '“dump.bin” is larger than 1 KB, the limit for one file.')
    t.equal(refused.$('textarea[name=message]').text(), 'My long careful answer.')
  }
  t.equal(await app.db('thread_entries').where({ kind: 'response' }).count({ n: '*' }).first().then((r) => Number(r?.n)), 0)
})
