import { parseArgs } from 'node:util'
import { loadConfig } from './config.js'
import { createDatabase, migrateToLatest } from './data/database.js'
import { createAccounts } from './domain/accounts.js'
import { TesseraError } from './domain/errors.js'

const usage = `Usage: npm run tessera -- create-agent --name "Ada Lovelace" --email ada@example.com [--admin]
The password is read from the TESSERA_PASSWORD environment variable or, if unset, from the first line of standard input.`

async function readPassword (): Promise<string> {
  if (process.env.TESSERA_PASSWORD) return process.env.TESSERA_PASSWORD
  let input = ''
  for await (const chunk of process.stdin) input += String(chunk)
  return input.split(/\r?\n/)[0] ?? ''
}

async function main (): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, email: { type: 'string' }, admin: { type: 'boolean', default: false } }
  })
  if (positionals[0] !== 'create-agent' || !values.name || !values.email) {
    console.error(usage)
    return 2
  }
  const db = createDatabase(loadConfig())
  try {
    await migrateToLatest(db)
    const id = await createAccounts(db).createAgent({
      name: values.name,
      email: values.email.trim().toLowerCase(),
      password: await readPassword(),
      isAdmin: values.admin ?? false
    })
    console.log(`Created ${values.admin ? 'administrator' : 'agent'} ${values.email} (id ${id}).`)
    return 0
  } catch (err) {
    if (err instanceof TesseraError) {
      console.error(err.message)
      return 1
    }
    throw err
  } finally {
    await db.destroy()
  }
}

process.exitCode = await main()
