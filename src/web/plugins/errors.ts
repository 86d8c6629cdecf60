import { readFileSync } from 'node:fs'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isDatabaseUnavailable } from '../../data/database.js'
import { TesseraError, type TesseraErrorCode } from '../../domain/errors.js'
import { publicDir } from '../../paths.js'
import type { FieldErrors } from '../forms.js'
import { LostUrls } from '../lost-urls.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Shows the route's form again with the person's input and a message; used when a
     * request is refused before the handler runs (expired CSRF token, rate limit).
     */
    showForm?: (request: FastifyRequest, reply: FastifyReply, errors: FieldErrors, status: number) => Promise<FastifyReply>
    /** For a POST route: the page (inside the app) a GET of its address goes to instead of the page above it. */
    getGoesTo?: string
    /** The route reads multipart/form-data (files); every other route refuses it with 415. */
    takesFiles?: boolean
  }
}

const csrfCodes = new Set(['FST_CSRF_INVALID_TOKEN', 'FST_CSRF_MISSING_SECRET'])

/** How the web answers each expected failure: the one place a code becomes an HTTP status. */
const statusOfCode: Readonly<Record<TesseraErrorCode, number>> = {
  TESSERA_NOT_SIGNED_IN: 401,
  TESSERA_FORBIDDEN: 403,
  TESSERA_NOT_FOUND: 404,
  TESSERA_CONFLICT: 409,
  TESSERA_TRANSITION_REFUSED: 409,
  TESSERA_INVALID_INPUT: 422,
  TESSERA_RATE_LIMITED: 429
}

export function httpStatusOf (error: TesseraError): number {
  return statusOfCode[error.code]
}

const messages: Record<number, string> = {
  400: 'That request could not be understood.',
  403: 'You are not allowed to do that.',
  404: 'That page could not be found.',
  405: 'That page does not accept this kind of request.',
  409: 'That could not be done in the ticket’s current state.',
  413: 'That was too large to accept.',
  415: 'That kind of content is not accepted here.',
  422: 'Some of what was sent is not valid.',
  429: 'Too many requests. Please wait a little and try again.',
  503: 'The help desk is briefly unavailable. Please try again in a minute.'
}

/** Seconds a client is asked to wait while the database is out of reach. */
const retryAfterSeconds = 30

// Read once at start: the last resort must work even when templates cannot.
const staticServerError = readFileSync(publicDir + '/500.html', 'utf8')

export default fp(async function errors (app) {
  app.setErrorHandler(async function (error: FastifyError | TesseraError, request, reply) {
    const status = statusOf(error)
    if (status === 503) {
      request.log.error({ err: error }, 'database unavailable')
      reply.header('Retry-After', String(retryAfterSeconds))
    } else if (status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ code: error.code, status }, error.message)

    const showForm = request.routeOptions.config.showForm
    const rateLimited = status === 429
    if (showForm && request.method === 'POST' && (csrfCodes.has(error.code) || rateLimited)) {
      const message = rateLimited
        ? 'You have sent this form too often. Please wait a few minutes, then send it again; your text is kept below.'
        : 'This form had expired, so nothing was saved. Please check it and send it again.'
      try {
        return await showForm(request, reply, { _form: message }, status)
      } catch (formError) {
        // The form itself is out of reach (a ticket the visitor cannot open): answer as
        // for any other refused request.
        if (!(formError instanceof TesseraError)) throw formError
        error = formError
      }
    }

    return await renderError(request, reply, statusOf(error), error instanceof TesseraError ? error.message : undefined)
  })

  const lostUrls = new LostUrls()
  app.addHook('onRoute', (route) => {
    const goesTo = route.config?.getGoesTo
    lostUrls.add(route.method, route.url, goesTo === undefined ? undefined : app.url(goesTo))
  })

  app.setNotFoundHandler({
    preHandler: app.rateLimit({ max: 120, timeWindow: '1 minute' })
  }, async function (request, reply) {
    if (request.method === 'GET' || request.method === 'HEAD') {
      const [path, query] = splitQuery(request.url)
      const page = lostUrls.pageFor(path, app.url('/'))
      // A stray slash keeps the query; a post-only address has none worth keeping.
      if (page !== undefined) return await reply.redirect(page === path.replace(/\/+$/, '') ? page + query : page, 303)
    }
    return await renderError(request, reply, 404)
  })
}, { name: 'errors', dependencies: ['views', 'security'] })

/** The friendly error page, or the static one when even templates fail. */
export async function renderError (request: FastifyRequest, reply: FastifyReply, status: number, message?: string): Promise<FastifyReply> {
  try {
    return await reply.render('error', {
      status,
      // Staff addresses keep the staff header and lead back into the panel.
      staff: request.url.startsWith(request.server.url('/staff')),
      message: message ?? messages[status] ?? 'Something went wrong on our side. Please try again in a moment.'
    }, { status, fragment: 'partials/_error-message' })
  } catch (renderFailure) {
    request.log.error({ err: renderFailure }, 'error page failed to render')
    return await reply.code(500).type('text/html; charset=utf-8').send(staticServerError)
  }
}

/**
 * For requests refused before routing (malformed URLs): no request decorators exist yet,
 * so the page is rendered through the instance.
 */
export async function renderFrameworkError (app: FastifyInstance, reply: FastifyReply, status: number): Promise<void> {
  let html = staticServerError
  try {
    html = await app.view('error', { status, message: messages[status] ?? messages[400], csrfToken: () => '' })
  } catch (renderFailure) {
    app.log.error({ err: renderFailure }, 'error page failed to render')
    status = 500
  }
  await reply.code(status).headers(app.securityHeaders).header('content-type', 'text/html; charset=utf-8').send(html)
}

function splitQuery (url: string): [string, string] {
  const at = url.indexOf('?')
  return at === -1 ? [url, ''] : [url.slice(0, at), url.slice(at)]
}

function statusOf (error: FastifyError | TesseraError): number {
  if (error instanceof TesseraError) return httpStatusOf(error)
  if (csrfCodes.has(error.code)) return 403
  if (isDatabaseUnavailable(error)) return 503
  const status = error.statusCode ?? 500
  return status >= 400 && status < 600 ? status : 500
}
