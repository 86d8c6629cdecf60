import { spawn } from 'node:child_process'
import t from 'tap'
import { ConfigError, loadConfig, nodeEndOfLifeWarning, nodeVersionProblem } from '../src/config.js'
import { projectRoot } from '../src/paths.js'
import { startServer } from './helpers/server.js'

function mistake (env: Record<string, string>): string {
  try {
    loadConfig({ DATA_DIR: '/nonexistent/tessera-config-test', SESSION_SECRET: 'x'.repeat(32), ...env })
  } catch (err) {
    if (err instanceof ConfigError) return err.message
    throw err
  }
  throw new Error(`accepted ${JSON.stringify(env)}`)
}

t.test('each configuration mistake is one line naming the variable, the value and a right example', async (t) => {
  t.equal(mistake({ TRUST_PROXY: 'yes' }), 'Configuration error: TRUST_PROXY "yes" has "yes", which is neither an IP address, a CIDR range, loopback, linklocal or uniquelocal; for example TRUST_PROXY=127.0.0.1,10.0.0.0/8 (or true, false, a hop count like 1)')
  t.match(mistake({ BASE_PATH: '/support/' }), /^Configuration error: BASE_PATH "\/support\/" has the wrong form; for example BASE_PATH=\/support$/)
  t.match(mistake({ PORT: 'eighty' }), /^Configuration error: PORT "eighty" must be integer; for example PORT=3000$/)
  t.match(mistake({ PORT: '70000' }), /^Configuration error: PORT "70000" must be <= 65535/)
  t.match(mistake({ DATABASE_URL: 'sqlite:///var/lib/tessera.db' }), /^Configuration error: DATABASE_URL \(value not shown\) must start with postgres:\/\//)
  t.match(mistake({ DATABASE_URL: 'postgres://' }), /^Configuration error: DATABASE_URL \(value not shown\)/)
  t.match(mistake({ BASE_URL: 'help.example.com' }), /^Configuration error: BASE_URL "help.example.com" is not a URL; for example BASE_URL=https:\/\/help.example.com$/)
  t.match(mistake({ TRUST_PROXY: '10.0.0.0/99' }), /TRUST_PROXY "10.0.0.0\/99"/)
  for (const message of [mistake({ PORT: '-1' }), mistake({ LOG_LEVEL: 'loud' })]) t.notMatch(message, /\n/)
})

t.test('a short SESSION_SECRET is refused without being printed', async (t) => {
  const message = mistake({ SESSION_SECRET: 'hunter2hunter2' })
  t.equal(message, 'Configuration error: SESSION_SECRET (value not shown) is 14 characters long; it must have at least 32; for example SESSION_SECRET=the output of: openssl rand -base64 48')
  t.notMatch(message, 'hunter2')
})

t.test('right values are accepted', async (t) => {
  const config = loadConfig({ DATA_DIR: '/tmp/x', SESSION_SECRET: 'x'.repeat(32), TRUST_PROXY: 'loopback, 10.0.0.0/8, ::1, 192.168.0.0/255.255.0.0', BASE_PATH: '/support', PORT: '8080' })
  t.same(config.trustProxy, ['loopback', '10.0.0.0/8', '::1', '192.168.0.0/255.255.0.0'])
  t.equal(loadConfig({ DATA_DIR: '/tmp/x', SESSION_SECRET: 'x'.repeat(32), TRUST_PROXY: '2' }).trustProxy, 2)
})

t.test('the server prints the one line and exits with 78 (EX_CONFIG), no stack trace', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ TRUST_PROXY: 'yes' }, /^Configuration error: TRUST_PROXY "yes"/],
    [{ BASE_PATH: '/support/' }, /^Configuration error: BASE_PATH "\/support\/"/],
    [{ PORT: 'http' }, /^Configuration error: PORT "http"/],
    [{ DATABASE_URL: 'localhost:5432' }, /^Configuration error: DATABASE_URL/],
    [{ SESSION_SECRET: 'short' }, /^Configuration error: SESSION_SECRET/]
  ]
  await Promise.all(cases.map(async ([env, line]) => {
    const server = startServer({ DATA_DIR: t.testdirName, LOG_LEVEL: 'silent', ...env })
    t.equal(await server.exited, 78, `${JSON.stringify(env)} exits with 78`)
    const lines = server.stderr().trim().split('\n')
    t.equal(lines.length, 1, 'one line')
    t.match(lines[0], line)
    t.notMatch(server.stderr(), /at .*\.ts:\d+/, 'no stack trace')
  }))
})

t.test('Node versions: the floor and end-of-life warnings', async (t) => {
  for (const version of ['20.19.0', '20.20.2', '22.12.0', '24.1.0', '26.0.0']) t.equal(nodeVersionProblem(version), null, `${version} runs`)
  for (const version of ['18.20.4', '20.18.1', '21.7.3', '22.11.0']) {
    t.equal(nodeVersionProblem(version), `Tessera needs Node ^20.19.0 or >=22.12.0 (Node 22 or 24 LTS recommended); this is Node ${version}.`)
  }
  t.equal(nodeEndOfLifeWarning('20.20.2', new Date('2026-11-30')), 'Node 20 reached its end of life on 2026-04-30 and gets no security fixes: upgrade to Node 22 or 24 LTS.')
  t.equal(nodeEndOfLifeWarning('20.20.2', new Date('2026-04-01')), null, 'not before the date')
  t.equal(nodeEndOfLifeWarning('22.12.0', new Date('2026-11-30')), null)
  t.equal(nodeEndOfLifeWarning('24.1.0', new Date('2026-11-30')), null)
})

t.test('the CLI says the same line and exits 78 too', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'create-api-key', '--name', 'Mail server'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: t.testdirName, BASE_PATH: '/support/' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 78)
  t.match(stderr.trim(), /^Configuration error: BASE_PATH "\/support\/" has the wrong form; for example BASE_PATH=\/support$/)
})
