import { foldText } from '../domain/search-query.js'
import type { SnippetSource } from '../data/search.js'

/** A piece of a quoted result line; the template marks the hits. */
export interface SnippetPart { text: string, hit: boolean }

const scanLimit = 100_000
const isWordChar = (char: string | undefined): boolean => char !== undefined && /[\p{L}\p{N}]/u.test(char)

/** Where `token` starts a word of the folded text (a whole word unless `prefix`), as the index matched it. */
function * wordsAt (folded: string, token: string, prefix: boolean): Generator<number> {
  for (let at = folded.indexOf(token); at !== -1; at = folded.indexOf(token, at + 1)) {
    if (!isWordChar(folded[at - 1]) && (prefix || !isWordChar(folded[at + token.length]))) yield at
  }
}

/**
 * About `width` characters of `text` around its first hit, with every hit marked. Hits are
 * found on the folded text (no case, no accents), as the index found them, and marked on
 * the text as written.
 */
export function snippet (text: string, tokens: Array<{ token: string, prefix: boolean }>, width = 180): SnippetPart[] {
  const source = text.slice(0, scanLimit)
  // The folded text, and for each of its characters where it came from in `source`.
  let folded = ''
  const origin: number[] = []
  for (let i = 0; i < source.length;) {
    const char = String.fromCodePoint(source.codePointAt(i)!)
    const fold = foldText(char)
    for (let k = 0; k < fold.length; k++) origin.push(i)
    folded += fold
    i += char.length
  }
  origin.push(source.length)
  const ranges: Array<[number, number]> = []
  for (const { token, prefix } of tokens) {
    for (const at of wordsAt(folded, token, prefix)) {
      let wordEnd = at + token.length
      if (prefix) while (isWordChar(folded[wordEnd])) wordEnd++
      ranges.push([origin[at]!, origin[wordEnd]!])
    }
  }
  ranges.sort((a, b) => a[0] - b[0])
  const first = ranges[0]?.[0] ?? 0
  let start = Math.max(0, first - Math.floor(width / 3))
  if (start > 0) start = Math.max(source.lastIndexOf(' ', start) + 1, start - 20)
  const end = Math.min(source.length, start + width)
  const parts: SnippetPart[] = []
  let at = start
  const push = (to: number, hit: boolean): void => {
    if (to > at) parts.push({ text: source.slice(at, to).replace(/\s+/g, ' '), hit })
    at = to
  }
  for (const [from, to] of ranges) {
    if (from < at || from >= end) continue
    push(from, false)
    push(Math.min(to, end), true)
  }
  push(end, false)
  if (start > 0) parts.unshift({ text: '…', hit: false })
  if (end < text.length) parts.push({ text: '…', hit: false })
  return parts
}

/** How well `text` matches: how many of the words it holds, then how often they occur. */
function matchStrength (text: string, tokens: ReadonlyArray<{ token: string, prefix: boolean }>): [number, number] {
  const folded = foldText(text.slice(0, scanLimit))
  let words = 0
  let hits = 0
  for (const { token, prefix } of tokens) {
    const found = [...wordsAt(folded, token, prefix)].length
    if (found > 0) words++
    hits += found
  }
  return [words, hits]
}

/** For each ticket, the entry that matches best (the latest of equals): the one its result quotes. */
export function bestPassages (entries: readonly SnippetSource[], tokens: ReadonlyArray<{ token: string, prefix: boolean }>): Map<number, SnippetSource> {
  const best = new Map<number, { entry: SnippetSource, strength: [number, number] }>()
  for (const entry of entries) {
    const strength = matchStrength(entry.body, tokens)
    if (strength[0] === 0) continue
    const known = best.get(entry.ticket_id)
    if (!known || strength[0] > known.strength[0] || (strength[0] === known.strength[0] && strength[1] >= known.strength[1])) {
      best.set(entry.ticket_id, { entry, strength })
    }
  }
  return new Map([...best].map(([id, { entry }]) => [id, entry]))
}
