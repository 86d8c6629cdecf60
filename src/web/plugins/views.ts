import fp from 'fastify-plugin'
import fastifyView from '@fastify/view'
import { Eta, type EtaConfig } from 'eta'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { viewsDir } from '../../paths.js'

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a full page (or, for a plain htmx request, the named partial alone). */
    render: (template: string, data?: Record<string, unknown>, options?: RenderOptions) => Promise<FastifyReply>
    /** Names @fastify/view adds to the data of the page this reply renders. */
    locals: Record<string, unknown>
  }
}

export interface RenderOptions {
  status?: number
  /**
   * The partial the page includes, sent alone when htmx asks for a fragment; or one partial
   * per htmx target id, when different parts of a page refresh on their own.
   */
  fragment?: string | Record<string, string>
}

/**
 * htmx sends HX-Request on boosted navigation and history restores too; those want the
 * whole page, so only a plain htmx request gets a fragment.
 */
export function wantsFragment (request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true' &&
    request.headers['hx-boosted'] !== 'true' &&
    request.headers['hx-history-restore-request'] !== 'true'
}

export interface ViewsOptions {
  /** Values every template sees (asset URLs, the URL helper, product name). */
  globals: Record<string, unknown>
  /** Values read afresh for each page `render` sends (the desk's name, as an admin set it). */
  pageLocals?: (reply: FastifyReply) => Promise<Record<string, unknown>>
}

export default fp(async function views (app, { globals, pageLocals }: ViewsOptions) {
  const eta = new PageEta({ views: viewsDir, cache: true, autoEscape: true, autoTrim: [false, 'nl'] }, globals)
  rememberPaths(eta)
  await app.register(fastifyView, {
    engine: { eta },
    templates: viewsDir,
    production: true,
    defaultContext: globals
  })

  app.decorateReply('render', async function (this: FastifyReply, template: string, data: Record<string, unknown> = {}, options: RenderOptions = {}) {
    this.header('Vary', 'HX-Request')
    this.type('text/html; charset=utf-8')
    if (options.status) this.code(options.status)
    // @fastify/view copies the globals, these and the page's data into one object: the data
    // (some forty names on a ticket page) is copied once, not once here and again there.
    this.locals = { ...(pageLocals ? await pageLocals(this) : {}), csrfToken: csrfTokenFor(this) }
    const html = await this.viewAsync(fragmentFor(this.request, options.fragment) ?? template, data)
    return this.send(utf8Bytes(html))
  })
}, { name: 'views', dependencies: ['security'] })

/**
 * A piece of a page that depends only on lists that are cached and rarely change (the
 * reference data in its menus) and on a few choices named by a key: rendered once for each
 * `lists` object and key, then reused as text. A reload of the lists is a new object, so
 * the piece follows it. At most `keysPerLists` keys are kept, for any one lists object.
 *
 * The page calls what the route passes with the rendering it would otherwise do itself:
 * `<%~ it.filterForm(() => include('/staff/_queue-filters', it)) %>`.
 */
export function renderedOnce<Lists extends object> (keysPerLists = 100): (lists: Lists, key: string) => (render: () => string) => string {
  const pieces = new WeakMap<Lists, Map<string, string>>()
  return (lists, key) => (render) => {
    let byKey = pieces.get(lists)
    if (byKey === undefined) pieces.set(lists, byKey = new Map())
    let html = byKey.get(key)
    if (html === undefined) {
      html = render()
      if (byKey.size < keysPerLists) byKey.set(key, html)
    }
    return html
  }
}

/** Room for the UTF-8 of a page of up to 85,000 characters (at most 3 bytes each). */
const scratch = Buffer.allocUnsafe(256 * 1024)

/**
 * A page as bytes, encoded in one pass. Sent as a string, Fastify measures its length in
 * UTF-8 for Content-Length and Node then encodes it to write it (Buffer.from measures, then
 * encodes, too); a page with any character beyond ASCII (a dash, a name) is a string of
 * two-byte characters, and each pass over its ~12 KB cost as much as a signature check.
 * So it is encoded straight into a buffer large enough for any page, and copied out.
 */
function utf8Bytes (text: string): Buffer {
  if (text.length * 3 > scratch.length) return Buffer.from(text)
  return Buffer.from(scratch.subarray(0, scratch.write(text)))
}

