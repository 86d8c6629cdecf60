import t from 'tap'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { testApp, testClock } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { mailEnv, rawFixture } from '../../helpers/mail.js'

t.test('mail in: every attachment is kept, the inline image shows in place, hostile names are only text', async (t) => {
  const app = await testApp(t, mailEnv, { startWorkers: false })
  const desk = await seedDesk(app)
  const result = await app.inbound.receive(rawFixture('outlook-attachments'))
  t.equal(result.outcome, 'ticket')
  const number = (result as { ticketNumber: string }).ticketNumber
  const rows = await app.db('attachments').orderBy('id').select('filename', 'content_type', 'image_type', 'content_id', 'inline')
  t.same(rows.map((r: { filename: string }) => r.filename), ['image001.png', 'Rechnung 4471 Übersicht.pdf', 'chart.svg', '../../etc/passwd'], 'all four parts are kept under their names')
  t.match(rows[0], { image_type: 'png', content_id: 'image001.png@01DB4471.5A6B7C80' })
  t.ok((rows[0] as { inline: unknown }).inline)
  t.equal((rows[2] as { image_type: string | null }).image_type, null, 'an SVG is never an image to show')

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const page = await bob.get(`/staff/tickets/${number}`)
  const body = page.$('#conversation .entry .body').first()
  const img = body.find('img.inline-image')
  t.equal(img.length, 1, 'the screenshot is shown inside the text')
  t.notMatch(body.text(), '[cid:', 'where its marker was')
  t.match(body.text(), /Here is what I see:\s+The invoice itself/)
  const shown = await bob.get(img.attr('src')!)
  t.equal(shown.headers['content-type'], 'image/png')
  t.match(String(shown.headers['content-disposition']), /^inline; /)

  const links = page.$('#conversation .attachments a')
  t.equal(links.length, 4)
  const svg = links.filter((_, a) => page.$(a).text() === 'chart.svg')
  t.equal(page.$('#conversation .attachments img').length, 0, 'no other picture is shown: the SVG is a download only')
  const svgAnswer = await bob.get(`${svg.attr('href')!}/image`)
  t.equal(svgAnswer.headers['content-type'], 'application/octet-stream', 'even when asked to show it inline')
  t.match(String(svgAnswer.headers['content-disposition']), /^attachment; /)

  const passwd = links.filter((_, a) => page.$(a).text() === '../../etc/passwd')
  const answer = await bob.get(passwd.attr('href')!)
  t.equal(answer.html, 'not really a password file')
  t.equal(answer.headers['content-disposition'], 'attachment; filename="../../etc/passwd"; filename*=UTF-8\'\'..%2F..%2Fetc%2Fpasswd', 'the name travels as text; the file was stored under its hash')
  const pdf = links.filter((_, a) => page.$(a).text().startsWith('Rechnung'))
  const pdfAnswer = await bob.get(pdf.attr('href')!)
  t.equal(pdfAnswer.headers['content-disposition'], 'attachment; filename="Rechnung 4471 _bersicht.pdf"; filename*=UTF-8\'\'Rechnung%204471%20%C3%9Cbersicht.pdf')
  const files = (await readdir(app.config.attachmentsDir)).filter((f) => f !== 'tmp')
  t.equal(files.length, 4, 'four different files on disk, named by their hashes only')
  t.same(await readdir(join(app.config.attachmentsDir, 'tmp')), [])
})

t.test('an auto-reply with an attachment leaves nothing on disk', async (t) => {
  const app = await testApp(t, mailEnv, { startWorkers: false })
  await seedDesk(app)
  const raw = rawFixture('outlook-attachments').toString('latin1').replace('X-MS-Has-Attach: yes', 'Auto-Submitted: auto-replied')
  const result = await app.inbound.receive(Buffer.from(raw, 'latin1'))
  t.equal(result.outcome, 'ignored')
  t.equal(await app.db('attachments').count({ n: '*' }).first().then((r) => Number(r?.n)), 0)
})

t.test('purging a ticket deletes its files unless another ticket holds the same bytes', async (t) => {
  const clock = testClock()
  const app = await testApp(t, mailEnv, { startWorkers: false, now: clock.now })
  const desk = await seedDesk(app)
  await app.inbound.receive(rawFixture('outlook-attachments'))
  const other = await app.inbound.receive(Buffer.from(rawFixture('outlook-attachments').toString('latin1')
    .replace('<DB9PR01MB4471A2C3D4E5F6@DB9PR01MB4471.eurprd01.prod.outlook.com>', '<second@example.com>')
    .replace(/Content-Type: image\/svg\+xml[\s\S]*?--_004_DB9PR01MB4471mixed_\r\n/, ''), 'latin1'))
  t.equal(other.outcome, 'ticket')
  const first = (await app.db('tickets').orderBy('id').first('number')).number as string
  const shaOf = async (name: string): Promise<string> => (await app.db('attachments').where({ filename: name }).first('sha256')).sha256 as string
  const svgSha = await shaOf('chart.svg')
  const pngSha = await shaOf('image001.png')

  const { visitor: bob } = await signIn(app, desk.agents.ada.email)
  const page = await bob.get(`/staff/tickets/${first}/deletion`)
  await bob.submit(page, 'form[action$="/deletion"]')
  clock.advance(31 * 86400_000)
  t.equal(await app.lifecycle.purgeTrash(), 1)
  t.notOk(await app.fileStore.exists(svgSha), 'a file only that ticket held is gone')
  t.ok(await app.fileStore.exists(pngSha), 'a file the other ticket holds too stays')
  t.equal(await app.db('attachments').count({ n: '*' }).first().then((r) => Number(r?.n)), 3, 'the other ticket keeps its rows')
})
