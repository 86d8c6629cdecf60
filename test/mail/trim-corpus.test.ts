import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import * as cheerio from 'cheerio'
import { trimQuotedHtml, trimReply } from '../../src/mail/trim.js'

/**
 * The trimming corpus: replies as mail clients write them, in many languages, each with
 * exactly what must be kept. A case passes only when the output is that text: no quoted
 * history left and none of the sender's words lost. The score must stay at 95 % or above.
 */

const corpusDir = fileURLToPath(new URL('../fixtures/trim/', import.meta.url))

interface Case { file: string, name: string, input: string, kept: string }

/** `#### name`, the message, `==== kept`, what must remain; cases follow one another. */
function readCases (extension: string): Case[] {
  return readdirSync(corpusDir).filter((file) => file.endsWith(extension)).sort().flatMap((file) => {
    const source = readFileSync(`${corpusDir}${file}`, 'utf8')
    return source.split(/^#### /m).slice(1).map((block) => {
      const [header, ...rest] = block.split('\n')
      const [input, kept] = rest.join('\n').split(/^==== kept\n/m)
      if (kept === undefined) throw new Error(`${file}: “${header}” has no “==== kept” part`)
      return { file, name: header!.trim(), input: input!.replace(/\n$/, ''), kept: kept.replace(/\n+$/, '') }
    })
  })
}

/** What a reader of the HTML sees, without the white space (where blocks break is not compared). */
function visibleText (html: string): string {
  const $ = cheerio.load(html)
  $('head, style, script').remove()
  return $.root().text().replace(/\s+/g, '')
}

function score (t: Test, cases: Case[], passes: (c: Case) => boolean, minimum: number): void {
  const failed = cases.filter((c) => !passes(c))
  const rate = (cases.length - failed.length) / cases.length
  t.comment(`${cases.length - failed.length} of ${cases.length} trimmed exactly (${(rate * 100).toFixed(1)} %)`)
  for (const c of failed) t.comment(`missed: ${c.file} › ${c.name}`)
  t.ok(cases.length >= minimum, `the corpus holds at least ${minimum} cases`)
  t.ok(rate >= 0.95, 'at least 95 % come out with no quoted history and no answer lost')
}

const textCases = readCases('.txt')
const htmlCases = readCases('.html')

t.test('plain-text replies', async (t) => {
  score(t, textCases, (c) => trimReply(c.input) === c.kept, 60)
})

t.test('plain-text replies with CRLF line endings trim the same', async (t) => {
  score(t, textCases, (c) => trimReply(c.input.replace(/\n/g, '\r\n')) === c.kept, 60)
})

t.test('HTML replies', async (t) => {
  score(t, htmlCases, (c) => visibleText(trimQuotedHtml(c.input)) === c.kept.replace(/\s+/g, ''), 15)
})
