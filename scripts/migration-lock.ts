import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Landed migrations are final (a database that ran one never runs it again, so an edit
 * reaches only new installs). migrations/landed.sha256 holds a checksum per landed file, in
 * `sha256sum` format (`sha256sum -c migrations/landed.sha256` checks it too). It only grows.
 */
export const migrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url))
export const lockFile = join(migrationsDir, 'landed.sha256')

export function migrationFiles (dir = migrationsDir): string[] {
  return readdirSync(dir).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')).sort()
}

export function checksum (dir: string, file: string): string {
  return createHash('sha256').update(readFileSync(join(dir, file))).digest('hex')
}

export function readLock (file = lockFile): Map<string, string> {
  const locked = new Map<string, string>()
  if (!existsSync(file)) return locked
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line)
    if (match) locked.set(match[2]!, match[1]!)
  }
  return locked
}

export interface LockProblems {
  /** Locked files whose content is no longer what landed. */
  changed: string[]
  /** Locked files that are gone. */
  missing: string[]
  /** Files not locked yet. */
  unlocked: string[]
}

export function checkLock (dir = migrationsDir, file = lockFile): LockProblems {
  const locked = readLock(file)
  const files = migrationFiles(dir)
  return {
    changed: files.filter((name) => locked.has(name) && locked.get(name) !== checksum(dir, name)),
    missing: [...locked.keys()].filter((name) => !files.includes(name)),
    unlocked: files.filter((name) => !locked.has(name))
  }
}

/** Appends the files not locked yet; never rewrites a line. Returns what it appended. */
export function appendToLock (dir = migrationsDir, file = lockFile): string[] {
  const problems = checkLock(dir, file)
  if (problems.changed.length > 0 || problems.missing.length > 0) {
    throw new Error(`Landed migrations were changed or removed (${[...problems.changed, ...problems.missing].join(', ')}): ` +
      'restore them from git and write a new migration for the change instead.')
  }
  if (problems.unlocked.length > 0) {
    appendFileSync(file, problems.unlocked.map((name) => `${checksum(dir, name)}  ${name}\n`).join(''))
  }
  return problems.unlocked
}
