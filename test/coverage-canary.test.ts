import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot } from '../src/paths.js'

interface Summary { lines: { pct: number }, functions: { pct: number }, branches: { pct: number } }

// npm test measures coverage with c8 over tsx; tap's own coverage once reported 100 % for
// code that never ran. A script that calls one path of one module must show the rest as
// not covered, and a module it never loads as 0 %.
t.test('coverage is honest: code that did not run is reported as not covered', async (t) => {
  const dir = t.testdir({})
  const script = join(dir, 'canary.ts')
  writeFileSync(script, `import { redactUrl } from ${JSON.stringify(join(projectRoot, 'src/web/log-redaction.ts'))}\nredactUrl('/plain/path')\n`)
  const c8 = join(projectRoot, 'node_modules/c8/bin/c8.js')
  const args = [c8, '--all', '--include', 'src/web/log-redaction.ts', '--include', 'src/web/ttl-cache.ts', '--reporter', 'json-summary',
    '--reports-dir', dir, '--temp-directory', join(dir, 'tmp'), process.execPath, '--import', 'tsx', script]
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, stdio: 'ignore', env: { ...process.env, NODE_V8_COVERAGE: '' } })
    child.on('error', reject)
    child.on('exit', resolve)
  })
  t.equal(code, 0)
  const summary = JSON.parse(readFileSync(join(dir, 'coverage-summary.json'), 'utf8')) as Record<string, Summary>
  const file = (name: string): Summary => summary[join(projectRoot, name)]!
  const redaction = file('src/web/log-redaction.ts')
  t.ok(redaction.lines.pct > 50 && redaction.lines.pct < 100, `the module that ran is partly covered (${redaction.lines.pct} % of lines): the query-string path never ran`)
  t.ok(redaction.branches.pct < 100, `and not every branch (${redaction.branches.pct} %)`)
  t.equal(file('src/web/ttl-cache.ts').lines.pct, 0, 'a module that was never loaded counts as 0 %')
})