/**
 * Eta finds the file of a template each time it renders or includes one, and a ticket page
 * includes dozens: a key made with JSON.stringify, path joins, a check that the file is
 * inside the views folder. Template names are written in our code and the files do not
 * move while the process runs, so each name is found once (from each including file).
 */
function rememberPaths (eta: Eta): void {
  const find = eta.resolvePath.bind(eta)
  // By including file, then by name: both are strings V8 has already hashed, where a key
  // joined from the two would be a new string to hash at every include.
  const found = new Map<string, Map<string, string>>()
  eta.resolvePath = (template, options) => {
    const from = options?.filepath ?? ''
    let names = found.get(from)
    if (names === undefined) found.set(from, names = new Map())
    let path = names.get(template)
    if (path === undefined) names.set(template, path = find(template, options))
    return path
  }
}

/**
 * Eta hands each included template (and the layout) a copy of everything its includer
 * sees, `{ ...it, ...data }`. A page's data holds some forty names, a copy of a copy soon
 * takes V8's slow path, and a ticket page makes two dozen includes: the copies were most
 * of its rendering. So an include copies nothing:
 *
 * - Components, the templates in views/partials/ (a field, an error summary, a thread
 *   entry…), see what their includer passes and the globals every page has (`url`,
 *   `fileSize`…), nothing else: they take everything they show as arguments. Their data
 *   has the same shape on every page, which V8 reads fastest.
 * - Any other template sees what it is passed and, through its data's prototype,
 *   everything its includer sees, as Eta means it to.
 * - An include given nothing, or `it` itself, shares its includer's object.
 *
 * So templates never spread `it` (the spread would copy only its own names) nor write to
 * it; a test holds them to that.
 */
const includeData = {
  processFnString (fn: string, config?: EtaConfig): string {
    const it = config?.varName ?? 'it'
    const spread = `{...${it}, ...(__eta_d ?? {})}`
    const layoutSpread = `(__eta.layout, {...${it}, body:`
    if (!fn.includes(spread) || !fn.includes(layoutSpread)) throw new Error('PageEta: this Eta compiles includes differently; check includeData against it')
    const data = `(__eta_d === undefined || __eta_d === ${it} ? ${it}` +
      ' : /^\\/?partials\\//.test(__eta_t) ? Object.assign(Object.create(this.componentBase), __eta_d)' +
      ` : Object.assign(Object.create(${it}), __eta_d))`
    return fn
      .replaceAll(spread, data)
      .replace(layoutSpread, '(__eta.layout, {body:')
  }
}

/**
 * Eta's compiled template declares its helpers at the top of every call (include and its
 * async twin, layout, output, capture, block and their async twins): eight closures made
 * each time a template runs, and a ticket page runs some thirty. Most templates call one
 * or two of them, so the ones a template never calls are left out of its function.
 */
const unusedHelpers = {
  processFnString (fn: string): string {
    let text = fn
    // A helper that calls another comes before it, so that one is found unused after it.
    for (const [name, definition] of helperDefinitions) {
      const defined = definition.exec(text)
      if (defined === null) throw new Error(`PageEta: this Eta defines ${name} differently; check unusedHelpers against it`)
      const rest = text.slice(0, defined.index) + text.slice(defined.index + defined[0].length)
      if (!new RegExp(`(?<![\\w$.])${name}\\s*\\(`).test(rest)) text = rest
    }
    return text
  }
}

const helperDefinitions: Array<[string, RegExp]> = [
  ['includeAsync', /^let includeAsync = .*$/m],
  ['layout', /^function layout\(path, data\) \{\n[^}]*\}$/m],
  ['output', /^function output\(s\)\{.*\}$/m],
  ['blockAsync', /^async function blockAsync\(name,fn\)\{.*\}$/m],
  ['block', /^function block\(name,fn\)\{.*\}$/m],
  ['captureAsync', /^async function captureAsync\(fn\)\{.*\}$/m],
  ['capture', /^function capture\(fn\)\{.*\}$/m]
]

