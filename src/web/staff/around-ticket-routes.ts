import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findVisibleTicket } from '../../data/queues.js'
import { listEntries, type TicketView } from '../../data/tickets.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import { agentActor } from '../../domain/lifecycle.js'
import { setFlash } from '../cookies.js'

interface NumberParams { number: string }
interface LinkParams extends NumberParams { other: string }

const linkBody = { type: 'object', properties: { _csrf: { type: 'string' }, target: { type: 'string', maxLength: 14 } }, required: ['target'] }
const emptyBody = { type: 'object', properties: { _csrf: { type: 'string' } } }

/**
 * What sits around a ticket: links to related tickets (without merging) and the print
 * view. Both tickets are loaded through the agent's scope: an unseen ticket is not found.
 */
export default async function aroundTicketRoutes (app: FastifyInstance): Promise<void> {
  const { db, ticketLinks } = app
  const ticketUrl = (number: string): string => app.url(`/staff/tickets/${number}`)

  async function staffTicket (request: FastifyRequest<{ Params: NumberParams }>): Promise<TicketView> {
    const ticket = await findVisibleTicket(db, request.agent, request.params.number)
    if (!ticket) throw notFound('That ticket')
    return ticket
  }

  /** Runs the change; a refusal comes back as a message on the ticket page. */
  async function change (request: FastifyRequest<{ Params: NumberParams }>, reply: FastifyReply, ticket: TicketView, verb: () => Promise<string>): Promise<FastifyReply> {
    try {
      setFlash(request, reply, await verb())
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      setFlash(request, reply, err.message)
    }
    return reply.redirect(ticketUrl(ticket.number), 303)
  }

  app.post<{ Params: NumberParams, Body: { target?: string } }>('/staff/tickets/:number/links', {
    schema: { body: linkBody }, attachValidation: true, preValidation: app.csrfProtection
  }, async (request, reply) => {
    const ticket = await staffTicket(request)
    const number = request.validationError ? '' : (request.body.target ?? '').trim().replace(/^#/, '')
    return await change(request, reply, ticket, async () => {
      const other = number === '' ? undefined : await findVisibleTicket(db, request.agent, number)
      if (!other) throw new TesseraError('TESSERA_INVALID_INPUT', `There is no ticket ${number || 'with that number'} you can see.`)
      const linked = await ticketLinks.link(ticket, agentActor(request.agent), other)
      return linked ? `Linked to ticket ${other.number}.` : `Ticket ${other.number} was linked already.`
    })
  })

  app.post<{ Params: LinkParams }>('/staff/tickets/:number/links/:other/deletion', {
    schema: { body: emptyBody }, attachValidation: true, preValidation: app.csrfProtection
  }, async (request, reply) => {
    const ticket = await staffTicket(request)
    return await change(request, reply, ticket, async () => {
      const other = await findVisibleTicket(db, request.agent, request.params.other)
      if (!other) throw new TesseraError('TESSERA_INVALID_INPUT', `There is no ticket ${request.params.other} you can see.`)
      const unlinked = await ticketLinks.unlink(ticket, agentActor(request.agent), other)
      return unlinked ? `Unlinked ticket ${other.number}.` : `Ticket ${other.number} was not linked.`
    })
  })

  // A plain GET, so the choice of notes is made on the ticket page before printing.
  app.get<{ Params: NumberParams, Querystring: { notes?: string } }>('/staff/tickets/:number/print', async (request, reply) => {
    const ticket = await staffTicket(request)
    const includeNotes = request.query.notes === '1'
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/print', {
      ticket,
      includeNotes,
      entries: await listEntries(db, ticket.id, { includeNotes }),
      ticketUrl: ticketUrl(ticket.number),
      printedAt: app.lifecycle.now()
    })
  })
}
