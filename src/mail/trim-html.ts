import { isDateLine, isForwardLine, isForwardSubject, isFromLine, isSignatureStart } from './trim-patterns.js'

/**
 * Cutting quoted history out of an HTML body by the markup webmail clients wrap it in.
 * A small tag scanner rather than a DOM: one linear pass over the markup, which is all the
 * markers need, and it never chokes on the broken HTML mail is full of.
 */

interface Token {
  kind: 'open' | 'close' | 'text'
  name: string
  attrs: Record<string, string>
  start: number
  end: number
}

const voidElements = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr'])
const rawTextElements = new Set(['script', 'style', 'title', 'textarea', 'xmp'])

function parseAttributes (source: string): Record<string, string> {
  const attrs: Record<string, string> = {}
  for (const match of source.matchAll(/([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    attrs[match[1]!.toLowerCase()] = match[2] ?? match[3] ?? match[4] ?? ''
  }
  return attrs
}

function tokenize (html: string): Token[] {
  const tokens: Token[] = []
  const lower = html.toLowerCase()
  const name = /[a-zA-Z][\w:-]{0,40}/y
  let pos = 0
  // Where the current run of text began: a "<" that opens no tag is text too, not a token of its own.
  let textStart = 0
  const text = (end: number): void => { if (end > textStart) tokens.push({ kind: 'text', name: '', attrs: {}, start: textStart, end }) }
  while (pos < html.length) {
    const lt = html.indexOf('<', pos)
    if (lt < 0) break
    if (html.startsWith('<!--', lt)) {
      text(lt)
      const end = html.indexOf('-->', lt + 4)
      pos = textStart = end < 0 ? html.length : end + 3
      continue
    }
    if (html[lt + 1] === '!' || html[lt + 1] === '?') {
      text(lt)
      const end = html.indexOf('>', lt)
      pos = textStart = end < 0 ? html.length : end + 1
      continue
    }
    const closing = html[lt + 1] === '/'
    name.lastIndex = lt + (closing ? 2 : 1)
    const tagName = name.exec(html)?.[0]
    if (tagName === undefined) { pos = lt + 1; continue }
    text(lt)
    // The tag ends at the first ">" outside quoted attribute values.
    let end = name.lastIndex
    let quote = ''
    for (; end < html.length; end++) {
      const c = html[end]
      if (quote) { if (c === quote) quote = '' } else if (c === '"' || c === "'") quote = c; else if (c === '>') break
    }
    const attrSource = html.slice(name.lastIndex, end)
    const tag = tagName.toLowerCase()
    pos = textStart = Math.min(end + 1, html.length)
    tokens.push({ kind: closing ? 'close' : 'open', name: tag, attrs: closing ? {} : parseAttributes(attrSource), start: lt, end: pos })
    if (!closing && rawTextElements.has(tag) && !attrSource.endsWith('/')) {
      const close = lower.indexOf(`</${tag}`, pos)
      pos = textStart = close < 0 ? html.length : close
    }
  }
  text(html.length)
  return tokens
}

/** Each element's parent and the index of its closing tag (the end for unclosed ones). */
function structure (tokens: Token[]): { parent: number[], closeAt: number[] } {
  const parent = new Array<number>(tokens.length).fill(-1)
  const closeAt = new Array<number>(tokens.length).fill(tokens.length)
  const stack: number[] = []
  tokens.forEach((token, i) => {
    if (token.kind === 'open') {
      parent[i] = stack.at(-1) ?? -1
      if (voidElements.has(token.name) || token.attrs['/'] !== undefined) closeAt[i] = i
      else stack.push(i)
    } else if (token.kind === 'close') {
      // Only a nearby open element is closed: a stray end tag deep in broken markup is ignored.
      for (let depth = stack.length - 1; depth >= 0 && depth >= stack.length - 64; depth--) {
        if (tokens[stack[depth]!]!.name !== token.name) continue
        while (stack.length > depth) closeAt[stack.pop()!] = i
        break
      }
    } else {
      parent[i] = stack.at(-1) ?? -1
    }
  })
  return { parent, closeAt }
}

function decode (text: string): string {
  return text
    .replace(/&nbsp;|&#160;|&#xa0;/gi, ' ')
    .replace(/&#(\d{1,7});/g, (_, code: string) => String.fromCodePoint(Math.min(Number(code), 0x10ffff)))
    .replace(/&#x([0-9a-f]{1,6});/gi, (_, code: string) => String.fromCodePoint(Math.min(parseInt(code, 16), 0x10ffff)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&')
}

type Marker = 'quote' | 'header' | 'forward'

const attr = (token: Token, key: string): string => (token.attrs[key] ?? '').toLowerCase()

/** Elements whose text is quoted history, an attribution or a signature, never new words. */
function isSetAside (token: Token): boolean {
  const names = `${attr(token, 'class')} ${attr(token, 'id')}`
  return token.name === 'blockquote' || token.name === 'head' || /^quote(?:d-content)?$/.test(attr(token, 'name')) ||
    /gmail_attr|moz-cite-prefix|yahoo_quoted|protonmail_quote|tutanota_quote|zmail_extra|signature|divrplyfwdmsg/.test(names)
}

export interface TrimHtmlOptions {
  /** The message's subject: a forward ("Fwd:", "WG:", …) keeps the header block it carries. */
  subject?: string
}

/**
 * The HTML body without the quoted history that Gmail (`gmail_quote`), Outlook on the web
 * and Outlook.com (`divRplyFwdMsg`, `appendonsend`), Outlook and Windows Mail (the bordered
 * header block), old Hotmail (`stopSpelling`), Yahoo (`yahoo_quoted`), Apple Mail
 * (`blockquote type=cite`) and Thunderbird (`moz-cite-prefix`) mark, and a few more (Zimbra, Zoho, Proton, Tutanota, GMX). A forwarded message is
 * kept, and so is everything when the sender wrote below or between the quoted parts: the
 * text trimmer then sorts the exchange out. Returns the HTML as it was when nothing is cut or
 * nothing would be left.
 */
export function trimQuotedHtml (html: string, options: TrimHtmlOptions = {}): string {
  const tokens = tokenize(html)
  const { parent, closeAt } = structure(tokens)
  const textOf = (i: number): string => decode(html.slice(tokens[i]!.start, tokens[i]!.end))

  /** The first visible characters from token `from` up to token `to`. */
  const leadingText = (from: number, to: number): string => {
    let text = ''
    for (let i = from; i < to && i < from + 200 && text.length < 300; i++) {
      if (tokens[i]!.kind === 'text') text += textOf(i)
      else if (tokens[i]!.name === 'br' || tokens[i]!.name === 'div' || tokens[i]!.name === 'p') text += '\n'
    }
    return text
  }
  const firstLine = (text: string): string => text.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? ''
  const lastLine = (from: number): string => {
    for (let i = from - 1; i >= 0 && i >= from - 200; i--) {
      if (tokens[i]!.kind !== 'text') continue
      const line = textOf(i).trim()
      if (line !== '') return line
    }
    return ''
  }

  const markerAt = (i: number): Marker | undefined => {
    const token = tokens[i]!
    if (token.kind !== 'open') return undefined
    const cls = attr(token, 'class')
    const id = attr(token, 'id')
    if (cls.includes('moz-forward-container')) return 'forward'
    if (/gmail_quote|yahoo_quoted|moz-cite-prefix|protonmail_quote|tutanota_quote|zmail_extra/.test(cls) || id.includes('yahoo_quoted') ||
        /^quote(?:d-content)?$/.test(attr(token, 'name')) ||
        (token.name === 'blockquote' && attr(token, 'type') === 'cite')) return 'quote'
    if (/(?:^|_)(?:divrplyfwdmsg|appendonsend)$/.test(id) || id.includes('stopspelling') || id === 'zwchr' || cls.includes('outlookmessageheader') ||
        id === 'mail-editor-reference-message-container') return 'header'
    if (/border-top\s*:\s*solid/i.test(token.attrs['style'] ?? '')) {
      const heading = firstLine(leadingText(i + 1, closeAt[i]!))
      if (isFromLine(heading) || isDateLine(heading)) return 'header'
    }
    return undefined
  }

  /** Whether the sender wrote anything of their own after the quote that starts at `from`. */
  const wroteBelow = (from: number): boolean => {
    for (let i = from; i < tokens.length; i++) {
      const token = tokens[i]!
      if (token.kind === 'open' && isSetAside(token)) { i = closeAt[i]!; continue }
      if (token.kind !== 'text') continue
      const text = textOf(i).trim()
      if (text === '') continue
      if (isSignatureStart(text)) return false
      return true
    }
    return false
  }

  for (let i = 0; i < tokens.length; i++) {
    const marker = markerAt(i)
    if (marker === undefined) continue
    if (marker === 'forward') return html
    const opening = firstLine(leadingText(i, tokens.length))
    if (isForwardLine(opening) || isForwardLine(lastLine(i))) return html
    if (marker === 'header' && options.subject !== undefined && isForwardSubject(options.subject)) return html
    if (marker === 'quote' && wroteBelow(i)) return html

    const closers: string[] = []
    for (let up = parent[i]!; up >= 0; up = parent[up]!) closers.push(`</${tokens[up]!.name}>`)
    const kept = html.slice(0, tokens[i]!.start)
    let anythingLeft = false
    for (let j = 0; j < i && !anythingLeft; j++) {
      if (tokens[j]!.kind === 'open' && tokens[j]!.name === 'head') j = closeAt[j]!
      else anythingLeft = tokens[j]!.kind === 'text' && textOf(j).trim() !== ''
    }
    return anythingLeft ? kept + closers.join('') : html
  }
  return html
}
