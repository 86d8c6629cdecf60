import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findVisibleTicketNumber, listRequesterTickets } from '../../data/queues.js'
import { findTicketById, findTicketView, listEntries, listEvents, listViewers, touchViewer, type TicketStatus, type TicketView } from '../../data/tickets.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import { allowedFrom, priorities, type Actor } from '../../domain/lifecycle.js'
import { may, type StaffAction } from '../../domain/permissions.js'
import { trashRetentionDays } from '../../domain/trash.js'
import { setFlash, takeFlash } from '../cookies.js'
import { describeEvent } from '../format.js'
import { referenceData } from './reference-data.js'
import { formRoute, hasErrors, parseId, readForm, type FieldErrors, type FormValues, type FormSpec } from '../forms.js'

const composerSpec = {
  message: { label: 'Message', missing: 'Write a message first.', maxLength: 20000 },
  seen: { label: 'Seen', missing: '', maxLength: 12, optional: true }
} satisfies FormSpec

const viewerWindowMs = 60_000

type TicketRequest = FastifyRequest<{ Params: { number: string }, Body: Record<string, unknown> }>

interface Composer {
  values?: FormValues
  errors?: FieldErrors
  conflict?: string
  status?: number
}

export default async function ticketRoutes (app: FastifyInstance): Promise<void> {
  const { db, lifecycle } = app
  const reference = referenceData(db)
  const ticketUrl = (number: string): string => app.url(`/staff/tickets/${number}`)

  /** Tickets outside the agent's reach do not exist, whatever the number. */
  async function staffTicket (request: TicketRequest): Promise<TicketView> {
    const id = await findVisibleTicketNumber(db, request.agent, request.params.number)
    const ticket = id === undefined ? undefined : await findTicketView(db, request.params.number)
    if (!ticket) throw notFound('That ticket')
    return ticket
  }

  async function showTicket (request: TicketRequest, reply: FastifyReply, ticket: TicketView, composer: Composer = {}): Promise<FastifyReply> {
    const at = lifecycle.now()
    await touchViewer(db, ticket.id, request.agent.id, at)
    const [entries, events, { agents, teams, departments, canned }, otherTickets, viewers, mergedInto] = await Promise.all([
      listEntries(db, ticket.id, { includeNotes: true }),
      listEvents(db, ticket.id),
      reference(),
      listRequesterTickets(db, request.agent, ticket.requester_id, ticket.id),
      listViewers(db, ticket.id, at - viewerWindowMs, request.agent.id),
      ticket.merged_into_id === null ? undefined : findTicketById(db, ticket.merged_into_id)
    ])
    const names = { agents, teams, departments }
    const timeline = [
      ...entries.map((entry) => ({ kind: 'entry' as const, at: entry.created_at, order: entry.id, entry })),
      ...events.filter((e) => !['replied', 'client_replied', 'note_added'].includes(e.type))
        .map((event) => ({ kind: 'event' as const, at: event.created_at, order: event.id, text: describeEvent(event, names), event }))
    ].sort((a, b) => a.at - b.at || (a.kind === b.kind ? a.order - b.order : a.kind === 'entry' ? -1 : 1))
    const can = (action: StaffAction): boolean => may(request.agent, ticket, action) && (action === 'read' || action === 'delete' || action === 'note' ||
      allowedFrom[action as keyof typeof allowedFrom]?.includes(ticket.status) === true)
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/ticket', {
      agent: request.agent,
      ticket,
      timeline,
      agents,
      teams,
      departments,
      canned,
      otherTickets,
      viewers,
      mergedInto,
      priorities,
      can,
      latestEntryId: entries.reduce((max, e) => Math.max(max, e.id), 0),
      values: composer.values ?? { message: '' },
      errors: composer.errors ?? {},
      conflict: composer.conflict,
      spec: composerSpec,
      flash: takeFlash(request, reply),
      ticketUrl: ticketUrl(ticket.number)
    }, {
      status: composer.status,
      fragment: { 'ticket-summary': 'staff/_ticket-summary', conversation: 'staff/_conversation-update', viewers: 'staff/_viewers' }
    })
  }

  /** Runs one domain verb; a refusal comes back as a message on the ticket, never as a dead end. */
  async function act (request: TicketRequest, reply: FastifyReply, change: (ticket: TicketView, actor: Actor) => Promise<unknown>, done: string): Promise<FastifyReply> {
    const ticket = await staffTicket(request)
    try {
      await change(ticket, { kind: 'agent', agentId: request.agent.id })
      setFlash(request, reply, done)
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      setFlash(request, reply, err.message)
    }
    return await reply.redirect(ticketUrl(ticket.number), 303)
  }

  app.get<{ Params: { number: string } }>('/staff/tickets/:number', async (request, reply) => {
    return await showTicket(request as TicketRequest, reply, await staffTicket(request as TicketRequest))
  })

  app.get<{ Params: { number: string } }>('/staff/tickets/:number/viewers', async (request, reply) => {
    const ticket = await staffTicket(request as TicketRequest)
    const at = lifecycle.now()
    await touchViewer(db, ticket.id, request.agent.id, at)
    const viewers = await listViewers(db, ticket.id, at - viewerWindowMs, request.agent.id)
    return await reply.render('staff/_viewers', { viewers, ticketUrl: ticketUrl(ticket.number) })
  })

  const composerRoute = formRoute(app, composerSpec, {
    show: async (request, reply, values, errors, status) => {
      const ticketRequest = request as TicketRequest
      return await showTicket(ticketRequest, reply, await staffTicket(ticketRequest), { values, errors, status })
    }
  })

  for (const kind of ['replies', 'notes'] as const) {
    app.post<{ Params: { number: string } }>(`/staff/tickets/:number/${kind}`, composerRoute, async (request, reply) => {
      const ticketRequest = request as TicketRequest
      const ticket = await staffTicket(ticketRequest)
      const { values, errors } = readForm(request, composerSpec)
      if (hasErrors(errors)) return await showTicket(ticketRequest, reply, ticket, { values, errors, status: 422 })
      try {
        if (kind === 'replies') await lifecycle.addResponse(ticket.id, request.agent.id, values.message, parseId(values.seen))
        else await lifecycle.addNote(ticket.id, request.agent.id, values.message)
      } catch (err) {
        if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
        // The draft stays in the box; a collision also refreshes what the agent has seen.
        return await showTicket(ticketRequest, reply, ticket, { values: { ...values, seen: '' }, conflict: err.message, status: err.statusCode })
      }
      setFlash(request, reply, kind === 'replies' ? 'Reply sent to the requester.' : 'Internal note added.')
      return await reply.redirect(ticketUrl(ticket.number), 303)
    })
  }

  app.post<{ Params: { number: string } }>('/staff/tickets/:number/draft', {
    preValidation: app.csrfProtection
  }, async (request, reply) => {
    const ticketRequest = request as TicketRequest
    const ticket = await staffTicket(ticketRequest)
    const body = ticketRequest.body ?? {}
    const draft = typeof body.message === 'string' ? body.message : ''
    const canned = (await reference()).canned.find((c) => c.id === parseId(body.canned))
    const message = canned ? (draft.trim() ? `${draft.trimEnd()}\n\n${canned.body}` : canned.body) : draft
    return await showTicket(ticketRequest, reply, ticket, { values: { message, seen: typeof body.seen === 'string' ? body.seen : '' } })
  })

  app.post<{ Params: { number: string } }>('/staff/tickets/:number/assignment', { preValidation: app.csrfProtection }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const agentId = parseId(body.agent) ?? null
    const teamId = parseId(body.team) ?? null
    return await act(request as TicketRequest, reply, async (ticket, actor) => {
      if (agentId === request.agent.id && teamId === null && body.claim === '1') return await lifecycle.claimTicket(ticket.id, request.agent.id)
      if (agentId === null && teamId === null) return await lifecycle.releaseTicket(ticket.id, actor)
      return await lifecycle.assignTicket(ticket.id, actor, { agentId, teamId })
    }, agentId === null && teamId === null ? 'Ticket released.' : 'Assignment saved.')
  })

  app.post<{ Params: { number: string } }>('/staff/tickets/:number/department', { preValidation: app.csrfProtection }, async (request, reply) => {
    const departmentId = parseId((request.body as Record<string, unknown> | undefined)?.department) ?? 0
    return await act(request as TicketRequest, reply, async (ticket, actor) => await lifecycle.transferTicket(ticket.id, actor, departmentId), 'Ticket transferred.')
  })

  app.post<{ Params: { number: string } }>('/staff/tickets/:number/priority', { preValidation: app.csrfProtection }, async (request, reply) => {
    const priority = parseId((request.body as Record<string, unknown> | undefined)?.priority) ?? 0
    return await act(request as TicketRequest, reply, async (ticket, actor) => await lifecycle.changePriority(ticket.id, actor, priority), 'Priority changed.')
  })

  app.post<{ Params: { number: string } }>('/staff/tickets/:number/status', { preValidation: app.csrfProtection }, async (request, reply) => {
    const status = String((request.body as Record<string, unknown> | undefined)?.status ?? '') as TicketStatus
    return await act(request as TicketRequest, reply, async (ticket, actor) => await lifecycle.setStatus(ticket.id, actor, status), 'Status changed.')
  })

  app.post<{ Params: { number: string } }>('/staff/tickets/:number/merge', { preValidation: app.csrfProtection }, async (request, reply) => {
    const target = String((request.body as Record<string, unknown> | undefined)?.target ?? '').trim().replace(/^#/, '')
    return await act(request as TicketRequest, reply, async (ticket, actor) => {
      const targetId = await findVisibleTicketNumber(db, request.agent, target)
      if (targetId === undefined) throw new TesseraError('TESSERA_INVALID_INPUT', `There is no ticket ${target || 'with that number'} you can see.`, 422)
      await lifecycle.mergeTicket(ticket.id, targetId, actor)
    }, `Merged into ticket ${target}.`)
  })

  // A confirmation page rather than a script dialog, so the question is asked in every browser.
  app.get<{ Params: { number: string } }>('/staff/tickets/:number/deletion', async (request, reply) => {
    const ticket = await staffTicket(request as TicketRequest)
    if (!may(request.agent, ticket, 'delete')) throw new TesseraError('TESSERA_FORBIDDEN', 'Your role in this department does not allow that.', 403)
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/delete-confirm', { agent: request.agent, ticket, ticketUrl: ticketUrl(ticket.number), retentionDays: trashRetentionDays })
  })

  app.post<{ Params: { number: string } }>('/staff/tickets/:number/deletion', { preValidation: app.csrfProtection }, async (request, reply) => {
    const ticket = await staffTicket(request as TicketRequest)
    try {
      await lifecycle.deleteTicket(ticket.id, { kind: 'agent', agentId: request.agent.id })
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      setFlash(request, reply, err.message)
      return await reply.redirect(ticketUrl(ticket.number), 303)
    }
    setFlash(request, reply, `Ticket ${ticket.number} was moved to the trash. A manager can restore it for ${trashRetentionDays} days.`)
    return await reply.redirect(app.url('/staff/queues/open'), 303)
  })
}
