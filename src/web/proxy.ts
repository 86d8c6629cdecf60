import type { IncomingMessage } from 'node:http'

/*
 * What proxies do differently, undone before Fastify routes a request:
 * - Some keep the sub-path (`/support/staff` arrives as is: nginx `proxy_pass http://up;`,
 *   IIS ARR with {UNENCODED_URL}); others strip it (`proxy_pass http://up/;`, most
 *   Kubernetes ingresses) and may say so in X-Forwarded-Prefix. Routes live under BASE_PATH,
 *   so a path without it gets it back, and both kinds of proxy reach the same routes.
 * - IIS ARR adds the client's TCP port to X-Forwarded-For (`198.51.100.8:51234`); with it
 *   every request would look like a new client and rate limits would not hold.
 */

const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/
const bracketedIpv6 = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/

/** One X-Forwarded-For entry without a port: `a.b.c.d:port` and `[v6]:port` lose it. */
export function withoutPort (entry: string): string {
  const address = entry.trim()
  return ipv4WithPort.exec(address)?.[1] ?? bracketedIpv6.exec(address)?.[1] ?? address
}

/** A `rewriteUrl` for Fastify: the URL with BASE_PATH in front, and X-Forwarded-For without ports. */
export function proxyRewrite (basePath: string): (request: IncomingMessage) => string {
  return (request) => {
    const forwardedFor = request.headers['x-forwarded-for']
    if (typeof forwardedFor === 'string' && forwardedFor.includes(':')) {
      request.headers['x-forwarded-for'] = forwardedFor.split(',').map(withoutPort).join(', ')
    }
    const url = request.url ?? '/'
    if (basePath === '' || url === basePath || url.startsWith(basePath + '/') || url.startsWith(basePath + '?')) return url
    return basePath + (url.startsWith('/') ? url : '/' + url)
  }
}
