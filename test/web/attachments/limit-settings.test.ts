import t from 'tap'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { apiKey, mailEnv, pipeMail, plainMessage, postMail } from '../../helpers/mail.js'
import { Visitor } from '../../helpers/visitor.js'

// The attachment limits are desk settings below the server's ATTACHMENT_* ceilings.
t.setTimeout(300_000)

const settingsForm = 'form[action="/staff/admin/settings"]'
const megabyte = 1024 * 1024

/** A message with two files: one of `bigBytes`, and a short log. */
function mailWithFiles (bigBytes: number, subject = 'Scanner output'): Buffer {
  const part = (name: string, type: string, bytes: Buffer): string =>
    `--b\r\nContent-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bytes.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`
  const body = '--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe scan and the log are attached.\r\n' +
    part('scan.pdf', 'application/pdf', Buffer.alloc(bigBytes, 7)) + part('tray.log', 'text/plain', Buffer.from('jam at tray 2\n')) + '--b--\r\n'
  return plainMessage({ Subject: subject, 'Content-Type': 'multipart/mixed; boundary="b"', 'Content-Transfer-Encoding': '7bit' }, body)
}

t.test('an administrator lowers the limits; the portal, the staff composer and mail in all keep to them', async (t) => {
  const app = await testApp(t, { ...mailEnv, ATTACHMENT_FILE_MB: '4', ATTACHMENT_MESSAGE_MB: '8', ATTACHMENT_FILES: '5' }, { startWorkers: false })
  const desk = await seedDesk(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  let settings = await ada.get('/staff/admin/settings')
  t.equal(settings.$('#settings-attachmentFileMb').attr('value'), '4', 'the server’s limit is the default')
  t.match(settings.$('#settings-attachmentFileMb-hint').text(), '1 to 4 (ATTACHMENT_FILE_MB, the most the server allows')
  t.match(settings.$('#settings-attachmentFiles-hint').text(), '1 to 5 (ATTACHMENT_FILES')

  settings = await ada.submit(settings, settingsForm, { attachmentFileMb: '5', attachmentMessageMb: '0', attachmentFiles: 'many' })
  t.equal(settings.status, 422, 'limits above the server’s, zero or not a number are refused')
  t.match(settings.$('#settings-attachmentFileMb-error').text(), 'Largest file must be a whole number from 1 to 4.')
  t.match(settings.$('#settings-attachmentMessageMb-error').text(), 'Largest total must be a whole number from 1 to 8.')
  t.match(settings.$('#settings-attachmentFiles-error').text(), 'Most files must be a whole number from 1 to 5.')
  t.equal(settings.$('#settings-attachmentFiles').attr('value'), 'many', 'the text typed stays')
  t.equal(settings.$('#settings-attachmentFileMb').attr('aria-invalid'), 'true')

  settings = await ada.submit(settings, settingsForm, { attachmentFileMb: '1', attachmentMessageMb: '8', attachmentFiles: '5' })
  t.equal(settings.status, 200)
  t.match(settings.text, 'Settings saved.')
  t.equal(settings.$('#settings-attachmentFileMb').attr('value'), '1', 'the lower limit is kept')

  const grace = new Visitor(app)
  const form = await grace.get('/tickets/new')
  t.match(form.$('#ticket-files-hint').text(), 'Up to 5 files, 1 MB each, 8 MB in all.', 'the portal tells people the new limit')
  const topic = form.$('select[name=topic] option').filter((_, o) => form.$(o).text() === 'Something is broken').attr('value')!
  const fields = { topic, name: 'Grace Hopper', email: 'grace@example.com', subject: 'Scanner output', message: 'The scan is attached.' }
  const refused = await grace.upload(form, 'form[action="/tickets"]', fields, [{ name: 'scan 2 ½.pdf', content: Buffer.alloc(1.5 * megabyte, 7) }])
  t.equal(refused.status, 422, 'a file of 1.5 MB is refused although the server would take 4 MB')
  t.match(refused.$('#ticket-files-error').text(), '“scan 2 ½.pdf” is larger than 1 MB, the limit for one file.')
  t.equal(refused.$('textarea[name=message]').text(), 'The scan is attached.', 'the typed text is kept')
  t.equal(await app.db('tickets').count({ n: '*' }).first().then((r) => Number(r?.n)), 0)

  const posted = await postMail(app, mailWithFiles(1.5 * megabyte), await apiKey(app))
  t.equal(posted.status, 201, 'mail with a bigger file still becomes a ticket')
  const ticket = await app.db('tickets').where({ number: posted.body.ticketNumber }).first()
  t.same(await app.db('attachments as f').join('thread_entries as e', 'e.id', 'f.entry_id').where('e.ticket_id', ticket.id).pluck('f.filename'), ['tray.log'], 'only the file within the limit is kept')
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const ticketPage = await bob.get(`/staff/tickets/${ticket.number as string}`)
  t.match(ticketPage.$('#conversation .entry .body').first().text(), /The scan and the log are attached\.\s+“scan\.pdf” \(1\.5 MB\) was not kept: larger than 1 MB, the limit for one file\./, 'the entry names the file left out and why')

  const piped = await pipeMail(app, mailWithFiles(1.5 * megabyte, 'Scanner output, piped'))
  t.equal(piped.code, 0, piped.stderr)
  const pipedNumber = /ticket: ticket (\d+)/.exec(piped.stdout)?.[1]
  const pipedPage = await bob.get(`/staff/tickets/${pipedNumber ?? ''}`)
  t.match(pipedPage.$('#conversation .entry .body').first().text(), '“scan.pdf” (1.5 MB) was not kept: larger than 1 MB, the limit for one file.', 'mail piped in keeps to the same limit')
  t.same(pipedPage.$('#conversation .attachments a').map((_, a) => pipedPage.$(a).text()).get(), ['tray.log'], 'and keeps the file within it')

  const staffRefused = await bob.upload(ticketPage, 'form[action$="/replies"]', { body: 'Thanks, looking at it.' }, [{ name: 'manual.pdf', content: Buffer.alloc(1.5 * megabyte, 1) }])
  t.equal(staffRefused.status, 422, 'the staff composer keeps to the same limit')
  t.match(staffRefused.$('#composer-files-error').text(), '“manual.pdf” is larger than 1 MB, the limit for one file.')
})
