import t from 'tap'
import { findProgram, skipSummary, skipWithout, type Program } from './programs.js'

const missing: Program = { name: 'tessera-no-such-program', paths: ['/nonexistent/bin/tessera-no-such-program'], debianPackage: 'tessera-imaginary' }
const present: Program = { name: 'sh', paths: ['/nonexistent/sh', '/bin/sh'], debianPackage: 'dash' }

t.test('a present program: no skip, and its path', async (t) => {
  const recordDir = t.testdir({})
  t.equal(skipWithout(present, { env: {}, recordDir }), false)
  t.equal(findProgram(present), '/bin/sh')
  t.same(skipSummary(recordDir), [])
})

t.test('a missing program: one line naming the Debian package, written down for the summary', async (t) => {
  const recordDir = t.testdir({})
  const reason = skipWithout(missing, { env: {}, recordDir, testFile: 'test/mail/imap.test.ts' })
  t.equal(reason, 'tessera-no-such-program is not installed; on Debian: apt-get install -y tessera-imaginary')
  skipWithout(missing, { env: {}, recordDir, testFile: 'test/web/other.test.ts' })
  t.same(skipSummary(recordDir), [
    'Skipped because a system program is missing (CI installs them and allows no skip):',
    '  tessera-no-such-program (apt-get install -y tessera-imaginary): test/mail/imap.test.ts, test/web/other.test.ts'
  ])
})

t.test('with TESSERA_NO_SKIP=1 or CI=true a missing program is a failure, not a skip', async (t) => {
  const recordDir = t.testdir({})
  t.throws(() => skipWithout(missing, { env: { TESSERA_NO_SKIP: '1' }, recordDir }), /apt-get install -y tessera-imaginary \(TESSERA_NO_SKIP or CI=true/)
  t.throws(() => skipWithout(missing, { env: { CI: 'true' }, recordDir }), /skipping is not allowed/)
  t.same(skipSummary(recordDir), [], 'and nothing is recorded as skipped')
})

t.test('JAVA_HOME wins for java, as the validator runs it', async (t) => {
  t.equal(findProgram({ name: 'java', paths: [], debianPackage: 'default-jre-headless' }, { JAVA_HOME: '/opt/jdk' }), '/opt/jdk/bin/java')
})
