import type { FastifyError, FastifyInstance } from 'fastify'
import { authenticateApiKey } from '../../domain/api-keys.js'
import { TesseraError } from '../../domain/errors.js'
import { httpStatusOf } from '../plugins/errors.js'

/** Mail is accepted up to this size; larger messages are refused with 413. */
const maxMessageBytes = 25 * 1024 * 1024

/** The integration API under /api/v1: API-key authentication, JSON answers. */
export default async function apiRoutes (app: FastifyInstance): Promise<void> {
  app.addContentTypeParser(['message/rfc822', 'text/plain', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: maxMessageBytes },
    (request, body, done) => { done(null, body) })

  app.setErrorHandler(async (error: FastifyError | TesseraError, request, reply) => {
    const code = error instanceof TesseraError ? httpStatusOf(error) : error.statusCode
    const status = code !== undefined && code >= 400 && code < 500 ? code : 500
    if (status >= 500) request.log.error({ err: error }, 'API request failed')
    return await reply.code(status).send({
      error: status >= 500
        ? { code: 'TESSERA_INTERNAL', message: 'Something went wrong; try again later.' }
        : { code: error.code ?? 'TESSERA_INVALID_INPUT', message: error.message }
    })
  })

  app.addHook('onRequest', async (request, reply) => {
    const key = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]
    const client = key ? await authenticateApiKey(app.db, key) : undefined
    if (!client) {
      return await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: { code: 'TESSERA_UNAUTHORIZED', message: 'A valid API key is required.' } })
    }
    return undefined
  })

  /** One raw RFC 822 message, e.g. from an MTA that posts instead of piping. */
  app.post('/mail/inbound', async (request, reply) => {
    if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
      return await reply.code(415).send({ error: { code: 'TESSERA_INVALID_INPUT', message: 'Send the raw message with Content-Type: message/rfc822.' } })
    }
    const result = await app.inbound.receive(request.body)
    return await reply.code(result.outcome === 'ignored' ? 202 : 201).send(result)
  })
}
