import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { seedDesk, signIn } from '../helpers/fixtures.js'
import { apiKey, mailEnv, pipeMail, plainMessage, postMail } from '../helpers/mail.js'
import { Visitor, type Page } from '../helpers/visitor.js'
import { dovecotServer } from '../helpers/dovecot.js'
import { programs, skipWithout } from '../helpers/programs.js'
import { unusedFiles } from '../../src/data/attachments.js'
import { createInboundMail, UnprocessableMail } from '../../src/mail/inbound.js'

// Mail that became no ticket keeps the message as it arrived, for administrators alone.
t.setTimeout(300_000)

const dir = fileURLToPath(new URL('../fixtures/mail-in/', import.meta.url))

function outOfOffice (name = 'exchange-automatic-reply'): Buffer {
  const text = readFileSync(join(dir, `${name}.eml`), 'latin1')
    .replaceAll('{{REQUESTER}}', 'grace.hopper@example.com').replaceAll('{{NUMBER}}', '1001').replaceAll('{{IN_REPLY_TO}}', '<nothing.we.sent@desk.test>')
  return Buffer.from(text, 'latin1')
}

function downloadLinks (page: Page): string[] {
  return page.$('tbody a[download]').map((_, a) => page.$(a).attr('href')).get()
}

t.test('an administrator downloads each set-aside message as it arrived, from the pipe and the API; nobody else can', async (t) => {
  const app = await testApp(t, mailEnv, { startWorkers: false })
  const desk = await seedDesk(app)
  const key = await apiKey(app)
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)

  const automated = outOfOffice()
  const piped = await pipeMail(app, automated)
  t.equal(piped.code, 0, piped.stderr)
  t.match(piped.stdout, /^ignored: .*auto-reply/im, 'the pipe sets the auto-reply aside')

  const hugeHeader = plainMessage({ Subject: 'Huge header', 'Message-ID': '<header.raw@example.com>', 'X-Junk': Array.from({ length: 20_000 }, () => 'x'.repeat(50)).join('\r\n ') })
  t.equal((await postMail(app, hugeHeader, key)).status, 422, 'the API refuses a message that can never be processed')

  await ada.submit(await ada.get('/staff/admin/blocked-senders'), 'form[action="/staff/admin/blocked-senders"]', { sender: 'spam.example' })
  const blocked = plainMessage({ From: 'Mallory <mallory@spam.example>', Subject: 'Cheap toner — 90 % off', 'Message-ID': '<toner.1@spam.example>' })
  t.equal((await postMail(app, blocked, key)).status, 202, 'the API sets mail from a blocked sender aside')

  for (const [kind, raw] of [['automated', automated], ['unprocessable', hugeHeader], ['blocked', blocked]] as const) {
    const list = await ada.get(`/staff/admin/mail?kind=${kind}`)
    const links = downloadLinks(list)
    t.equal(links.length, 1, `${kind}: one message to download`)
    const answer = await ada.get(links[0]!)
    t.equal(answer.status, 200)
    t.equal(answer.headers['content-type'], 'message/rfc822')
    t.equal(answer.headers['x-content-type-options'], 'nosniff')
    t.match(String(answer.headers['content-disposition']), /^attachment; filename="[\x20-\x7e]*\.eml"; filename\*=UTF-8''[A-Za-z0-9%._~!-]+\.eml$/)
    t.equal(Number(answer.headers['content-length']), raw.length, `${kind}: every byte`)
    t.equal(answer.html, raw.toString('utf8'), `${kind}: the message exactly as it arrived`)
  }
  const blockedPage = await ada.get('/staff/admin/blocked-senders')
  const fromBlocked = downloadLinks(blockedPage)
  t.equal(fromBlocked.length, 1, 'the blocked-senders page offers the message too')
  const tonerDownload = await ada.get(fromBlocked[0]!)
  t.equal(decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(String(tonerDownload.headers['content-disposition']))![1]!), 'Cheap toner — 90 % off.eml', 'named after its subject')

  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  const stranger = new Visitor(app)
  for (const href of [...fromBlocked, ...downloadLinks(await ada.get('/staff/admin/mail?kind=automated'))]) {
    const asBob = await bob.get(href)
    t.equal(asBob.status, 404, 'an agent who is no administrator gets not found')
    t.notMatch(asBob.html, 'Received: from')
    const asStranger = await stranger.get(href, { follow: false })
    t.not(asStranger.status, 200, 'a signed-out visitor is refused')
    t.notMatch(asStranger.html, 'Received: from')
  }
  t.equal((await ada.get('/staff/admin/mail/999999/message')).status, 404, 'an unknown message is not found')

  const kept = await app.db('set_aside_mail').whereNotNull('raw_sha256').pluck('raw_sha256')
  t.equal(kept.length, 3)
  t.same(await unusedFiles(app.db, kept), [], 'purging tickets never deletes a set-aside message that shares their bytes')
})

t.test('a message longer than the cap keeps its start, and the page says so', async (t) => {
  const app = await testApp(t, mailEnv, { startWorkers: false })
  const desk = await seedDesk(app)
  const inbound = createInboundMail({ db: app.db, lifecycle: app.lifecycle, secret: app.config.sessionSecret, ownAddress: 'help@desk.test', fileStore: app.fileStore, setAsideBytes: 1024 * 1024 })
  const parts = Array.from({ length: 1001 }, (_, i) => `--p\r\nContent-Type: text/plain\r\n\r\npart ${i} ${'y'.repeat(1200)}\r\n`).join('')
  const manyParts = plainMessage({ Subject: 'Thousand long parts', 'Message-ID': '<parts.raw@example.com>', 'Content-Type': 'multipart/mixed; boundary="p"' }, `${parts}--p--\r\n`)
  t.ok(manyParts.length > 1024 * 1024, 'over the cap')
  await t.rejects(inbound.receive(manyParts), UnprocessableMail)

  const row = await app.db('set_aside_mail').first()
  t.equal(Number(row.raw_size), 1024 * 1024, 'the first bytes up to the cap are kept')
  t.equal(Number(row.size_bytes), manyParts.length, 'beside the size it had')
  t.ok(Boolean(row.raw_cut))
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const list = await ada.get('/staff/admin/mail')
  t.match(list.text, /Download the message “Thousand long parts” \(the first 1 MB of 1\.\d MB\)/)
  const answer = await ada.get(downloadLinks(list)[0]!)
  t.equal(answer.html, manyParts.subarray(0, 1024 * 1024).toString('utf8'), 'the download is the start of the message')
  t.match(String(answer.headers['content-disposition']), /\(start\)\.eml/)
})

t.test('mail fetched by IMAP and set aside can be downloaded too', { skip: skipWithout(programs.dovecot) }, async (t) => {
  const mail = await dovecotServer(t)
  const app = await testApp(t, { ...mailEnv, DATA_DIR: join(t.testdirName, 'app'), IMAP_URL: mail.url }, { startWorkers: false })
  const desk = await seedDesk(app)
  await mail.append(outOfOffice('provider-vacation-de'))
  t.match(await app.imap!.runOnce(), { found: 1, processed: 1, failed: 0 })
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const links = downloadLinks(await ada.get('/staff/admin/mail?kind=automated'))
  t.equal(links.length, 1)
  const answer = await ada.get(links[0]!)
  t.equal(answer.headers['content-type'], 'message/rfc822')
  t.match(answer.html, /^Subject: Abwesenheitsnotiz: \[#1001\]/m, 'the message as the mailbox held it')
})
