// npm run build: compiles src/ and migrations/ to dist/.
// With --if-stale (npm start, npm run tessera, npm install's prepare step) it compiles only
// when the sources differ from the ones dist/ was built from, so a start takes a second
// instead of a full TypeScript compile.
//
// Plain JavaScript on purpose: it must run before anything is compiled, and in about
// 20 ms when there is nothing to do.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const stampFile = join(dist, '.source-hash')
const entryPoint = join(dist, 'src', 'server.js')
const inputs = ['src', 'migrations', 'tsconfig.json', 'tsconfig.build.json']

function filesUnder (path) {
  const full = join(root, path)
  if (!existsSync(full)) return []
  try {
    return readdirSync(full, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath, entry.name)))
  } catch (err) {
    if (err.code === 'ENOTDIR') return [path]
    throw err
  }
}

function typescriptPackage () {
  try {
    return createRequire(import.meta.url).resolve('typescript/package.json')
  } catch {
    return null
  }
}

/**
 * Content, not modification times: unpacking an older release over a newer build, or a
 * checkout that keeps old times, must still rebuild.
 */
function sourceHash (typescript) {
  const hash = createHash('sha256')
  hash.update(typescript === null ? 'no typescript' : JSON.parse(readFileSync(typescript, 'utf8')).version)
  const files = inputs.flatMap(filesUnder).sort()
  for (const file of files) {
    hash.update(`\0${file}\0`)
    hash.update(readFileSync(join(root, file)))
  }
  return hash.digest('hex')
}

function storedHash () {
  try {
    return readFileSync(stampFile, 'utf8').trim()
  } catch {
    return ''
  }
}

const ifStale = process.argv.includes('--if-stale')
const typescript = typescriptPackage()

if (typescript === null) {
  // A production install (npm install --omit=dev) has no compiler; a build shipped with it
  // is used as it is.
  if (existsSync(entryPoint)) process.exit(0)
  console.error('Cannot build Tessera: TypeScript is not installed. Run npm install (with dev dependencies) first.')
  process.exit(1)
}

const hash = sourceHash(typescript)
if (ifStale && existsSync(entryPoint) && storedHash() === hash) process.exit(0)

if (ifStale) {
  const why = existsSync(entryPoint) ? 'the sources changed since the last build' : 'there is no build yet'
  console.error(`Building Tessera: ${why}. This takes up to a minute, once.`)
} else {
  console.error('Building Tessera…')
}
// Start clean, so a source file that was removed leaves no compiled copy behind (a stale
// migration in dist/ would still run).
rmSync(dist, { recursive: true, force: true })
const tsc = join(typescript, '..', 'bin', 'tsc')
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
if (result.status !== 0) {
  console.error('The build failed (see above).')
  process.exit(result.status ?? 1)
}
// The hash of the sources as they were when the compile began: an edit made meanwhile
// makes the next start build again.
writeFileSync(stampFile, hash + '\n')
