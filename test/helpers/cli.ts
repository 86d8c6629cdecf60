import { spawn } from 'node:child_process'
import type { FastifyInstance } from 'fastify'
import { projectRoot } from '../../src/paths.js'
import { buildIfStale } from './server.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

let built = false

/**
 * `npm run tessera -- <args>` as an admin or an MTA runs it: the built dist/src/cli.js (as
 * that script does; through tsx each run cost twice the CPU), a separate process on the
 * app's data folder (and, on PostgreSQL or MySQL, the app's database and secret).
 */
export async function runCli (app: FastifyInstance, args: string[], stdin: Buffer | string = '', env: Record<string, string> = {}): Promise<CliResult> {
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATA_DIR: app.config.dataDir,
    MAIL_FROM: app.config.mailFrom,
    REOPEN_WINDOW_DAYS: String(app.config.reopenWindowMs / 86400_000),
    LOG_LEVEL: 'silent',
    ...env
  }
  if (process.env.TEST_DATABASE_URL) {
    childEnv.DATABASE_URL = app.config.databaseUrl
    childEnv.SESSION_SECRET = app.config.sessionSecret
  }
  if (!built) { buildIfStale(); built = true }
  const child = spawn(process.execPath, ['dist/src/cli.js', ...args], { cwd: projectRoot, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] })
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve(code))
  })
  child.stdin.on('error', () => undefined)
  child.stdin.end(stdin)
  const code = await exited
  return { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }
}
