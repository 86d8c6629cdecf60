import { parseArgs } from 'node:util'
import type { Knex } from 'knex'
import { loadConfigOrExit, type Config } from './config.js'
import { findAgentByEmail } from './data/agents.js'
import { listDepartments } from './data/catalog.js'
import { checkConnection, createDatabase, databaseLocation, dialectOf, isDatabaseUnavailable, migrateToLatest } from './data/database.js'
import { createAccounts } from './domain/accounts.js'
import { createAgentAdmin, isDepartmentRole, roleNames } from './domain/admin/agents.js'
import { normalizeEmail } from './domain/email-address.js'
import { createApiKey } from './domain/api-keys.js'
import { attachmentCeilings, createDeskSettings, deskDefaults } from './domain/desk-settings.js'
import { TesseraError } from './domain/errors.js'
import { createLifecycle } from './domain/lifecycle.js'
import { createInboundMail, UnprocessableMail } from './mail/inbound.js'
import { createFileStore } from './attachments/store.js'

const usage = `Usage: npm run tessera -- <command>

  create-agent --name "Ada Lovelace" --email ada@example.com [--admin] [--invite]
      The password is read from TESSERA_PASSWORD or, if unset, asked for on the terminal
      (not shown as typed), or read from the first line of standard input when piped.
      With --invite there is no password: the agent gets an e-mail to choose one.
  invite --name "Bob Kahn" --email bob@example.com [--admin] [--role Support=agent ...]
      Invites an agent, as Administration › Agents does: a link to choose a password,
      valid for 7 days, goes out by e-mail. Roles: view (view only), agent, manager.
  set-role --email bob@example.com --department Support --role agent
      Gives the agent a role in the department (name or id); --role none takes it away.
  disable --email bob@example.com
      The agent can no longer sign in; their sessions end at once.
  enable --email bob@example.com
      The agent can sign in again.
  create-api-key --name "Mail server"
      Prints a new API key (shown once) for /api/v1.
  mail-in < message.eml
      Reads one e-mail on standard input and turns it into a ticket or a reply. For an MTA
      pipe: exit 0 when the message was handled (or deliberately ignored), 75 when it should
      be delivered again later, 65 when the input is not a message or can never be processed
      (it is then set aside, with the reason, at Admin → Mail set aside).`

/** sysexits(3) codes an MTA understands. */
const exitCodes = { ok: 0, usage: 64, dataError: 65, tempFail: 75 }

async function readStdin (): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
}

/**
 * Asks for a password on the terminal without echoing it. Ctrl-C gives up; backspace
 * takes back the last character.
 */
async function promptHidden (prompt: string): Promise<string> {
  const stdin = process.stdin
  // Echo off before the prompt shows, so nothing typed after it appears.
  stdin.setRawMode(true)
  process.stderr.write(prompt)
  stdin.setEncoding('utf8')
  stdin.resume()
  return await new Promise((resolve, reject) => {
    let typed = ''
    const finish = (): void => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    const onData = (chunk: string): void => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n' || character === '\u0004') {
          finish()
          resolve(typed)
          return
        }
        if (character === '\u0003') {
          finish()
          reject(new TesseraError('TESSERA_INVALID_INPUT', 'Cancelled; nothing was created.'))
          return
        }
        if (character === '\u007f' || character === '\b') typed = [...typed].slice(0, -1).join('')
        else if (character >= ' ') typed += character
      }
    }
    stdin.on('data', onData)
  })
}

/** TESSERA_PASSWORD, else asked twice on a terminal, else the first line of a pipe. */
async function readPassword (): Promise<string> {
  if (process.env.TESSERA_PASSWORD !== undefined) return process.env.TESSERA_PASSWORD
  if (!process.stdin.isTTY) return (await readStdin()).toString('utf8').split(/\r?\n/)[0] ?? ''
  const password = await promptHidden('Password: ')
  if (await promptHidden('Password again: ') !== password) throw new TesseraError('TESSERA_INVALID_INPUT', 'The two passwords are not the same; nothing was created.')
  return password
}

/** Which database a command works on, so nobody changes the wrong desk; never a password. */
function describeDatabase (config: Config): string {
  const names = { sqlite: 'SQLite', postgres: 'PostgreSQL', mysql: 'MySQL/MariaDB' } as const
  return `Database: ${names[dialectOf(config.databaseUrl)]} at ${databaseLocation(config)}`
}

async function agentNamed (db: Knex, email: unknown): Promise<{ id: number, name: string, email: string }> {
  if (typeof email !== 'string') throw new TesseraError('TESSERA_INVALID_INPUT', 'Name the agent with --email.')
  const agent = await findAgentByEmail(db, normalizeEmail(email))
  if (!agent) throw new TesseraError('TESSERA_NOT_FOUND', `No agent has the e-mail address ${email}.`)
  return agent
}

/** A department by its id or its name (in any case). */
async function departmentNamed (db: Knex, name: string): Promise<{ id: number, name: string }> {
  const departments = await listDepartments(db)
  const found = departments.find((d) => String(d.id) === name || d.name.toLowerCase() === name.trim().toLowerCase())
  if (!found) throw new TesseraError('TESSERA_NOT_FOUND', `No department is called ${name}. There are: ${departments.map((d) => d.name).join(', ')}.`)
  return found
}

