import type { FastifyInstance } from 'fastify'

/** For proxies and monitoring: /healthz says the process answers, /readyz that the database does. */
export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  app.get('/healthz', async (request, reply) => {
    return await reply.header('Cache-Control', 'no-store').send({ status: 'ok' })
  })

  app.get('/readyz', async (request, reply) => {
    reply.header('Cache-Control', 'no-store')
    try {
      await app.db.raw('select 1')
      return await reply.send({ status: 'ready' })
    } catch (err) {
      request.log.warn({ err }, 'database not reachable')
      return await reply.code(503).send({ status: 'database unreachable' })
    }
  })
}
