/*
 * The search language agents type: words (all must appear), "quoted phrases", and the last
 * word as a prefix while it is still being typed ("print" finds "printer"). Case and accents
 * never matter. A word joined by punctuation (an address, "e-mail", "3.14") is a phrase of
 * its parts, which is how every database's tokenizer splits it too.
 */

import type { SearchFilters, SearchQuery } from '../data/search.js'
import { statuses } from './permissions.js'
import { parseId } from './text.js'

/** One thing that must appear: a word (one token) or a phrase (tokens in a row). */
export interface SearchTerm {
  /** What the agent typed, folded, for the databases that parse text themselves. */
  text: string
  tokens: string[]
  /** Matches any word that starts with the last token. */
  prefix: boolean
}

export interface ParsedSearch {
  terms: SearchTerm[]
  /** A ticket number typed as is: that ticket comes first. */
  number: string | null
}

export const searchLimits = { length: 200, terms: 8 }

/** Lowercase without accents: how the indexes compare text. */
export function foldText (text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
}

const tokenPattern = /[\p{L}\p{N}]+/gu
const ticketNumber = /^[0-9]{6,12}$/

export function parseSearch (input: string): ParsedSearch {
  const text = input.slice(0, searchLimits.length)
  const terms: SearchTerm[] = []
  let number: string | null = null
  // Quoted phrases first (an unclosed quote runs to the end), then the words between them.
  const chunks = /"([^"]*)"?|[^\s"]+/g
  let match: RegExpExecArray | null
  while ((match = chunks.exec(text)) !== null && terms.length < searchLimits.terms) {
    const quoted = match[1] !== undefined
    const raw = quoted ? match[1]! : match[0]
    const folded = foldText(raw)
    const tokens = folded.match(tokenPattern) ?? []
    if (tokens.length === 0) continue
    if (!quoted && ticketNumber.test(raw)) number ??= raw
    const last = chunks.lastIndex === text.length && !quoted && /[\p{L}\p{N}]$/u.test(raw)
    terms.push({ text: folded, tokens, prefix: last })
  }
  return { terms, number }
}

/** Every token the results should highlight, longest first so "printers" wins over "print". */
export function highlightTokens (search: ParsedSearch): Array<{ token: string, prefix: boolean }> {
  const all = search.terms.flatMap((term) => term.tokens.map((token, i) => ({ token, prefix: term.prefix && i === term.tokens.length - 1 })))
  return all.sort((a, b) => b.token.length - a.token.length)
}

// --- The search form's address: words and filters as a query string --------------------

export type SearchParams = Record<string, string | string[] | undefined>
type FieldErrors = Record<string, string>

const dayMs = 86_400_000
const datePattern = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/

/** A day typed as YYYY-MM-DD as the epoch ms of its start (UTC), or an error. */
function parseDay (value: unknown): { day?: number, error?: string } {
  if (typeof value !== 'string' || value === '') return {}
  const match = datePattern.exec(value)
  const day = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN
  if (!match || Number.isNaN(day) || new Date(day).getUTCDate() !== Number(match[3])) return { error: 'Enter a date like 2026-12-31.' }
  return { day }
}

const text = (value: unknown): string => typeof value === 'string' ? value : ''

/** What the search form asks, read from the query string; malformed filters are named, never fatal. */
export function parseSearchParams (params: SearchParams): { words: string, query: Omit<SearchQuery, 'limit'>, errors: FieldErrors, clean: URLSearchParams } {
  const words = text(params.q).slice(0, searchLimits.length)
  const from = parseDay(params.from)
  const to = parseDay(params.to)
  const errors: FieldErrors = {}
  if (from.error) errors.from = from.error
  if (to.error) errors.to = to.error
  const filters: SearchFilters = {
    department: parseId(params.department),
    topic: parseId(params.topic),
    priority: parseId(params.priority),
    assignee: parseId(params.assignee),
    team: parseId(params.team),
    status: statuses.find((status) => status === params.status),
    createdFrom: from.day,
    createdBefore: to.day === undefined ? undefined : to.day + dayMs
  }
  const cursor = typeof params.after === 'string' ? /^([0-9]{1,15})_([0-9]{1,15})_([0-9]{1,12})$/.exec(params.after) : null
  const clean = new URLSearchParams()
  if (words.trim() !== '') clean.set('q', words)
  for (const key of ['department', 'topic', 'priority', 'assignee', 'team', 'status', 'from', 'to'] as const) {
    const value = text(params[key])
    if (value !== '' && !errors[key]) clean.set(key, value)
  }
  return {
    words,
    query: {
      search: parseSearch(words),
      filters,
      after: cursor ? { score: Number(cursor[1]), activity: Number(cursor[2]), id: Number(cursor[3]) } : undefined
    },
    errors,
    clean
  }
}
