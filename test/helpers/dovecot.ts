import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ImapFlow } from 'imapflow'
import type { Test } from 'tap'
import { freePort } from './net.js'
import { findProgram, programs } from './programs.js'
import { testFolder } from './app.js'

export interface StoredMessage {
  uid: number
  messageId: string
  subject: string
  flags: string[]
}

export interface TestDovecot {
  /** imap://user:password@127.0.0.1:port, as IMAP_URL takes it. */
  url: string
  user: string
  password: string
  port: number
  /** Puts a message into a folder (IMAP APPEND), creating the folder when it is missing. */
  append: (raw: string | Buffer, folder?: string, flags?: string[]) => Promise<void>
  /** Every selectable folder, named with '/' between levels, and what is in it. */
  folders: () => Promise<Record<string, StoredMessage[]>>
  /** The server is "down" (the port refuses connections) until `start` again. */
  stop: () => Promise<void>
  start: () => Promise<void>
  /** Dovecot's own log, for messages when something goes wrong. */
  log: () => string
}

const user = 'desk@imap.test'
const password = 'imap-test-password'

function findDovecot (): string {
  const path = findProgram(programs.dovecot)
  if (path === null) throw new Error('dovecot is not installed; on Debian: apt-get install -y dovecot-imapd')
  return path
}

/** Numeric uid and gid of a system user, via id(1): Node has no getpwnam. */
function ids (name: string): { uid: number, gid: number } {
  const run = (flag: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim())
  return { uid: run('-u'), gid: run('-g') }
}

/** True once something on the port sends an IMAP greeting. */
async function greets (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('* OK')))
  })
}

/** $1 -F -c $2, ended by SIGTERM (a clean shutdown) once stdin reaches its end. */
const watchdog = `exec 3<&0
"$1" -F -c "$2" </dev/null &
pid=$!
(cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null) >/dev/null 2>&1 &
exec 3<&-
wait "$pid"`

function config (dir: string, baseDir: string, port: number, mailUser: { uid: number, gid: number }): string {
  return `# Written for one test by test/helpers/dovecot.ts
instance_name = tessera-test-${port}
protocols = imap
listen = 127.0.0.1
base_dir = ${baseDir}
state_dir = ${join(dir, 'state')}
log_path = ${join(dir, 'dovecot.log')}
auth_verbose = yes
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# The default maildir layout: its hierarchy separator is '.', not '/'.
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${join(dir, 'passwd')}
}
# Dovecot runs no mail process as root: mail belongs to an unprivileged user.
userdb {
  driver = static
  args = uid=${mailUser.uid} gid=${mailUser.gid} home=${join(dir, 'home')}/%u
}
protocol imap {
  mail_max_userip_connections = 50
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`
}

/**
 * A real Dovecot IMAP server on 127.0.0.1 with one user, for one test; stopped when the test
 * ends. Its configuration, passwd-file, maildir and log live in the test's folder, under
 * dovecot/. Call it first: it empties the test's folder (testFolder(t)), and so would testApp
 * and sharedApps, so give the apps a DATA_DIR under t.testdirName.
 */
export async function dovecotServer (t: Test): Promise<TestDovecot> {
  if (process.getuid?.() !== 0) throw new Error('the Dovecot test server must be started as root (it runs mail as an unprivileged user)')
  const binary = findDovecot()
  const dir = join(testFolder(t), 'dovecot')
  // Unix socket paths may not exceed 107 bytes, and the test folder's path is long: the
  // sockets (and only they) go into a short folder of their own.
  const baseDir = mkdtempSync(join(tmpdir(), 'dovecot-'))
  chmodSync(baseDir, 0o755)
  const mailUser = ids('nobody')
  mkdirSync(join(dir, 'state'), { recursive: true })
  mkdirSync(join(dir, 'home'))
  chownSync(join(dir, 'home'), mailUser.uid, mailUser.gid)
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}\n`)
  // Whatever the umask: the auth process (user dovecot) reads the passwd-file, and the mail
  // processes (nobody) pass through to their home.
  for (const path of [t.testdirName, dir, join(dir, 'state'), join(dir, 'home')]) chmodSync(path, 0o755)
  chmodSync(join(dir, 'passwd'), 0o644)
  const logFile = join(dir, 'dovecot.log')
  const readLog = (): string => existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''

  let port = 0
  let child: ChildProcess | undefined
  let output = ''
  const killOnExit = (): void => { try { process.kill(-child!.pid!, 'SIGKILL') } catch {} }

  const launch = async (): Promise<void> => {
    writeFileSync(join(dir, 'dovecot.conf'), config(dir, baseDir, port, mailUser))
    output = ''
    // Dovecot stays in the foreground under a shell that ends it when its stdin closes: on
    // stop(), and also when the test process dies without running its teardown (a timeout).
    const started = spawn('/bin/sh', ['-c', watchdog, 'sh', binary, join(dir, 'dovecot.conf')], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    child = started
    started.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    started.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    let exited = false
    started.once('exit', () => { exited = true })
    process.once('exit', killOnExit)
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      if (exited) break
      if (await greets(port)) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await stop()
    throw new Error(`dovecot did not start on port ${port}:\n${output}\n${readLog().split('\n').slice(-20).join('\n')}`)
  }

  const start = async (): Promise<void> => {
    if (port !== 0) return await launch()
    // Another process may take the free port before dovecot binds it: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      try {
        return await launch()
      } catch (err) {
        if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err
      }
    }
  }

  async function stop (): Promise<void> {
    const running = child
    child = undefined
    process.removeListener('exit', killOnExit)
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
    running.stdin?.end()
    // The shell, dovecot and its processes share a process group of their own.
    const timer = setTimeout(() => { try { process.kill(-running.pid!, 'SIGKILL') } catch {} }, 10_000)
    await exited
    clearTimeout(timer)
  }

  t.teardown(async () => {
    await stop()
    rmSync(baseDir, { recursive: true, force: true })
  })
  await start()

  async function session<T> (work: (imap: ImapFlow) => Promise<T>): Promise<T> {
    const imap = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: password }, logger: false, disableAutoIdle: true })
    imap.on('error', () => undefined)
    await imap.connect()
    try {
      return await work(imap)
    } finally {
      await imap.logout().catch(() => undefined)
      imap.close()
    }
  }

  return {
    url: `imap://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    user,
    password,
    get port () { return port },
    async append (raw, folder = 'INBOX', flags = []) {
      await session(async (imap) => {
        const path = folder.split('/')
        if (folder !== 'INBOX') await imap.mailboxCreate(path)
        if (await imap.append(path, raw, flags) === false) throw new Error(`could not append to ${folder}`)
      })
    },
    async folders () {
      return await session(async (imap) => {
        const result: Record<string, StoredMessage[]> = {}
        for (const box of await imap.list()) {
          if (box.flags.has('\\Noselect') || box.flags.has('\\NonExistent')) continue
          const name = box.delimiter ? box.path.split(box.delimiter).join('/') : box.path
          const lock = await imap.getMailboxLock(box.path, { readOnly: true })
          try {
            const messages = await imap.fetchAll('1:*', { uid: true, envelope: true, flags: true })
            result[name] = messages.map((m) => ({
              uid: m.uid,
              messageId: m.envelope?.messageId ?? '',
              subject: m.envelope?.subject ?? '',
              flags: [...(m.flags ?? [])]
            }))
          } finally {
            lock.release()
          }
        }
        return result
      })
    },
    stop,
    start,
    log: readLog
  }
}
