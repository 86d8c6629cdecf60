import fp from 'fastify-plugin'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifyHelmet from '@fastify/helmet'
import fastifyRateLimit from '@fastify/rate-limit'

export interface SecurityOptions {
  cookieSecret: string
  /** The app's root path, so cookies stay inside the sub-path behind a proxy. */
  cookiePath: string
}

export const csrfCookieName = 'tessera_csrf'

export default fp(async function security (app, { cookieSecret, cookiePath }: SecurityOptions) {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // htmx is served from our own origin; its inline indicator styles are turned off
        // in the htmx-config meta tag, so no 'unsafe-inline' is needed anywhere.
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"]
      }
    },
    // Private-link tokens appear in URLs; no Referer may ever carry one away.
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
    hsts: false
  })
  await app.register(fastifyCookie, { secret: cookieSecret })
  // WHATWG decoding: invalid percent-escapes become U+FFFD, which form validation names,
  // instead of the whole value silently staying undecoded.
  await app.register(fastifyFormbody, { bodyLimit: 1024 * 1024, parser: parseFormBody })
  // Forms never send text/plain; refusing it (415) beats a confusing CSRF failure.
  app.removeContentTypeParser('text/plain')
  // A signed cookie holds the CSRF secret: anonymous visitors get protection without a
  // session row, so a page view never writes to the database.
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
