import { gzipSync } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** A page that is the same for every visitor, kept with its gzip so neither is redone per request. */
export interface CachedPage {
  html: string
  gzip: Buffer
}

export function cachedPage (html: string): CachedPage {
  return { html, gzip: gzipSync(html, { level: 9 }) }
}

// RFC 9110: "gzip" listed without q=0 (a client that refuses gzip says so with q=0).
const acceptsGzip = /(?:^|,)\s*(?:gzip|\*)\s*(?:;\s*q=(?!0(?:\.0*)?\s*(?:,|$))[0-9.]+\s*)?(?:,|$)/i

/** Sends the page, compressed once and for all when the client takes gzip. */
export async function sendCachedPage (request: FastifyRequest, reply: FastifyReply, page: CachedPage): Promise<FastifyReply> {
  reply.header('Vary', 'HX-Request, Accept-Encoding').type('text/html; charset=utf-8')
  const accepted = request.headers['accept-encoding']
  if (typeof accepted === 'string' && acceptsGzip.test(accepted)) {
    // @fastify/compress leaves an answer that already names its encoding alone.
    return await reply.header('Content-Encoding', 'gzip').send(page.gzip)
  }
  return await reply.send(page.html)
}

/**
 * A page the same for every visitor but for a few short ASCII values (a CSRF token, a
 * one-time id), each written in the page as a unique slot name. Kept as bytes around the
 * slots, so a request copies them and writes its values in between: searching and
 * replacing the slots in the text, then encoding the whole page to UTF-8 again, cost the
 * new-ticket form a tenth of its time.
 */
export interface SlottedPage {
  fill: (values: Readonly<Record<string, string>>) => Buffer
}

export function slottedPage (html: string, slots: readonly string[]): SlottedPage {
  const pieces: Buffer[] = []
  const filled: string[] = []
  const slotPattern = new RegExp(slots.map((slot) => slot.replace(/[^A-Za-z0-9_-]/g, '\\$&')).join('|'), 'g')
  let at = 0
  for (const match of html.matchAll(slotPattern)) {
    pieces.push(Buffer.from(html.slice(at, match.index)))
    filled.push(match[0])
    at = match.index + match[0].length
  }
  pieces.push(Buffer.from(html.slice(at)))
  const fixedBytes = pieces.reduce((sum, piece) => sum + piece.length, 0)
  return {
    fill (values) {
      let length = fixedBytes
      for (const slot of filled) length += values[slot]!.length
      const page = Buffer.allocUnsafe(length)
      let offset = pieces[0]!.copy(page, 0)
      for (let i = 0; i < filled.length; i++) {
        // The values are ASCII (tokens, ids): one byte a character.
        offset += page.write(values[filled[i]!]!, offset, 'latin1')
        offset += pieces[i + 1]!.copy(page, offset)
      }
      return page
    }
  }
}
