import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { CookieJar } from '../test/helpers/cookie-jar.js'

/**
 * Page weight: the HTML of a page plus its stylesheet(s), raw, gzipped here at level 6,
 * and as the server actually sends them to a client that accepts gzip. The budget is the
 * first round trip of a new connection (about 14 KB), so HTML + CSS must fit in it.
 *
 *   npx tsx bench/page-weight.ts          (builds its own app on a temporary database)
 *
 * run.ts calls measurePageWeight() on the app it is benchmarking.
 */

export const budgetBytes = 14_336

// ---------------------------------------------------------------------------------------
// A small HTTP client. node:http rather than fetch: fetch asks for gzip on its own and
// decompresses, which would hide exactly the bytes this file is about.

export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  /** The body exactly as received (still compressed when content-encoding says so). */
  body: Buffer
  /** Status line plus header lines as sent, in bytes. */
  headerBytes: number
}

export interface HttpOptions {
  method?: string
  headers?: Record<string, string>
  body?: string
}

export async function fetchRaw (url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const target = new URL(url)
  const body = options.body === undefined ? undefined : Buffer.from(options.body)
  return await new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: options.method ?? 'GET',
      headers: { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        let headerBytes = Buffer.byteLength(`HTTP/${res.httpVersion} ${res.statusCode ?? 0} ${res.statusMessage ?? ''}\r\n`) + 2
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          headerBytes += Buffer.byteLength(`${res.rawHeaders[i] ?? ''}: ${res.rawHeaders[i + 1] ?? ''}\r\n`)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), headerBytes })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

export { CookieJar }

/** A GET or POST that sends and keeps cookies; does not follow redirects. */
export async function browse (jar: CookieJar, url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const cookie = jar.header(url)
  const response = await fetchRaw(url, { ...options, headers: { ...(cookie ? { cookie } : {}), ...options.headers } })
  jar.store([response.headers['set-cookie'] ?? []].flat(), url)
  return response
}

export interface TicketForm {
  /** The hidden _csrf value of the form. */
  csrfToken: string
  /** The Cookie header that goes with it (the signed tessera_csrf secret). */
  cookie: string
  /** Help topic ids offered in the form. */
  topicIds: string[]
}

/** Loads the new-ticket form the way a browser does: the CSRF cookie, the token and the topics. */
export async function loadTicketForm (baseUrl: string, jar = new CookieJar()): Promise<TicketForm> {
  const url = new URL('/tickets/new', baseUrl).href
  const page = await browse(jar, url)
  if (page.status !== 200) throw new Error(`GET /tickets/new answered ${page.status}`)
  const html = page.body.toString('utf8')
  const csrfToken = /<input[^>]*name="_csrf"[^>]*value="([^"]*)"/.exec(html)?.[1]
  if (!csrfToken) throw new Error('No _csrf field in the new-ticket form')
  if (!jar.get('tessera_csrf')) throw new Error('GET /tickets/new did not set the tessera_csrf cookie')
  const select = /<select[^>]*name="topic"[^>]*>([\s\S]*?)<\/select>/.exec(html)?.[1] ?? ''
  const topicIds = [...select.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]!)
  if (topicIds.length === 0) throw new Error('No help topics in the new-ticket form')
  return { csrfToken: decodeEntities(csrfToken), cookie: jar.header(new URL('/tickets', baseUrl).href), topicIds }
}

/** Opens a ticket through the portal; the jar ends up holding its access cookie. Returns its page URL. */
export async function openTicketAsClient (baseUrl: string, jar = new CookieJar()): Promise<string> {
  const form = await loadTicketForm(baseUrl, jar)
  const body = new URLSearchParams({
    _csrf: form.csrfToken,
    topic: form.topicIds[0]!,
    name: 'Page Weight',
    email: 'page.weight@example.com',
    subject: 'Printer in room 4 prints blank pages',
    message: 'Since this morning the printer on the fourth floor feeds paper but prints nothing. ' +
      'I have replaced the toner and restarted it. Could someone have a look?',
    website: ''
  }).toString()
  const created = await browse(jar, new URL('/tickets', baseUrl).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body
  })
  const location = created.headers.location
  if (created.status !== 303 || !location) throw new Error(`POST /tickets answered ${created.status}, expected 303`)
  // The confirmation page consumes the one-time link cookie, as a browser would.
  const confirmation = await browse(jar, new URL(location, baseUrl).href)
  if (confirmation.status !== 200) throw new Error(`GET ${location} answered ${confirmation.status}`)
  return new URL(location.replace(/\/created$/, ''), baseUrl).href
}

function decodeEntities (text: string): string {
  return text.replace(/&(#x?[0-9a-f]+|amp|lt|gt|quot|apos|#39);/gi, (whole, code: string) => {
    const lower = code.toLowerCase()
    if (lower === 'amp') return '&'
    if (lower === 'lt') return '<'
    if (lower === 'gt') return '>'
    if (lower === 'quot') return '"'
    if (lower === 'apos' || lower === '#39') return "'"
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16))
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10))
    return whole
  })
}

// ---------------------------------------------------------------------------------------
// Measuring.

export interface ResourceWeight {
  kind: 'HTML' | 'CSS' | 'JS'
  url: string
  raw: number
  gzip6: number
  /** Body bytes sent to a client with accept-encoding: gzip. */
  sent: number
  /** content-encoding of that response ('identity' when none). */
  sentEncoding: string
  /** Status line + headers of that response. */
  headerBytes: number
}

export interface PageWeight {
  name: string
  url: string
  resources: ResourceWeight[]
  /** HTML + stylesheets. */
  total: { raw: number, gzip6: number, sent: number }
  withinBudget: boolean
}

