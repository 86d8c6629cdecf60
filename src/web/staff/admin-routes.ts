import type { FastifyInstance, FastifyRequest } from 'fastify'
import { listSignInEvents } from '../../data/agents.js'
import { countOutboxByStatus, listRecentOutbox, type OutboxRow } from '../../data/outbox.js'
import { notFound } from '../../domain/errors.js'
import { setFlash, takeFlash } from '../cookies.js'
import { parseId } from '../forms.js'

const outboxStatuses: ReadonlyArray<OutboxRow['status']> = ['queued', 'sent', 'failed']

/** Administration pages; for anyone else they do not exist. */
export default async function adminRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const outboxUrl = app.url('/staff/admin/outbox')

  // Before each route's CSRF check: for anyone else an admin form does not exist, expired or not.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (!request.agent.isAdmin) throw notFound()
  })

  app.get<{ Querystring: { status?: string } }>('/staff/admin/outbox', async (request, reply) => {
    const status = outboxStatuses.find((s) => s === request.query.status)
    const [messages, counts] = await Promise.all([listRecentOutbox(db, status, 100), countOutboxByStatus(db)])
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin-outbox', {
      agent: request.agent,
      messages,
      counts,
      status,
      statuses: outboxStatuses,
      smtpConfigured: app.config.smtpUrl !== '',
      flash: takeFlash(request, reply)
    })
  })

  app.get('/staff/admin/sign-ins', async (request, reply) => {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin-sign-ins', { agent: request.agent, events: await listSignInEvents(db, 200) })
  })

  app.post<{ Params: { id: string } }>('/staff/admin/outbox/:id/retry', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = parseId(request.params.id) ?? 0
    const requeued = await app.outboxAdmin.requeue(id)
    setFlash(request, reply, requeued ? `Message ${id} will be sent again shortly.` : `Message ${id} was already sent or does not exist.`)
    return await reply.redirect(outboxUrl, 303)
  })

  app.post('/staff/admin/outbox/test', { preValidation: app.csrfProtection }, async (request, reply) => {
    await app.outboxAdmin.queueTestMessage(request.agent)
    setFlash(request, reply, `A test message to ${request.agent.email} is queued; it appears below once sent.`)
    return await reply.redirect(outboxUrl, 303)
  })
}
