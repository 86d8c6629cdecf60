import type { Test } from 'tap'
import * as cheerio from 'cheerio'
import type { FastifyInstance } from 'fastify'
import type { Page } from './visitor.js'

/*
 * Sending crafted requests and checking what every answer must be, whatever was sent: an
 * HTML page (or a redirect), never a 5xx, never JSON or a stack trace, nothing typed turned
 * into live markup. Shared by the bad-input tests of the portal and the staff panel.
 */

export const urlencoded = 'application/x-www-form-urlencoded'

export interface Answer {
  status: number
  contentType: string
  location: string | undefined
  body: string
  $: cheerio.CheerioAPI
}

let lastAddress = 0
/** Every raw request comes from its own address, so the per-address rate limits never answer in the form's place. */
function nextAddress (): string {
  lastAddress++
  return `10.${(lastAddress >> 16) & 255}.${(lastAddress >> 8) & 255}.${lastAddress & 255}`
}

export async function send (app: FastifyInstance, method: 'GET' | 'POST', url: string, options: {
  payload?: string | Buffer
  contentType?: string | null
  cookie?: string
  headers?: Record<string, string>
} = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.contentType !== null && options.payload !== undefined) headers['content-type'] = options.contentType ?? urlencoded
  if (options.cookie) headers.cookie = options.cookie
  const res = await app.inject({ method, url, payload: options.payload, headers, remoteAddress: nextAddress() })
  return {
    status: res.statusCode,
    contentType: String(res.headers['content-type'] ?? ''),
    location: res.headers.location === undefined ? undefined : String(res.headers.location),
    body: res.body,
    $: cheerio.load(res.body)
  }
}

// ---------------------------------------------------------------------------------------
// What every answer must be, whatever was sent.

export const leaks: RegExp[] = [
  /\n\s+at [^\n]+\(/, // a stack frame
  /node_modules/,
  /\.(?:ts|js|mjs|cjs):\d+(?::\d+)?/,
  /\bFST_[A-Z_]+\b/,
  /\b(?:TesseraError|SqliteError|SQLITE_[A-Z]+|TypeError|ReferenceError)\b/,
  /"statusCode"\s*:/
]

/** Scripts other than our own htmx, and inline event handlers: what a payload would need to run. */
export function liveMarkup ($: cheerio.CheerioAPI): string[] {
  const found: string[] = []
  $('script').each((_, el) => {
    const src = $(el).attr('src')
    if (src === undefined || !/^\/assets\/(?:vendor\/htmx\.min|staff)\.js(?:\?|$)/.test(src)) found.push(`<script${src === undefined ? '' : ` src="${src}"`}>${$(el).text().slice(0, 60)}`)
  })
  $('*').each((_, el) => {
    const { attribs, tagName } = el as unknown as { attribs?: Record<string, string>, tagName?: string }
    for (const name of Object.keys(attribs ?? {})) {
      if (/^on/i.test(name)) found.push(`<${tagName ?? '?'} ${name}>`)
    }
  })
  $('iframe, object, embed, svg, img').each((_, el) => { found.push(`<${(el as unknown as { tagName: string }).tagName}>`) })
  return found
}

/** The page's main content, or the whole fragment when htmx got one. */
export function mainText ($: cheerio.CheerioAPI): string {
  const main = $('main')
  const text = main.length > 0 ? main.text() : $.root().text()
  return text.replace(/\s+/g, ' ').trim()
}

/** A URL short enough for a test name. */
export function shorten (url: string): string {
  return url.length > 80 ? `${url.slice(0, 60)}…(${url.length} characters)` : url
}

/** A page the Visitor fetched, as an Answer. */
export function fromPage (page: Page): Answer {
  return { status: page.status, contentType: String(page.headers['content-type'] ?? ''), location: undefined, body: page.html, $: page.$ }
}

/** Checks what every answer must be; false when it is not even an HTML page (the rest is then moot). */
export function assertSafe (t: Test, answer: Answer, label: string, options: { fragment?: boolean } = {}): boolean {
  t.ok(answer.status < 500, `${label}: not a server error (got ${answer.status})`)
  if (answer.status >= 300 && answer.status < 400) return true
  if (!/^text\/html\b/.test(answer.contentType)) {
    t.fail(`${label}: answered with HTML`, { found: `${answer.status} ${answer.contentType || 'no content type'}: ${answer.body.slice(0, 300)}` })
    return false
  }
  if (!options.fragment) t.match(answer.body, /^<!DOCTYPE html>/i, `${label}: a whole page`)
  t.ok(answer.$('h1').text().trim().length > 0, `${label}: with a heading that says what happened`)
  for (const leak of leaks) t.notMatch(answer.body, leak, `${label}: no internals (${String(leak)})`)
  t.strictSame(liveMarkup(answer.$), [], `${label}: nothing typed became live markup`)
  return true
}
