import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, openSync, rmSync, statSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projectRoot } from '../../src/paths.js'

export interface ServerProcess {
  child: ChildProcess
  /** Everything written so far to standard output and standard error. */
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/**
 * Compiles dist/ as `npm start` does, when the sources changed since it was built; throws
 * with the compiler's output when that fails.
 */
export function buildIfStale (): void {
  // Test files run side by side, and a build starts by removing dist/: one at a time.
  const lock = join(tmpdir(), `tessera-build-${createHash('sha256').update(projectRoot).digest('hex').slice(0, 12)}.lock`)
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'))
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      // A lock older than any build is one whose process died holding it.
      const held = statSync(lock, { throwIfNoEntry: false })
      if (held !== undefined && Date.now() - held.mtimeMs > 5 * 60_000) rmSync(lock, { force: true })
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
    }
  }
  try {
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: projectRoot, encoding: 'utf8' })
    if (build.status !== 0) throw new Error(`scripts/build.mjs --if-stale failed:\n${build.stdout}${build.stderr}`)
  } finally {
    unlinkSync(lock)
  }
}

/**
 * `src/server.ts` as a service manager starts it: a process of its own with only the
 * environment given (and PATH), optionally under a umask of the caller's choice; with
 * `built`, the compiled dist/src/server.js that `npm start` runs (see buildIfStale). A
 * developer's own .env is not read unless ENV_FILE says so.
 */
export function startServer (env: Record<string, string>, options: { umask?: string, built?: boolean } = {}): ServerProcess {
  const node = options.built === true ? [process.execPath, 'dist/src/server.js'] : [process.execPath, '--import', 'tsx', 'src/server.ts']
  const [command, args] = options.umask === undefined
    ? [node[0]!, node.slice(1)]
    : ['/bin/sh', ['-c', `umask ${options.umask} && exec "$0" "$@"`, ...node]]
  const child = spawn(command, args, {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', ENV_FILE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8') })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

/**
 * Waits until GET url answers at all (any status), or gives up after `ms`. Generous: a
 * server started through tsx compiles the whole app first, which on a busy 2-core machine
 * has taken more than 15 s. This waits for readiness; it measures nothing. Given the
 * server's process, it stops at once if that exits, and says what it printed.
 */
export async function waitForHttp (url: string, server?: ServerProcess, ms = 60_000): Promise<void> {
  const until = Date.now() + ms
  let exitCode: number | null | undefined
  void server?.exited.then((code) => { exitCode = code })
  while (Date.now() < until) {
    if (await fetch(url).then(() => true, () => false)) return
    if (exitCode !== undefined) throw new Error(`the server exited (${String(exitCode)}) before ${url} answered: ${server?.stderr().slice(0, 500) ?? ''}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${url} did not answer within ${ms} ms; the server printed: ${server?.stderr().slice(0, 500) ?? ''}`)
}
