import { configExitCode, loadConfigOrExit, nodeEndOfLifeWarning, nodeVersionProblem } from './config.js'

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

let app: Awaited<ReturnType<typeof buildApp>>
try {
  app = await buildApp(config)
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

await app.listen({ port: config.port, host: config.host })
