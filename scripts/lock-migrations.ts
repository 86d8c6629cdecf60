import { appendToLock, lockFile } from './migration-lock.js'

// npm run migrations:lock — after adding a migration, before it lands.
try {
  const added = appendToLock()
  console.log(added.length === 0 ? 'Every migration is locked already.' : `Locked in ${lockFile}:\n${added.map((name) => `  ${name}`).join('\n')}`)
} catch (err) {
  console.error((err as Error).message)
  process.exitCode = 1
}