/**
 * Pages go out as ASCII whenever what they show is ASCII. Node writes an ASCII string to a
 * buffer about eight times faster than one with a single character beyond it (a dash in a
 * template, a curly quote in a message): V8 then holds the whole page as two-byte text, and
 * a queue page spent 7 % of its time encoding. (Node 22 encodes Latin-1 text quickly too;
 * Node 20 does not.) So the characters of the templates' own text beyond ASCII become
 * character references when a template is compiled, and the escaping of values does the
 * same for the Latin-1 letters of Western European names (Björn, Müller) and for
 * typographic punctuation (dashes, curly quotes, ellipses, arrows, spaces of other widths),
 * which costs a few bytes each where they occur. Text in other scripts is sent as it is: its
 * page is two-byte text anyway, and as references it would weigh three times as much.
 */
type TemplateParts = ReturnType<Eta['parse']>

const asciiTemplateText = {
  processAST (buffer: TemplateParts): TemplateParts {
    return buffer.map((part) => typeof part === 'string' ? part.replace(/[^\0-\x7f]/gu, characterReference) : part)
  }
}

const htmlUnsafe = /[&<>"'\u0080-\u00ff\u2000-\u206f\u2190-\u21ff]/
const htmlUnsafeEverywhere = new RegExp(htmlUnsafe.source, 'g')
const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function characterReference (character: string): string {
  return escapes[character] ?? `&#${character.codePointAt(0)!};`
}

/** Eta's escaping, with Latin-1 letters and typographic punctuation as references (see `asciiTemplateText`). */
export function escapeHtml (value: unknown): string {
  if (typeof value === 'number') return String(value)
  const text = String(value)
  if (!htmlUnsafe.test(text)) return text
  // A page shows the same few names and words many times (Björn Müller on every row of
  // his tickets), and escaping one costs as much as a hundred that need nothing.
  if (text.length > escapedOnceAtMost) return escapedText(text)
  let escaped = escapedOnce.get(text)
  if (escaped === undefined) {
    if (escapedOnce.size >= 10_000) escapedOnce.clear()
    escapedOnce.set(text, escaped = escapedText(text))
  }
  return escaped
}

const escapedOnceAtMost = 200
const escapedOnce = new Map<string, string>()

function escapedText (text: string): string {
  const escaped = text.replace(htmlUnsafeEverywhere, characterReference)
  // V8 builds a replacement from slices of the text, so a two-byte text (one holding a
  // character beyond Latin-1) stays two-byte even when only ASCII is left, and would make
  // the page two-byte: it is copied as ASCII. A one-byte text's replacement is one-byte.
  return beyondLatin1.test(text) && escaped.length <= asciiCopy.length && !beyondAscii.test(escaped)
    ? asciiCopy.toString('latin1', 0, asciiCopy.write(escaped, 'latin1'))
    : escaped
}

const beyondLatin1 = /[^\0-\xff]/
const beyondAscii = /[^\0-\x7f]/
const asciiCopy = Buffer.allocUnsafe(64 * 1024)

/** The pages' Eta: includes as `includeData` says, components reading `componentBase` (the globals). */
export class PageEta extends Eta {
  constructor (config: Partial<EtaConfig>, readonly componentBase: Readonly<Record<string, unknown>>) {
    super({ escapeFunction: escapeHtml, ...config, plugins: [...config.plugins ?? [], includeData, unusedHelpers, asciiTemplateText] })
  }

  // @fastify/view sets the same folder and cache flag before every render; each set would
  // copy the whole configuration.
  override configure (custom: Partial<EtaConfig>): void {
    const config = this.config as unknown as Record<string, unknown>
    if (Object.entries(custom).some(([name, value]) => config[name] !== value)) super.configure(custom)
  }
}

function fragmentFor (request: FastifyRequest, fragment: RenderOptions['fragment']): string | undefined {
  if (fragment === undefined || !wantsFragment(request)) return undefined
  if (typeof fragment === 'string') return fragment
  const target = request.headers['hx-target']
  // The header is the client's to write: `constructor` or `toString` must not find Object's.
  return typeof target === 'string' && Object.hasOwn(fragment, target) ? fragment[target] : undefined
}

// Lazy so pages without a form set no cookie.
function csrfTokenFor (reply: FastifyReply): () => string {
  let token: string | undefined
  return () => (token ??= reply.generateCsrf())
}
