import type { AddressInfo } from 'node:net'
import { browsedHost, configExitCode, loadConfigOrExit, nodeEndOfLifeWarning, nodeVersionProblem, type Config } from './config.js'
import { logFormatFor, textLogStream } from './log-format.js'

/** sysexits(3): what a service manager or an operator's script can branch on. */
const exitCodes = { unavailable: 69, config: configExitCode }

const tooOld = nodeVersionProblem(process.versions.node)
if (tooOld !== null) {
  console.error(tooOld)
  process.exit(exitCodes.config)
}
// Everything the desk writes (database, mail files, the session secret) is private to its
// user, whatever umask the service manager or shell handed us.
process.umask(0o077)

const config = loadConfigOrExit()

// Loaded after the checks above, so an unsupported Node fails with one line, not a stack.
const { buildApp } = await import('./app.js')
const { DatabaseUnavailableError } = await import('./data/database.js')

const logFormat = logFormatFor(config, process.stdout.isTTY === true)
let app: Awaited<ReturnType<typeof buildApp>>
try {
  app = await buildApp(config, logFormat === 'text' ? { logStream: textLogStream(process.stdout) } : {})
} catch (err) {
  if (!(err instanceof DatabaseUnavailableError)) throw err
  console.error(err.message)
  process.exit(exitCodes.unavailable)
}
const eol = nodeEndOfLifeWarning(process.versions.node)
if (eol !== null) app.log.warn(eol)

const shutdownLimitMs = 20_000
let closing = false
async function shutdown (signal: string): Promise<void> {
  if (closing) return
  closing = true
  app.log.info({ signal }, 'shutting down')
  // The jobs cut their own work short (a send in flight is aborted and its lease handed
  // back); this bound only guards against what nobody foresaw, and stays under the 30 s
  // the shipped systemd unit waits before it kills.
  setTimeout(() => {
    app.log.error(`shutdown took longer than ${shutdownLimitMs / 1000} s; exiting now`)
    process.exit(1)
  }, shutdownLimitMs).unref()
  // close() stops accepting, lets requests in flight finish, then runs onClose hooks
  // (which close the database).
  await app.close()
  process.exit(0)
}
process.on('SIGTERM', () => { void shutdown('SIGTERM') })
process.on('SIGINT', () => { void shutdown('SIGINT') })

/** One line for the listening problems an operator fixes in the configuration; else null. */
function listenProblem (err: unknown, config: Config): string | null {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE': return `Port ${config.port} is already in use; set PORT to another port`
    case 'EACCES': return `Port ${config.port} needs administrator rights on this system; set PORT to a port above 1023`
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND': return `HOST ${config.host} is not an address of this machine; set HOST to one of its addresses, or 0.0.0.0 for all`
    default: return null
  }
}

try {
  await app.listen({ port: config.port, host: config.host })
} catch (err) {
  const problem = listenProblem(err, config)
  if (problem === null) throw err
  console.error(problem)
  await app.close()
  process.exit(exitCodes.unavailable)
}

// Printed after listening, so a server that could not start hands out no link; and as a
// plain line, not a log entry, so it stands out in text and JSON logs alike.
if (await app.accounts.needsSetup()) {
  const { port } = app.server.address() as AddressInfo
  const browsed = browsedHost(config.host)
  const origin = config.baseUrlGiven ? config.baseUrl : `http://${browsed.host}:${port}`
  const link = origin + app.url(`/staff/setup/${await app.accounts.issueSetupToken()}`)
  const why = !config.baseUrlGiven && browsed.isMachineName
    ? `\n(${browsed.host} is this machine's name: HOST=${config.host} listens on every address. Set BASE_URL if people reach it under another name.)`
    : ''
  process.stdout.write(`\nNo agents yet. Create the first administrator at ${link}${why}\n\n`)
}
