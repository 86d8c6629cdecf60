import { createRequire } from 'node:module'
import fp from 'fastify-plugin'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifyRateLimit from '@fastify/rate-limit'
import { rememberingSigner } from '../cookie-signer.js'
import { randomToken } from '../../domain/secrets.js'

export interface SecurityOptions {
  cookieSecret: string
  /** The app's root path, so cookies stay inside the sub-path behind a proxy. */
  cookiePath: string
  /** BASE_URL is https: browsers are told to come back over https only (HSTS). */
  https: boolean
}

export const csrfCookieName = 'tessera_csrf'

declare module 'fastify' {
  interface FastifyInstance {
    /** Headers every answer carries (Content-Security-Policy, HSTS on https, …). */
    securityHeaders: Record<string, string>
  }
}

/**
 * The same headers on every answer: pages, assets, error pages and the 400 for a malformed
 * URL (sent before any hook runs, so it asks for them by name). Nothing in them varies per
 * request, so they are built once instead of by a middleware on every request.
 */
export function securityHeaders ({ https }: { https: boolean }): Record<string, string> {
  const csp = {
    'default-src': "'self'",
    // htmx is served from our own origin; its inline indicator styles are turned off in the
    // htmx-config meta tag, so no 'unsafe-inline' is needed anywhere.
    'script-src': "'self'",
    'style-src': "'self'",
    'img-src': "'self' data:",
    'form-action': "'self'",
    'frame-ancestors': "'none'",
    'base-uri': "'none'",
    'object-src': "'none'"
  }
  return {
    'content-security-policy': Object.entries(csp).map(([name, value]) => `${name} ${value}`).join(';'),
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    // Private-link tokens appear in URLs; no Referer may ever carry one away.
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
    // Only when the desk is known to be reached over https: over plain http it would lock
    // browsers out until the certificate exists.
    ...(https ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {})
  }
}

/**
 * Each first visit to a form makes a new CSRF secret. @fastify/csrf draws it with
 * crypto.randomBytes, a native job per call that costs the blank new-ticket form about a
 * tenth of its time; the same number of bytes come from our pool of random bytes instead.
 * This is the copy of @fastify/csrf that the plugin itself loads.
 */
function drawCsrfSecretsFromPool (): void {
  const pluginRequire = createRequire(createRequire(import.meta.url).resolve('@fastify/csrf-protection'))
  const tokens = pluginRequire('@fastify/csrf') as { prototype: { secretLength: number, secretSync: () => string } }
  tokens.prototype.secretSync = function secretSync () { return randomToken(this.secretLength) }
}

export default fp(async function security (app, { cookieSecret, cookiePath, https }: SecurityOptions) {
  const headers = securityHeaders({ https })
  app.decorate('securityHeaders', headers)
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers)
    done()
  })
  await app.register(fastifyCookie, { secret: rememberingSigner(cookieSecret) })
  // WHATWG decoding: invalid percent-escapes become U+FFFD, which form validation names,
  // instead of the whole value silently staying undecoded.
  await app.register(fastifyFormbody, { bodyLimit: 1024 * 1024, parser: parseFormBody })
  // Forms never send text/plain; refusing it (415) beats a confusing CSRF failure.
  app.removeContentTypeParser('text/plain')
  // A signed cookie holds the CSRF secret: anonymous visitors get protection without a
  // session row, so a page view never writes to the database.
  drawCsrfSecretsFromPool()
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: csrfCookieName,
    cookieOpts: { signed: true, httpOnly: true, sameSite: 'lax', secure: 'auto', path: cookiePath }
  })
  await app.register(fastifyRateLimit, { global: false })
}, { name: 'security' })

export function parseFormBody (body: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null)
  for (const [name, value] of new URLSearchParams(body)) {
    const previous = fields[name]
    fields[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value]
  }
  return fields
}
