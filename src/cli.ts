import { parseArgs } from 'node:util'
import type { Knex } from 'knex'
import { loadConfigOrExit, type Config } from './config.js'
import { checkConnection, createDatabase, isDatabaseUnavailable, migrateToLatest } from './data/database.js'
import { createAccounts } from './domain/accounts.js'
import { createApiKey } from './domain/api-keys.js'
import { createDeskSettings, deskDefaults } from './domain/desk-settings.js'
import { TesseraError } from './domain/errors.js'
import { createLifecycle } from './domain/lifecycle.js'
import { createInboundMail } from './mail/inbound.js'

const usage = `Usage: npm run tessera -- <command>

  create-agent --name "Ada Lovelace" --email ada@example.com [--admin] [--invite]
      The password is read from TESSERA_PASSWORD or, if unset, the first line of standard input.
      With --invite there is no password: the agent gets an e-mail to choose one.
  create-api-key --name "Mail server"
      Prints a new API key (shown once) for /api/v1.
  mail-in < message.eml
      Reads one e-mail on standard input and turns it into a ticket or a reply. For an MTA
      pipe: exit 0 when the message was handled (or deliberately ignored), 75 when it should
      be delivered again later, 65 when the input is not a message.`

/** sysexits(3) codes an MTA understands. */
const exitCodes = { ok: 0, usage: 64, dataError: 65, tempFail: 75 }

async function readStdin (): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
}

type Command = (db: Knex, config: Config, values: Record<string, string | boolean | undefined>) => Promise<number>

const commands: Record<string, Command> = {
  'create-agent': async (db, config, values) => {
    if (typeof values.name !== 'string' || typeof values.email !== 'string') return exitCodes.usage
    const accounts = createAccounts(db)
    if (values.invite === true) {
      const id = await accounts.inviteAgent({ name: values.name, email: values.email, isAdmin: values.admin === true })
      console.log(`Invited ${values.email} (id ${id}); the invitation is in the outbox.`)
      return exitCodes.ok
    }
    const password = process.env.TESSERA_PASSWORD ?? (await readStdin()).toString('utf8').split(/\r?\n/)[0] ?? ''
    const isAdmin = values.admin === true
    const id = await accounts.createAgent({ name: values.name, email: values.email, password, isAdmin })
    console.log(`Created ${isAdmin ? 'administrator' : 'agent'} ${values.email} (id ${id}).`)
    return exitCodes.ok
  },

  'create-api-key': async (db, config, values) => {
    if (typeof values.name !== 'string') return exitCodes.usage
    console.log(await createApiKey(db, values.name))
    return exitCodes.ok
  },

  'mail-in': async (db, config) => {
    const raw = await readStdin()
    if (raw.toString('utf8').trim() === '') {
      console.error('No message on standard input.')
      return exitCodes.dataError
    }
    const desk = createDeskSettings(db, { defaults: deskDefaults(config) })
    const lifecycle = createLifecycle(db, { reopenWindowMs: async () => (await desk.current()).reopenDays * 86400_000 })
    const inbound = createInboundMail({ db, lifecycle, secret: config.sessionSecret, ownAddress: config.mailFromAddress })
    try {
      const result = await inbound.receive(raw)
      console.log(result.outcome === 'ignored' ? `ignored: ${result.reason}` : `${result.outcome}: ticket ${result.ticketNumber}`)
      return exitCodes.ok
    } catch (err) {
      console.error(`Could not process the message now: ${(err as Error).message}`)
      return exitCodes.tempFail
    }
  }
}

async function main (): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, email: { type: 'string' }, admin: { type: 'boolean', default: false }, invite: { type: 'boolean', default: false } }
  })
  const command = commands[positionals[0] ?? '']
  if (!command) {
    console.error(usage)
    return exitCodes.usage
  }
  const config = loadConfigOrExit()
  let db: Knex | undefined
  try {
    db = createDatabase(config)
    await checkConnection(db, config)
    await migrateToLatest(db)
    const code = await command(db, config, values)
    if (code === exitCodes.usage) console.error(usage)
    return code
  } catch (err) {
    if (err instanceof TesseraError) {
      console.error(err.message)
      return 1
    }
    // An unreachable database is worth a retry (an MTA queues the message); the message
    // names the host and the problem.
    console.error(isDatabaseUnavailable(err) ? (err as Error).message : `Failed: ${(err as Error).message}`)
    return exitCodes.tempFail
  } finally {
    await db?.destroy()
  }
}

// Files the CLI creates (a new SQLite database, mail files) are private, as the server's are.
process.umask(0o077)
process.exitCode = await main()
