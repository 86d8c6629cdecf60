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

/** A one-shot message for the page after a redirect, kept in a signed cookie instead of a session. */
export function setFlash (request: FastifyRequest, reply: FastifyReply, message: string): void {
  reply.setCookie(flashCookie, message, { ...cookieOptions(request, request.server.url('/'), 60), signed: true })
}

export function takeFlash (request: FastifyRequest, reply: FastifyReply): string | undefined {
  const raw = request.cookies[flashCookie]
  if (raw === undefined) return undefined
  reply.clearCookie(flashCookie, { path: request.server.url('/') })
  const { valid, value } = reply.unsignCookie(raw)
  return valid && value !== null ? value : undefined
}
