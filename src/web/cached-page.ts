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
