import { spawn } from 'node:child_process'
import t from 'tap'
import { projectRoot } from '../src/paths.js'
import { freePort } from './helpers/net.js'

t.test('on SIGTERM the server closes its connections and the database and exits cleanly', async (t) => {
  const port = await freePort()
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: t.testdir({}), PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let log = ''
  server.stdout.on('data', (chunk: Buffer) => { log += chunk.toString('utf8') })
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)))
  t.teardown(() => { server.kill('SIGKILL') })

  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200 && !await fetch(`${url}/healthz`).then((r) => r.ok, () => false); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.match(log, 'Create the first administrator at', 'a fresh install prints its setup link')

  // Keep-alive connections from a browser-like client are open when the signal comes.
  const statuses = await Promise.all(Array.from({ length: 5 }, async () => (await fetch(`${url}/tickets/new`)).status))
  t.same(statuses, [200, 200, 200, 200, 200])
  const signalled = Date.now()
  server.kill('SIGTERM')
  t.equal(await exited, 0, 'the process exits with status 0')
  t.ok(Date.now() - signalled < 5000, 'promptly, without waiting for idle connections to time out')
  t.match(log, '"signal":"SIGTERM"')
  t.notMatch(log, '"level":50', 'and logs no error on the way out')
})
