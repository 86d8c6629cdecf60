import t from 'tap'
import { stat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { testApp } from '../../helpers/app.js'
import { seedDesk, signIn } from '../../helpers/fixtures.js'
import { Visitor, type Page } from '../../helpers/visitor.js'

const form = 'form[action="/tickets"]'
// A 1×1 PNG: its bytes, not its name, make it an image.
const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex')

async function ticketForm (app: FastifyInstance, visitor = new Visitor(app)): Promise<{ visitor: Visitor, page: Page, topic: string }> {
  const page = await visitor.get('/tickets/new')
  const topic = page.$('select[name=topic] option').filter((_, o) => page.$(o).text() === 'Something is broken').attr('value')!
  return { visitor, page, topic }
}

const ticketFields = (topic: string): Record<string, string> =>
  ({ topic, name: 'Grace Hopper', email: 'grace@example.com', subject: 'Printer jams', message: 'See the log and the photo.' })

t.test('a requester opens a ticket with files and replies with another; both show on their page and download as sent', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await seedDesk(app)
  const { visitor, page, topic } = await ticketForm(app)
  t.equal(page.$(form).attr('enctype'), 'multipart/form-data', 'the form can carry files without JavaScript')
  t.equal(page.$(`${form} input[type=file][name=files][multiple]`).length, 1, 'one file input takes several files')

  const created = await visitor.upload(page, form, ticketFields(topic), [
    { name: 'printer.log', content: 'jam at tray 2\n', type: 'text/plain' },
    { name: 'photo.png', content: png, type: 'image/png' }
  ])
  t.equal(created.status, 200, created.text.slice(0, 400))
  const number = /Ticket (\d{6,12}) received/.exec(created.text)![1]!

  const ticketPage = await visitor.get(`/tickets/${number}`)
  const links = ticketPage.$('.entry .attachments a')
  t.same(links.map((_, a) => ticketPage.$(a).text()).get(), ['printer.log', 'photo.png'], 'the first message lists its files')
  t.match(ticketPage.$('.entry .attachments').text(), /printer\.log.*14 bytes, text\/plain/s, 'with size and type')
  t.equal(ticketPage.$('.entry .attachments img').length, 1, 'the real image is shown')

  const log = await app.inject({ url: links.first().attr('href')!, headers: { cookie: `tessera_access=${visitor.cookie('tessera_access', `/tickets/${number}`)!}` } })
  t.equal(log.statusCode, 200)
  t.equal(log.body, 'jam at tray 2\n', 'the bytes come back as sent')
  t.match(log.headers['content-disposition'], /^attachment; filename="printer\.log"; filename\*=UTF-8''printer\.log$/)
  t.equal(log.headers['x-content-type-options'], 'nosniff')
  t.equal(log.headers['content-type'], 'application/octet-stream', 'never rendered by the browser')

  const replied = await visitor.upload(ticketPage, 'form[action$="/replies"]', { message: 'Here is the second tray too.' }, [{ name: 'tray3.log', content: 'ok\n' }])
  t.equal(replied.status, 200)
  t.match(replied.text, 'Your reply has been sent.')
  t.same(replied.$('.entry').last().find('.attachments a').map((_, a) => replied.$(a).text()).get(), ['tray3.log'])

  const rows = await app.db('attachments').orderBy('id').select('filename', 'size', 'image_type')
  t.same(rows.map((r: { filename: string }) => r.filename), ['printer.log', 'photo.png', 'tray3.log'])
  const [, photo] = rows as Array<{ image_type: string | null }>
  t.equal(photo!.image_type, 'png')

  const { visitor: bob } = await signIn(app, 'bob@desk.test')
  const staffPage = await bob.get(`/staff/tickets/${number}`)
  t.equal(staffPage.$('#conversation .attachments a').length, 3, 'agents see every file on the thread')
})

t.test('a refused file is named with the reason and the typed text stays; nothing is stored', async (t) => {
  const app = await testApp(t, { ATTACHMENT_FILE_MB: '0.001', ATTACHMENT_FILES: '2' }, { startWorkers: false })
  await seedDesk(app)
  const { visitor, page, topic } = await ticketForm(app)
  const big = Buffer.alloc(5000, 1)
  const refused = await visitor.upload(page, form, ticketFields(topic), [{ name: 'small.txt', content: 'hi' }, { name: 'huge “report”.pdf', content: big }])
  t.equal(refused.status, 422)
  t.match(refused.$('#ticket-files-error').text(), '“huge “report”.pdf” is larger than 1 KB, the limit for one file.', 'the file and the reason are named beside the field')
  t.equal(refused.$('textarea[name=message]').text(), 'See the log and the photo.', 'the message is kept')
  t.equal(refused.$('input[name=subject]').attr('value'), 'Printer jams')
  t.equal(await app.db('tickets').count({ n: '*' }).first().then((r) => Number(r?.n)), 0, 'no ticket was opened')

  const tooMany = await visitor.upload(refused, form, {}, [{ name: 'a.txt', content: 'a' }, { name: 'b.txt', content: 'b' }, { name: 'c.txt', content: 'c' }])
  t.equal(tooMany.status, 422)
  t.match(tooMany.$('#ticket-files-error').text(), '“c.txt” was not added: at most 2 files can be sent at once.')

  const fine = await visitor.upload(tooMany, form, {}, [{ name: 'a.txt', content: 'a' }])
  t.equal(fine.status, 200, 'with the files fixed, the same form goes through')
  t.equal(await app.db('attachments').count({ n: '*' }).first().then((r) => Number(r?.n)), 1)
  const tmp = await readdir(join(app.config.attachmentsDir, 'tmp'))
  t.same(tmp, [], 'refused and unused uploads leave no temporary files behind')
})

t.test('the same bytes twice are stored once, readable by the desk alone', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await seedDesk(app)
  for (const name of ['one.txt', 'two.txt']) {
    const { visitor, page, topic } = await ticketForm(app)
    const done = await visitor.upload(page, form, ticketFields(topic), [{ name, content: 'same bytes' }])
    t.equal(done.status, 200)
  }
  const shas = await app.db('attachments').pluck('sha256')
  t.equal(new Set(shas).size, 1)
  const info = await stat(app.fileStore.pathOf(shas[0] as string))
  t.equal(info.mode & 0o777, 0o600, 'mode 600')
  const folders = (await readdir(app.config.attachmentsDir)).filter((f) => f !== 'tmp')
  t.equal(folders.length, 1)
  t.same(await readdir(join(app.config.attachmentsDir, folders[0]!)), [shas[0]], 'one file on disk')
})

t.test('a multipart form without a valid CSRF token is refused and its files are dropped', async (t) => {
  const app = await testApp(t, {}, { startWorkers: false })
  await seedDesk(app)
  const { visitor, page, topic } = await ticketForm(app)
  const refused = await visitor.upload(page, form, { ...ticketFields(topic), _csrf: 'forged' }, [{ name: 'a.txt', content: 'a' }])
  t.equal(refused.status, 403)
  t.equal(await app.db('attachments').count({ n: '*' }).first().then((r) => Number(r?.n)), 0)
  t.same(await readdir(join(app.config.attachmentsDir, 'tmp')), [])
})