function listed (value: Values[string]): string[] {
  return Array.isArray(value) ? value : []
}

function roleOrNone (value: string): string | null {
  if (value === 'none') return null
  if (!isDepartmentRole(value)) throw new TesseraError('TESSERA_INVALID_INPUT', `A role is one of ${Object.keys(roleNames).join(', ')} or none, not ${value}.`)
  return value
}

type Values = Record<string, string | boolean | string[] | undefined>
type Command = (db: Knex, config: Config, values: Values) => Promise<number>

const commands: Record<string, Command> = {
  'create-agent': async (db, config, values) => {
    if (typeof values.name !== 'string' || typeof values.email !== 'string') return exitCodes.usage
    const accounts = createAccounts(db)
    if (values.invite === true) {
      const id = await createAgentAdmin(db, { reopenWindowMs: config.reopenWindowMs }).invite(null, { name: values.name, email: values.email, isAdmin: values.admin === true, roles: {} })
      console.log(`Invited ${values.email} (id ${id}); the invitation is in the outbox.`)
      return exitCodes.ok
    }
    const password = await readPassword()
    const isAdmin = values.admin === true
    const id = await accounts.createAgent({ name: values.name, email: values.email, password, isAdmin })
    console.log(`Created ${isAdmin ? 'administrator' : 'agent'} ${values.email} (id ${id}).`)
    return exitCodes.ok
  },

  invite: async (db, config, values) => {
    if (typeof values.name !== 'string' || typeof values.email !== 'string') return exitCodes.usage
    const roles: Record<number, string | null> = {}
    for (const given of listed(values.role)) {
      const split = given.lastIndexOf('=')
      if (split < 1) throw new TesseraError('TESSERA_INVALID_INPUT', `Give a role as Department=role, not ${given}.`)
      roles[(await departmentNamed(db, given.slice(0, split))).id] = roleOrNone(given.slice(split + 1))
    }
    const admin = createAgentAdmin(db, { reopenWindowMs: config.reopenWindowMs })
    const id = await admin.invite(null, { name: values.name, email: values.email, isAdmin: values.admin === true, roles })
    console.log(`Invited ${normalizeEmail(values.email)} (id ${id}); the invitation is in the outbox.`)
    return exitCodes.ok
  },

  'set-role': async (db, config, values) => {
    const [role] = listed(values.role)
    if (typeof values.department !== 'string' || typeof role !== 'string') return exitCodes.usage
    const agent = await agentNamed(db, values.email)
    const department = await departmentNamed(db, values.department)
    const value = roleOrNone(role)
    await createAgentAdmin(db, { reopenWindowMs: config.reopenWindowMs }).update(null, agent.id, { roles: { [department.id]: value } })
    console.log(value === null ? `${agent.email} has no role in ${department.name} now.` : `${agent.email} is ${roleNames[value as keyof typeof roleNames].toLowerCase()} in ${department.name}.`)
    return exitCodes.ok
  },

  disable: async (db, config, values) => {
    const agent = await agentNamed(db, values.email)
    await createAgentAdmin(db, { reopenWindowMs: config.reopenWindowMs }).disable(null, agent.id)
    console.log(`${agent.email} is disabled and signed out everywhere.`)
    return exitCodes.ok
  },

  enable: async (db, config, values) => {
    const agent = await agentNamed(db, values.email)
    await createAgentAdmin(db, { reopenWindowMs: config.reopenWindowMs }).enable(null, agent.id)
    console.log(`${agent.email} can sign in again.`)
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
    const desk = createDeskSettings(db, { defaults: deskDefaults(config), ceilings: attachmentCeilings(config) })
    const lifecycle = createLifecycle(db, { reopenWindowMs: async () => (await desk.current()).reopenDays * 86400_000 })
    // The same file store as the app's: attachments, and set-aside messages, piped in are kept too.
    const inbound = createInboundMail({ db, lifecycle, secret: config.sessionSecret, ownAddress: config.mailFromAddress, fileStore: createFileStore(config.attachmentsDir), attachmentLimits: desk.attachmentLimits })
    try {
      const result = await inbound.receive(raw)
      console.log(result.outcome === 'ignored' ? `ignored: ${result.reason}` : `${result.outcome}: ticket ${result.ticketNumber}`)
      return exitCodes.ok
    } catch (err) {
      // Never processable: the MTA bounces it (65) instead of retrying for days (75).
      if (err instanceof UnprocessableMail) {
        console.error(`Refused for good, set aside for an administrator: ${err.message}`)
        return exitCodes.dataError
      }
      console.error(`Could not process the message now: ${(err as Error).message}`)
      return exitCodes.tempFail
    }
  }
}

async function main (): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        email: { type: 'string' },
        admin: { type: 'boolean', default: false },
        invite: { type: 'boolean', default: false },
        department: { type: 'string' },
        role: { type: 'string', multiple: true }
      }
    })
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`)
    return exitCodes.usage
  }
  const { positionals, values } = parsed
  const command = commands[positionals[0] ?? '']
  if (!command) {
    console.error(usage)
    return exitCodes.usage
  }
  const config = loadConfigOrExit()
  let db: Knex | undefined
  try {
    db = createDatabase(config)
    console.error(describeDatabase(config))
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
