import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listParticipants } from '../../data/participants.js'
import { findVisibleTicket } from '../../data/queues.js'
import type { TicketView } from '../../data/tickets.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import { agentActor } from '../../domain/lifecycle.js'
import { createParticipants, isParticipantAddress } from '../../domain/participants.js'
import { allowedActions } from '../../domain/permissions.js'
import { setFlash, takeFlash } from '../cookies.js'
import { formRoute, hasErrors, parseId, readForm, type FieldErrors, type FormSpec, type FormValues } from '../forms.js'

export const participantSpec = {
  email: { label: 'E-mail address', missing: 'Enter the colleague’s e-mail address.', invalid: 'Enter an e-mail address such as name@example.com.', maxLength: 254 },
  name: { label: 'Name', missing: '', maxLength: 120, optional: true }
} satisfies FormSpec

interface Params { number: string }

/**
 * Participants of a ticket: colleagues on the thread besides the requester. The ticket page
 * lists them with a small form; this page shows the same form again when it was refused.
 */
export default async function participantRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const participants = createParticipants(db, { now: app.lifecycle.now })
  const ticketUrl = (number: string): string => app.url(`/staff/tickets/${number}`)

  async function staffTicket (request: FastifyRequest): Promise<TicketView> {
    const ticket = await findVisibleTicket(db, request.agent, (request.params as Params).number)
    if (!ticket) throw notFound('That ticket')
    return ticket
  }

  async function showPage (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    const ticket = await staffTicket(request)
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/participants', {
      agent: request.agent,
      ticket,
      participants: await listParticipants(db, ticket.id),
      mayChange: allowedActions(request.agent, ticket).has('reply'),
      ticketUrl: ticketUrl(ticket.number),
      values,
      errors,
      spec: participantSpec,
      flash: takeFlash(request, reply)
    }, { status })
  }

  app.get<{ Params: Params }>('/staff/tickets/:number/participants', async (request, reply) => await showPage(request, reply, { email: '', name: '' }, {}))

  app.post<{ Params: Params }>('/staff/tickets/:number/participants', formRoute(app, participantSpec, { show: showPage }), async (request, reply) => {
    const ticket = await staffTicket(request)
    const { values, errors } = readForm(request, participantSpec)
    if (!errors.email && !isParticipantAddress(values.email.trim().toLowerCase())) errors.email = participantSpec.email.invalid
    if (hasErrors(errors)) return await showPage(request, reply, values, errors, 422)
    let added: boolean
    try {
      added = await participants.add(ticket, agentActor(request.agent), { email: values.email, name: values.name })
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      return await showPage(request, reply, values, err.code === 'TESSERA_INVALID_INPUT' ? { email: err.message } : { _form: err.message }, err.code === 'TESSERA_INVALID_INPUT' ? 422 : 403)
    }
    setFlash(request, reply, added ? `${values.email.trim()} is a participant now.` : `${values.email.trim()} was a participant already.`)
    return await reply.redirect(ticketUrl(ticket.number), 303)
  })

  app.post<{ Params: Params & { id: string } }>('/staff/tickets/:number/participants/:id/removal', { preValidation: app.csrfProtection }, async (request, reply) => {
    const ticket = await staffTicket(request)
    try {
      const removed = await participants.remove(ticket, agentActor(request.agent), parseId(request.params.id) ?? 0)
      setFlash(request, reply, removed ? 'The participant was removed.' : 'That participant was removed already.')
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      setFlash(request, reply, err.message)
    }
    return await reply.redirect(ticketUrl(ticket.number), 303)
  })
}
