import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'

/** A fresh app on its own SQLite file in the test's own directory; closed when the test ends. */
export async function testApp (t: Test, env: Record<string, string> = {}, options: AppOptions = {}): Promise<FastifyInstance> {
  const dir = t.testdir({})
  const config: Config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', BASE_URL: 'http://help.example.test', ...env })
  const app = await buildApp(config, options)
  t.teardown(async () => { await app.close() })
  await app.ready()
  return app
}

/** A clock tests can move forward. */
export function testClock (start = Date.UTC(2026, 10, 26, 9, 0)): { now: () => number, advance: (ms: number) => void } {
  let current = start
  return { now: () => current, advance: (ms) => { current += ms } }
}
