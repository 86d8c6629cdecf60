import t from 'tap'
import { listOutbox } from '../src/data/outbox.js'
import { testApp } from './helpers/app.js'
import { runCli } from './helpers/cli.js'
import { Visitor } from './helpers/visitor.js'
import { tokenInSentMail } from './helpers/mail.js'

t.test('an administrator is created from the shell and can sign in', async (t) => {
  const app = await testApp(t)
  const created = await runCli(app, ['create-agent', '--name', 'Ada Lovelace', '--email', 'Ada@Desk.test', '--admin'], 'a long passphrase\n')
  t.equal(created.code, 0, created.stderr)
  t.match(created.stdout, 'Created administrator Ada@Desk.test')
  const short = await runCli(app, ['create-agent', '--name', 'Bob', '--email', 'bob@desk.test'], 'short\n')
  t.equal(short.code, 1)
  t.match(short.stderr, 'A password needs at least 10 characters.')
  t.equal((await runCli(app, ['create-agent', '--name', 'Ada', '--email', 'ada@desk.test'], 'another long one\n')).code, 1, 'the same address twice is refused')

  const visitor = new Visitor(app)
  const login = await visitor.get('/staff/login')
  const queue = await visitor.submit(login, 'form', { email: 'ada@desk.test', password: 'a long passphrase' })
  t.match(queue.url, /^\/staff\/queues\//)
})

t.test('an invited agent chooses a password through the e-mailed link', async (t) => {
  const app = await testApp(t)
  const invited = await runCli(app, ['create-agent', '--invite', '--name', 'Bob Kahn', '--email', 'bob@desk.test'])
  t.equal(invited.code, 0, invited.stderr)
  const [invitation] = await listOutbox(app.db, { toAddress: 'bob@desk.test' })
  t.equal(invitation?.template, 'invitation')

  const visitor = new Visitor(app)
  const login = await visitor.get('/staff/login')
  t.equal((await visitor.submit(login, 'form', { email: 'bob@desk.test', password: '' })).status, 422, 'there is no password to sign in with yet')

  const token = await tokenInSentMail(app, invitation!.id)
  const form = await visitor.get(`/staff/password-reset/${token}`)
  const done = await visitor.submit(form, 'form', { password: 'bob chooses this', confirm: 'bob chooses this' })
  t.match(done.text, 'Your password is set.')
  const queue = await visitor.submit(await visitor.get('/staff/login'), 'form', { email: 'bob@desk.test', password: 'bob chooses this' })
  t.match(queue.url, /^\/staff\/queues\//)
})

t.test('an API key is printed once and works for the inbound endpoint', async (t) => {
  const app = await testApp(t)
  const made = await runCli(app, ['create-api-key', '--name', 'Mail server'])
  t.equal(made.code, 0, made.stderr)
  const key = made.stdout.trim().split('\n').pop()!
  t.match(key, /^tsk_[A-Za-z0-9_-]{32}$/)
  const raw = 'From: Zoe <zoe@example.com>\r\nTo: help@desk.test\r\nSubject: Hello\r\nMessage-ID: <cli-1@example.com>\r\n\r\nHi there.\r\n'
  const res = await app.inject({ method: 'POST', url: '/api/v1/mail/inbound', headers: { authorization: `Bearer ${key}`, 'content-type': 'message/rfc822' }, payload: raw })
  t.equal(res.statusCode, 201)
  t.equal(res.json().outcome, 'ticket')
})

t.test('an unknown command prints the usage and exits 64', async (t) => {
  const app = await testApp(t)
  const result = await runCli(app, ['frobnicate'])
  t.equal(result.code, 64)
  t.match(result.stderr, 'Usage: npm run tessera')
})

t.test('the CLI names the database it works on, never its password', async (t) => {
  const app = await testApp(t)
  const result = await runCli(app, ['create-api-key', '--name', 'Mail server'])
  t.equal(result.code, 0, result.stderr)
  if (process.env.TEST_DATABASE_URL) {
    const url = new URL(app.config.databaseUrl)
    t.match(result.stderr, new RegExp(`Database: (PostgreSQL|MySQL/MariaDB) at ${url.hostname}:${url.port}`))
    if (url.password) t.notMatch(result.stderr, url.password)
  } else {
    t.match(result.stderr, `Database: SQLite at ${app.config.dataDir}/tessera.sqlite`)
  }
})

t.test('on a terminal the password is asked for twice and never shown', async (t) => {
  const app = await testApp(t)
  // script(1) gives the CLI a terminal; the password is typed into it.
  const command = [process.execPath, '--import', 'tsx', 'src/cli.ts', 'create-agent', '--name', 'Tia Tty', '--email', 'tia@desk.test']
    .map((part) => `'${part}'`).join(' ')
  const typed = 'tia types secretly\r'
  const env: Record<string, string> = { DATA_DIR: app.config.dataDir, LOG_LEVEL: 'silent' }
  if (process.env.TEST_DATABASE_URL) Object.assign(env, { DATABASE_URL: app.config.databaseUrl, SESSION_SECRET: app.config.sessionSecret })
  const { spawn } = await import('node:child_process')
  const { projectRoot } = await import('../src/paths.js')
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'dumb', ...env } })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8')
    // Answer each prompt once it appears, as a person would.
    if (/Password: $/.test(output) || /Password again: $/.test(output)) child.stdin.write(typed)
  })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  t.equal(code, 0, output)
  t.match(output, 'Password: ')
  t.match(output, 'Created agent tia@desk.test')
  t.notMatch(output, 'tia types secretly', 'what was typed is not echoed')
  const visitor = new Visitor(app)
  const queue = await visitor.submit(await visitor.get('/staff/login'), 'form', { email: 'tia@desk.test', password: 'tia types secretly' })
  t.match(queue.url, /^\/staff\/queues\//)
})
