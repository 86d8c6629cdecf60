import type { FastifyInstance } from 'fastify'

/** /readyz answers within this, whatever the database does. */
const probeTimeoutMs = 900

/** For proxies and monitoring: /healthz says the process answers, /readyz that the database takes writes. */
export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  app.get('/healthz', async (request, reply) => {
    return await reply.header('Cache-Control', 'no-store').send({ status: 'ok' })
  })

  // A monitor that polls every second must not stack up probes behind a hung database.
  let probe: Promise<void> | null = null
  function writeProbe (): Promise<void> {
    probe ??= (async () => {
      await app.db('health_probe').insert({ id: 1, checked_at: Date.now() }).onConflict('id').merge()
    })().finally(() => { probe = null })
    return probe
  }

  app.get('/readyz', async (request, reply) => {
    reply.header('Cache-Control', 'no-store')
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), probeTimeoutMs) })
    try {
      if (await Promise.race([writeProbe().then(() => 'ok' as const), timedOut]) === 'timeout') {
        request.log.warn('database did not take a write in time')
        return await reply.code(503).send({ status: 'database not answering', timeoutMs: probeTimeoutMs })
      }
      return await reply.send({ status: 'ready' })
    } catch (err) {
      request.log.warn({ err }, 'database write failed')
      return await reply.code(503).send({ status: 'database write failed' })
    } finally {
      clearTimeout(timer)
    }
  })
}
