import type { FastifyInstance } from 'fastify'
import { findVisibleTicket } from '../../data/queues.js'
import { notFound } from '../../domain/errors.js'
import { parseId } from '../forms.js'

/**
 * The HTML part of a message as it was sent, for agents on a ticket they may see. It is mail
 * from anyone, so the browser is told to treat it as hostile: a sandbox without scripts,
 * forms or same-origin access, nothing loaded from anywhere (no remote images, which would
 * tell the sender the mail was read) unless the agent asks for images, and no framing.
 */
export default async function mailViewRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  app.get<{ Params: { number: string, id: string }, Querystring: { images?: string } }>('/staff/tickets/:number/entries/:id/html', async (request, reply) => {
    const ticket = await findVisibleTicket(db, request.agent, request.params.number)
    const id = parseId(request.params.id)
    if (!ticket || id === undefined) throw notFound('That message')
    const entry = await db('thread_entries').where({ id, ticket_id: ticket.id }).first('original_html') as { original_html: string | null } | undefined
    if (!entry?.original_html) throw notFound('That message')
    const images = request.query.images === 'remote' ? 'data: https: http:' : 'data:'
    return await reply
      .header('Content-Security-Policy', `sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src ${images}; font-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`)
      .header('Cache-Control', 'private, no-store')
      .header('X-Content-Type-Options', 'nosniff')
      .type('text/html; charset=utf-8')
      .send(entry.original_html)
  })
}
