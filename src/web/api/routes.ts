import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify'
import { TesseraError } from '../../domain/errors.js'
import { httpStatusOf } from '../plugins/errors.js'
import { RetryLater, UnprocessableMail } from '../../mail/inbound.js'

/**
 * Mail is accepted up to this size, which one parse at a time fits in npm start's 160 MB
 * heap; larger messages are refused with 413, which an MTA turns into a bounce.
 */
export const maxMessageBytes = 25 * 1024 * 1024
/** How long an MTA is asked to wait before delivering again when the desk is busy. */
const retryAfterSeconds = 60

const mailTypes = ['message/rfc822', 'text/plain', 'application/octet-stream']

/**
 * Copies a stream to a file; past `limit` bytes it keeps reading but drops the rest, so the
 * sender still gets an answer (413) instead of a broken connection, and returns undefined.
 */
async function saveUpTo (source: Readable, file: string, limit: number): Promise<number | undefined> {
  let size = 0
  const counter = new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      size += chunk.length
      callback(null, size > limit ? undefined : chunk)
    }
  })
  await pipeline(source, counter, createWriteStream(file, { mode: 0o600 }))
  return size > limit ? undefined : size
}

/**
 * Reads a refused message to its end before the answer goes out. Answering first and
 * closing while the sender is still writing resets the connection, and the sender may
 * lose the answer with it ("fetch failed" instead of 413 or 503).
 */
async function discard (body: Readable): Promise<void> {
  body.resume()
  await finished(body).catch(() => undefined)
}

/** The integration API under /api/v1: API-key authentication, JSON answers. */
export default async function apiRoutes (app: FastifyInstance): Promise<void> {
  const spool = join(app.config.dataDir, 'inbound')

  // The body stays a stream: a message goes to disk as it arrives, never whole into memory.
  app.addContentTypeParser(mailTypes, (request, payload, done) => { done(null, payload) })

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
    // Mail intake is the only thing the API does so far, and the only scope a key can have.
    const client = key ? await app.apiKeys.authenticate(key, 'mail_intake') : undefined
    if (!client) {
      return await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: { code: 'TESSERA_UNAUTHORIZED', message: 'A valid API key is required.' } })
    }
    return undefined
  })

  const tooLarge = async (reply: FastifyReply): Promise<FastifyReply> => await reply.code(413).header('Connection', 'close').send({
    error: { code: 'TESSERA_TOO_LARGE', message: `Messages are accepted up to ${maxMessageBytes / 1024 / 1024} MB; this one is larger.` }
  })
  const busy = async (reply: FastifyReply, message: string): Promise<FastifyReply> => await reply.code(503).header('Retry-After', String(retryAfterSeconds))
    .send({ error: { code: 'TESSERA_BUSY', message } })

  /** One raw RFC 822 message, e.g. from an MTA that posts instead of piping. */
  app.post('/mail/inbound', async (request, reply) => {
    const body = request.body as Readable | undefined
    if (!body || typeof body.pipe !== 'function') {
      return await reply.code(415).send({ error: { code: 'TESSERA_INVALID_INPUT', message: 'Send the raw message with Content-Type: message/rfc822.' } })
    }
    if (Number(request.headers['content-length'] ?? 0) > maxMessageBytes) {
      await discard(body)
      return await tooLarge(reply)
    }
    if (app.inbound.busy()) {
      await discard(body)
      return await busy(reply.header('Connection', 'close'), 'Too many messages are being processed; deliver this one again later.')
    }
    await mkdir(spool, { recursive: true, mode: 0o700 })
    const file = join(spool, `${Date.now()}-${randomBytes(8).toString('hex')}.eml`)
    try {
      const size = await saveUpTo(body, file, maxMessageBytes)
      if (size === undefined) return await tooLarge(reply)
      if (size === 0) {
        return await reply.code(415).send({ error: { code: 'TESSERA_INVALID_INPUT', message: 'Send the raw message with Content-Type: message/rfc822.' } })
      }
      const result = await app.inbound.receiveFile(file)
      return await reply.code(result.outcome === 'ignored' ? 202 : 201).send(result)
    } catch (err) {
      if (err instanceof RetryLater) return await busy(reply, err.message)
      // Never processable: a 4xx, which an MTA turns into a bounce rather than retrying.
      if (err instanceof UnprocessableMail) {
        return await reply.code(422).send({ error: { code: 'TESSERA_UNPROCESSABLE', message: `This message can never be processed (${err.message}); it was set aside for an administrator.` } })
      }
      throw err
    } finally {
      await rm(file, { force: true })
    }
  })
}
