import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import { publicDir } from '../../paths.js'

const require = createRequire(import.meta.url)
// htmx is vendored from its pinned npm package rather than a CDN: same origin, same CSP.
const htmxDir = dirname(require.resolve('htmx.org/dist/htmx.min.js'))

export type AssetUrl = (name: string) => string

/**
 * Asset URLs carry a hash of the file's content, so browsers may cache them for a year
 * and still see a new version the moment it ships.
 */
export function assetUrls (basePath: string): AssetUrl {
  const versions = new Map<string, string>()
  const fingerprint = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12)
  for (const name of readdirSync(publicDir)) versions.set(name, fingerprint(join(publicDir, name)))
  versions.set('vendor/htmx.min.js', fingerprint(join(htmxDir, 'htmx.min.js')))
  return (name) => {
    const version = versions.get(name)
    if (!version) throw new Error(`Unknown asset ${name}`)
    return `${basePath}/assets/${name}?v=${version}`
  }
}

export default fp(async function assets (app) {
  const immutable = 'public, max-age=31536000, immutable'
  await app.register(fastifyStatic, {
    root: publicDir,
    prefix: '/assets/',
    cacheControl: false,
    setHeaders: (reply) => reply.header('Cache-Control', immutable)
  })
  await app.register(fastifyStatic, {
    root: htmxDir,
    prefix: '/assets/vendor/',
    decorateReply: false,
    cacheControl: false,
    allowedPath: (path) => path === '/htmx.min.js',
    setHeaders: (reply) => reply.header('Cache-Control', immutable)
  })
  // Pages name the fingerprinted icon; this answers browsers (and tools) that ask the
  // conventional address anyway, instead of a 404 on every first visit.
  app.get('/favicon.ico', async (_request, reply) =>
    await reply.header('Cache-Control', 'public, max-age=86400').sendFile('favicon.ico', publicDir))
}, { name: 'assets' })
