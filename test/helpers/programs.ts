import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { projectRoot } from '../../src/paths.js'

/**
 * System programs some tests drive for real. On a machine without one, those tests skip
 * with one line naming the Debian package; CI installs them all and sets TESSERA_NO_SKIP
 * (or CI=true), which turns such a skip into a failure.
 */
export interface Program {
  name: string
  /** Where Debian's package puts it; the first that exists is used. */
  paths: string[]
  debianPackage: string
}

export const programs = {
  dovecot: { name: 'dovecot', paths: ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'], debianPackage: 'dovecot-imapd' },
  chromium: { name: 'chromium', paths: ['/usr/bin/chromium'], debianPackage: 'chromium' },
  nginx: { name: 'nginx', paths: ['/usr/sbin/nginx', '/usr/local/sbin/nginx'], debianPackage: 'nginx' },
  java: { name: 'java', paths: ['/usr/bin/java', '/usr/local/bin/java'], debianPackage: 'default-jre-headless' },
  lynx: { name: 'lynx', paths: ['/usr/bin/lynx', '/usr/local/bin/lynx'], debianPackage: 'lynx' }
} satisfies Record<string, Program>

/** Where each skip is written down for the summary at the end of the run (test/after.ts). */
export const skipRecordDir = join(projectRoot, '.tap', 'skipped-programs')

export interface CheckOptions {
  env?: NodeJS.ProcessEnv
  recordDir?: string
  /** Named in the record: the test file that skipped. */
  testFile?: string
}

export function noSkipsAllowed (env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TESSERA_NO_SKIP === '1' || env.CI === 'true'
}

/** The path of the program, or null when it is not installed. */
export function findProgram (program: Program, env: NodeJS.ProcessEnv = process.env): string | null {
  if (program.name === 'java' && env.JAVA_HOME) return join(env.JAVA_HOME, 'bin', 'java')
  return program.paths.find((path) => existsSync(path)) ?? null
}

/**
 * For a test's options: `t.test(name, { skip: skipWithout(programs.nginx) }, …)`. False when
 * the program is there; else the one-line reason (recorded for the summary), or, where
 * skips are not allowed, an error.
 */
export function skipWithout (program: Program, options: CheckOptions = {}): string | false {
  const env = options.env ?? process.env
  if (findProgram(program, env) !== null) return false
  const reason = `${program.name} is not installed; on Debian: apt-get install -y ${program.debianPackage}`
  if (noSkipsAllowed(env)) throw new Error(`${reason} (TESSERA_NO_SKIP or CI=true: skipping is not allowed here)`)
  const dir = options.recordDir ?? skipRecordDir
  mkdirSync(dir, { recursive: true })
  const testFile = options.testFile ?? testFileName()
  writeFileSync(join(dir, `${program.name}--${testFile.replace(/[^A-Za-z0-9._-]+/g, '_')}`), JSON.stringify({ program: program.name, debianPackage: program.debianPackage, testFile }))
  return reason
}

function testFileName (): string {
  return (process.argv.at(-1) ?? 'unknown').replace(projectRoot, '')
}

/** The lines printed at the end of the run, or [] when nothing was skipped. */
export function skipSummary (dir = skipRecordDir): string[] {
  if (!existsSync(dir)) return []
  const byProgram = new Map<string, { debianPackage: string, files: Set<string> }>()
  for (const file of readdirSync(dir)) {
    const record = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { program: string, debianPackage: string, testFile: string }
    const entry = byProgram.get(record.program) ?? { debianPackage: record.debianPackage, files: new Set<string>() }
    entry.files.add(record.testFile)
    byProgram.set(record.program, entry)
  }
  if (byProgram.size === 0) return []
  return [
    'Skipped because a system program is missing (CI installs them and allows no skip):',
    ...[...byProgram].sort().map(([program, { debianPackage, files }]) => `  ${program} (apt-get install -y ${debianPackage}): ${[...files].sort().join(', ')}`)
  ]
}

export function clearSkipRecords (dir = skipRecordDir): void {
  rmSync(dir, { recursive: true, force: true })
}
