import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { Test } from 'tap'

/** One problem the Nu Html Checker found in a document. */
export interface HtmlError {
  /** The name the document was given when it was checked. */
  document: string
  line?: number
  column?: number
  /** The source around the problem, as the checker quotes it. */
  extract?: string
  message: string
}

interface VnuMessage {
  type: string
  subType?: string
  url?: string
  lastLine?: number
  firstLine?: number
  firstColumn?: number
  lastColumn?: number
  extract?: string
  message: string
}

// vnu-jar is CommonJS and untyped: its export is the path of vnu.jar (a String object).
const vnuJar = String(createRequire(import.meta.url)('vnu-jar'))

function javaCommand (): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java'
}

/**
 * Checks every document with the Nu Html Checker in a single java run (JVM start-up
 * costs a second or two, so documents are written to temporary files and checked in one
 * batch) and returns, for each document name, the messages of type "error".
 *
 * Throws when the checker cannot run or could not read a document, so a broken checker
 * never passes for a clean page.
 */
export async function validateHtml (documents: Record<string, string>): Promise<Map<string, HtmlError[]>> {
  const names = Object.keys(documents)
  const results = new Map<string, HtmlError[]>(names.map((name) => [name, []]))
  if (names.length === 0) return results

  const dir = await mkdtemp(join(tmpdir(), 'tessera-vnu-'))
  try {
    const fileToName = new Map<string, string>()
    const files: string[] = []
    for (const [index, name] of names.entries()) {
      const file = `${String(index).padStart(3, '0')}-${name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60)}.html`
      fileToName.set(file, name)
      files.push(join(dir, file))
      await writeFile(join(dir, file), documents[name]!, 'utf8')
    }

    const output = await runChecker(['-jar', vnuJar, '--format', 'json', '--stdout', '--exit-zero-always', '--errors-only', '--no-langdetect', ...files])
    let report: { messages?: VnuMessage[] }
    try {
      report = JSON.parse(output) as { messages?: VnuMessage[] }
    } catch {
      throw new Error(`The Nu Html Checker did not answer with JSON:\n${output.slice(0, 2000)}`)
    }

    for (const message of report.messages ?? []) {
      if (message.type === 'non-document-error') {
        throw new Error(`The Nu Html Checker could not check ${message.url ?? 'a document'}: ${message.message}`)
      }
      if (message.type !== 'error') continue
      const file = message.url === undefined ? undefined : basename(new URL(message.url).pathname)
      const name = file === undefined ? undefined : fileToName.get(file)
      if (name === undefined) throw new Error(`The Nu Html Checker reported on an unknown document ${message.url ?? ''}: ${message.message}`)
      results.get(name)!.push({
        document: name,
        line: message.lastLine ?? message.firstLine,
        column: message.firstColumn ?? message.lastColumn,
        extract: message.extract,
        message: message.message
      })
    }
    return results
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Checks one document; see validateHtml (prefer it for many documents). */
export async function validateHtmlDocument (html: string, name = 'document'): Promise<HtmlError[]> {
  return (await validateHtml({ [name]: html })).get(name)!
}

/** One line per problem, for assertion messages. */
export function formatHtmlErrors (errors: readonly HtmlError[]): string {
  return errors.map((e) => `${e.document}:${e.line ?? '?'}:${e.column ?? '?'}: ${e.message}${e.extract ? `\n    ${JSON.stringify(e.extract)}` : ''}`).join('\n')
}

async function runChecker (args: string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile(javaCommand(), args, { maxBuffer: 64 * 1024 * 1024, timeout: 110_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`The Nu Html Checker failed to run (${error.message}):\n${stderr || stdout}`))
      else resolve(stdout)
    })
  })
}

/**
 * Every page is checked in one batch, with a broken canary document among them, so a
 * checker that silently reports nothing fails the test instead of passing it.
 */
export async function assertValidDocuments (t: Test, documents: Record<string, string>): Promise<void> {
  const canary = '<!DOCTYPE html><html lang="en"><head><title>canary</title></head><body><p><span></div></body></html>'
  const results = await validateHtml({ ...documents, canary })
  t.match(formatHtmlErrors(results.get('canary') ?? []), 'Unclosed element', 'the checker does report errors')
  results.delete('canary')
  t.equal(results.size, Object.keys(documents).length, 'every page was checked')
  for (const [name, errors] of results) {
    t.strictSame(errors.map((e) => formatHtmlErrors([e])), [], `${name}: the Nu Html Checker finds no errors`)
  }
}