async function weigh (kind: ResourceWeight['kind'], url: string, jar: CookieJar): Promise<{ weight: ResourceWeight, text: string }> {
  // The gzip request goes first, like a browser's first visit, so its headers include
  // whatever cookies the page sets for a newcomer.
  const gzipped = await browse(jar, url, { headers: { 'accept-encoding': 'gzip' } })
  if (gzipped.status !== 200) throw new Error(`GET ${url} (gzip) answered ${gzipped.status}`)
  const plain = await browse(jar, url, { headers: { 'accept-encoding': 'identity' } })
  if (plain.status !== 200) throw new Error(`GET ${url} answered ${plain.status}`)
  if (plain.headers['content-encoding'] && plain.headers['content-encoding'] !== 'identity') {
    throw new Error(`GET ${url} without accept-encoding came back ${plain.headers['content-encoding']}`)
  }
  return {
    text: plain.body.toString('utf8'),
    weight: {
      kind,
      url,
      raw: plain.body.length,
      gzip6: gzipSync(plain.body, { level: 6 }).length,
      sent: gzipped.body.length,
      sentEncoding: String(gzipped.headers['content-encoding'] ?? 'identity'),
      headerBytes: gzipped.headerBytes
    }
  }
}

function attributeUrls (html: string, tag: 'link' | 'script', test: (attrs: string) => boolean, attribute: 'href' | 'src'): string[] {
  const urls: string[] = []
  for (const match of html.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'gi'))) {
    const attrs = match[1] ?? ''
    if (!test(attrs)) continue
    const value = new RegExp(`\\b${attribute}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs)
    const url = value?.[1] ?? value?.[2] ?? value?.[3]
    if (url) urls.push(decodeEntities(url))
  }
  return urls
}

export async function measurePage (name: string, url: string, jar = new CookieJar()): Promise<PageWeight> {
  const { weight: html, text } = await weigh('HTML', url, jar)
  const resources: ResourceWeight[] = [html]
  const stylesheets = attributeUrls(text, 'link', (a) => /\brel\s*=\s*["']?stylesheet\b/i.test(a), 'href')
  if (stylesheets.length === 0) throw new Error(`${url} links no stylesheet`)
  for (const href of stylesheets) resources.push((await weigh('CSS', new URL(href, url).href, jar)).weight)
  for (const src of attributeUrls(text, 'script', (a) => /\bsrc\s*=/i.test(a), 'src')) {
    resources.push((await weigh('JS', new URL(src, url).href, jar)).weight)
  }
  const counted = resources.filter((r) => r.kind !== 'JS')
  const total = {
    raw: sum(counted.map((r) => r.raw)),
    gzip6: sum(counted.map((r) => r.gzip6)),
    sent: sum(counted.map((r) => r.sent))
  }
  return { name, url, resources, total, withinBudget: Math.max(total.sent, total.gzip6) < budgetBytes }
}

/** The three public pages: portal home, the new-ticket form and a client's ticket page. */
export async function measurePageWeight (baseUrl: string): Promise<PageWeight[]> {
  const pages: PageWeight[] = []
  pages.push(await measurePage('Portal home', new URL('/', baseUrl).href))
  pages.push(await measurePage('New ticket form', new URL('/tickets/new', baseUrl).href))
  const jar = new CookieJar()
  const ticketUrl = await openTicketAsClient(baseUrl, jar)
  pages.push(await measurePage('Client ticket page', ticketUrl, jar))
  return pages
}

export function formatPageWeight (pages: readonly PageWeight[]): string {
  const lines = [
    `### Page weight (budget: HTML + CSS under ${budgetBytes} bytes compressed)`,
    '',
    '| page | resource | raw B | gzip -6 B | sent with gzip B | headers B |',
    '|---|---|---:|---:|---:|---:|'
  ]
  for (const page of pages) {
    for (const r of page.resources) {
      const path = new URL(r.url).pathname
      const encoding = r.sentEncoding === 'gzip' ? '' : ` (${r.sentEncoding})`
      const label = r.kind === 'JS' ? `JS ${path} (not in budget)` : `${r.kind} ${path}`
      lines.push(`| ${page.name} | ${label} | ${r.raw} | ${r.gzip6} | ${r.sent}${encoding} | ${r.headerBytes} |`)
    }
    const worst = Math.max(page.total.sent, page.total.gzip6)
    const verdict = page.withinBudget ? `within budget (${pct(worst / budgetBytes)})` : `**OVER budget** (${pct(worst / budgetBytes)})`
    lines.push(`| ${page.name} | **HTML + CSS**: ${verdict} | ${page.total.raw} | ${page.total.gzip6} | ${page.total.sent} | |`)
  }
  lines.push('', 'headers B: status line and headers of the gzip response on a first visit (they share the first round trip too, but are not counted in the budget).')
  return lines.join('\n')
}

function sum (values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

function pct (ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`
}

// ---------------------------------------------------------------------------------------
// Standalone: its own app on a throwaway database.

async function main (): Promise<void> {
  const { buildApp } = await import('../src/app.js')
  const { loadConfig } = await import('../src/config.js')
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-weight-'))
  const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', TICKET_RATE_LIMIT: '100000000' }))
  try {
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('no TCP address')
    const pages = await measurePageWeight(`http://127.0.0.1:${address.port}`)
    console.log(formatPageWeight(pages))
    if (!pages.every((p) => p.withinBudget)) process.exitCode = 1
  } finally {
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

function isMain (): boolean {
  const entry = process.argv[1]
  if (!entry) return false
  try {
    return realpathSync(resolve(entry)) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

if (isMain()) await main()
