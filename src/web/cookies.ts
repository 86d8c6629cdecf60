import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CookieSerializeOptions } from '@fastify/cookie'

const flashCookie = 'tessera_flash'

/** Cookies are Secure whenever the browser reached us over https (directly or via the proxy). */
export function cookieOptions (request: FastifyRequest, path: string, maxAgeSeconds?: number): CookieSerializeOptions {
  return {
    path,
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds })
  }
}

/**
 * Flash messages often echo what someone typed (a ticket number, a merge target). Capped,
 * even the widest characters (12 bytes once URL-encoded) keep the cookie under browsers'
 * 4 KB limit.
 */
export const flashMaxLength = 300

/** At most `max` characters (code points, never half an emoji), with an ellipsis when cut. */
export function shorten (text: string, max: number): string {
  const chars = Array.from(text)
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…'
}

// A lone surrogate (JSON bodies can carry one) cannot be URL-encoded into a cookie.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** A one-shot message for the page after a redirect, kept in a signed cookie instead of a session. */
export function setFlash (request: FastifyRequest, reply: FastifyReply, message: string): void {
  const text = shorten(message.replace(loneSurrogate, '\uFFFD'), flashMaxLength)
  reply.setCookie(flashCookie, text, { ...cookieOptions(request, request.server.url('/'), 60), signed: true })
}

export function takeFlash (request: FastifyRequest, reply: FastifyReply): string | undefined {
  const raw = request.cookies[flashCookie]
  if (raw === undefined) return undefined
  reply.clearCookie(flashCookie, { path: request.server.url('/') })
  const { valid, value } = reply.unsignCookie(raw)
  return valid && value !== null ? value : undefined
}
