import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import * as cheerio from 'cheerio'
import { findProgram, programs } from './programs.js'

/**
 * lynx, the text browser, run as a person would: it keeps its cookies for the session,
 * follows redirects and submits forms from the keys it is given. Its own settings come
 * from a home directory of the test's, not the developer's.
 */
export interface Lynx {
  /** The page at url as lynx renders it to text (`-dump`): a plain GET. */
  dump: (url: string) => Promise<string>
  /** The page's HTML as lynx received it (`-source`). */
  source: (url: string) => Promise<string>
  /**
   * Opens url and presses `keys` (lynx's key names, one per press: 'Down Arrow', '^J', 'q'),
   * then quits. Returns what was on the screen along the way, without terminal escapes.
   */
  press: (url: string, keys: string[]) => Promise<string>
}

export function lynx (t: Test): Lynx {
  const binary = findProgram(programs.lynx)
  if (binary === null) throw new Error('lynx is not installed (skip the test with skipWithout(programs.lynx))')
  // Not t.testdir(): calling it again would empty the folder the test's app keeps its data in.
  const home = mkdtempSync(join(tmpdir(), 'tessera-lynx-'))
  t.teardown(() => { rmSync(home, { recursive: true, force: true }) })
  const env = { PATH: process.env.PATH ?? '', HOME: home, TERM: 'vt100', LANG: 'C.UTF-8' }
  const run = async (args: string[]): Promise<string> => await new Promise((resolve, reject) => {
    execFile(binary, ['-nopause', '-accept_all_cookies', '-display_charset=utf-8', ...args], { env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`lynx ${args.join(' ')} failed: ${error.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
  return {
    dump: async (url) => await run(['-dump', url]),
    source: async (url) => await run(['-source', url]),
    press: async (url, keys) => {
      const script = join(home, 'keys.txt')
      await writeFile(script, [...keys, 'q', 'y'].map((key) => `key ${key}\n`).join(''))
      const screen = await run([`-cmd_script=${script}`, url])
      // eslint-disable-next-line no-control-regex
      return screen.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]/g, ' ').replace(/\s+/g, ' ')
    }
  }
}

/** One key press per character, for typing into the field lynx is on. */
export function typed (text: string): string[] {
  return [...text].map((char) => char === ' ' ? '0x20' : char)
}

/**
 * How many times lynx's Down Arrow (next link or field) moves from the page's first link
 * to the element `selector` names: links and visible form fields count, in document order.
 */
export function stepsTo (html: string, selector: string): number {
  const $ = cheerio.load(html)
  const target = $(selector).get(0)
  if (target === undefined) throw new Error(`no ${selector} on the page`)
  const stops: unknown[] = $('a[href], input:not([type=hidden]), button, select, textarea').toArray()
  const index = stops.indexOf(target)
  if (index < 0) throw new Error(`${selector} is not a link or a field`)
  return index
}
