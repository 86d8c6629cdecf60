import { readFileSync } from 'node:fs'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { TesseraError } from '../../domain/errors.js'
import { publicDir } from '../../paths.js'
import type { FieldErrors } from '../forms.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Shows the route's form again with the person's input and a message; used when a
     * request is refused before the handler runs (expired CSRF token, rate limit).
     */
    showForm?: (request: FastifyRequest, reply: FastifyReply, errors: FieldErrors, status: number) => Promise<FastifyReply>
  }
}

const csrfCodes = new Set(['FST_CSRF_INVALID_TOKEN', 'FST_CSRF_MISSING_SECRET'])

const messages: Record<number, string> = {
  400: 'That request could not be understood.',
  403: 'You are not allowed to do that.',
  404: 'That page could not be found.',
  405: 'That page does not accept this kind of request.',
  409: 'That could not be done in the ticket’s current state.',
  413: 'That was too large to accept.',
  415: 'That kind of content is not accepted here.',
  422: 'Some of what was sent is not valid.',
  429: 'Too many requests. Please wait a little and try again.'
}

// Read once at start: the last resort must work even when templates cannot.
const staticServerError = readFileSync(publicDir + '/500.html', 'utf8')

export default fp(async function errors (app) {
  app.setErrorHandler(async function (error: FastifyError | TesseraError, request, reply) {
    const status = statusOf(error)
    if (status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: error.code, status }, error.message)

    const showForm = request.routeOptions.config.showForm
    if (showForm && request.method === 'POST' && (csrfCodes.has(error.code) || status === 429)) {
      const message = status === 429
        ? 'You have sent this form too often. Please wait a few minutes, then send it again; your text is kept below.'
        : 'This form had expired, so nothing was saved. Please check it and send it again.'
      return await showForm(request, reply, { _form: message }, status)
    }

    const message = error instanceof TesseraError ? error.message : messages[status] ?? 'Something went wrong on our side. Please try again in a moment.'
    try {
      return await reply.render('error', { status, message }, { status, fragment: 'partials/_error-message' })
    } catch (renderError) {
      request.log.error({ err: renderError }, 'error page failed to render')
      return reply.code(500).type('text/html; charset=utf-8').send(staticServerError)
    }
  })

  app.setNotFoundHandler({
    preHandler: app.rateLimit({ max: 120, timeWindow: '1 minute' })
  }, async function (request, reply) {
    return await reply.render('error', { status: 404, message: messages[404] }, { status: 404, fragment: 'partials/_error-message' })
  })
}, { name: 'errors', dependencies: ['views', 'security'] })

function statusOf (error: FastifyError | TesseraError): number {
  if (csrfCodes.has(error.code)) return 403
  const status = error.statusCode ?? 500
  return status >= 400 && status < 600 ? status : 500
}
