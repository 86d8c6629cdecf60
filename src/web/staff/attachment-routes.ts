import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AttachmentRow } from '../../data/attachments.js'
import { findTicketAttachment } from '../../data/attachments.js'
import { findVisibleTicket } from '../../data/queues.js'
import { notFound } from '../../domain/errors.js'
import { fileParam, sendAttachment } from '../attachment-download.js'

interface FileParams { number: string, file: string }

/** Files of a ticket's entries, notes' included, for agents who may open the ticket. */
export default async function staffAttachmentRoutes (app: FastifyInstance): Promise<void> {
  async function staffFile (request: FastifyRequest<{ Params: FileParams }>): Promise<AttachmentRow | undefined> {
    const id = fileParam(request)
    const ticket = await findVisibleTicket(app.db, request.agent, request.params.number)
    if (!ticket) throw notFound('That ticket')
    return await findTicketAttachment(app.db, ticket.id, id)
  }

  app.get<{ Params: FileParams }>('/staff/tickets/:number/files/:file', async (request, reply) =>
    await sendAttachment(request, reply, await staffFile(request), false))

  app.get<{ Params: FileParams }>('/staff/tickets/:number/files/:file/image', async (request, reply) =>
    await sendAttachment(request, reply, await staffFile(request), true))
}
