import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { findVisibleTicket, visibleTicketWithSiblingsList } from '../../data/queues.js'
import { ticketNumberPattern } from '../../domain/access.js'
import type { NamedRow } from '../../data/agents.js'
import { readLists } from '../../data/database.js'
import { listViewers, timelineList, viewersList, type TicketRow, type TicketView } from '../../data/tickets.js'
import { participantsList } from '../../data/participants.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import { cannedResponsesFor, fillPlaceholders, ticketLinkPlaceholder } from '../../domain/canned-responses.js'
import { agentActor, type AgentActor } from '../../domain/lifecycle.js'
import { allowedActions } from '../../domain/permissions.js'
import { surveyShownToStaff } from '../../domain/survey.js'
import { defaultSignatureChoice, isSignatureChoice, signatureOptions, type SignatureChoice } from '../../domain/signatures.js'
import { trashRetentionDays } from '../../domain/trash.js'
import { setFlash, takeFlash } from '../cookies.js'
import { httpStatusOf } from '../plugins/errors.js'
import { describeEvent, inTimeline, priorities, ratingLabel } from '../format.js'
import { linkedTicketsList } from '../../data/ticket-links.js'
import { assigneesFor, referenceData, type ReferenceData } from './reference-data.js'
import { renderedOnce } from '../plugins/views.js'
import { slaTargetsView } from '../sla-format.js'
import { hasErrors, parseId, readForm, type FieldErrors, type FormValues, type FormSpec } from '../forms.js'
import { keepUploads, uploadError, uploadFormRoute } from '../uploads.js'
import { ticketAttachmentsList } from '../../data/attachments.js'

const composerSpec = {
  message: { label: 'Message', missing: 'Write a message first.', maxLength: 20000 },
  seen: { label: 'Seen', missing: '', maxLength: 12, optional: true },
  /**
   * The button pressed. Buttons reach their own route with `formaction`, but browsers that
   * ignore it (lynx, old ones) post every button to the form's own action: there the
   * intent decides, so a note never goes out as a reply.
   */
  intent: { label: 'Action', missing: '', maxLength: 12, optional: true },
  canned: { label: 'Canned response', missing: '', maxLength: 12, optional: true },
  signature: { label: 'Signature', missing: '', maxLength: 16, optional: true },
  /** "yes" keeps the ticket's participants in Cc of a reply (the box is ticked at first). */
  cc: { label: 'Copy to participants', missing: '', maxLength: 3, optional: true }
} satisfies FormSpec

const viewerWindowMs = 60_000

interface NumberParams { number: string }
type TicketRequest = FastifyRequest<{ Params: NumberParams }>

/** The ticket number of any request under /staff/tickets/:number (a form shown again after a refusal). */
function ticketNumberOf (request: FastifyRequest): string {
  const params = request.params
  return typeof params === 'object' && params !== null && 'number' in params && typeof params.number === 'string' ? params.number : ''
}

const id = { type: 'string', pattern: '^[0-9]{0,9}$' } as const
const actionBody = (properties: Record<string, object> = {}, required: string[] = []): object =>
  ({ type: 'object', properties: { _csrf: { type: 'string' }, ...properties }, required })

interface AssignmentBody { agent?: string, team?: string }
interface DepartmentBody { department: string }
interface PriorityBody { priority: string }
interface MergeBody { target: string }
interface DraftBody { message?: string, canned?: string, seen?: string, signature?: string }

interface Composer {
  values?: FormValues
  errors?: FieldErrors
  conflict?: string
  status?: number
}

/**
 * The staff ticket page and one route per thing an agent can do to a ticket, each posting
 * one lifecycle verb. Tickets outside the agent's reach do not exist, whatever the number.
 */
export default async function ticketRoutes (app: FastifyInstance): Promise<void> {
  const { db, lifecycle } = app
  const reference = referenceData(db)
  // The menus of the assignment, transfer and priority forms list the same agents, teams,
  // departments and priorities on every ticket, and differ only by the department and the
  // value chosen: each is made once per such pair while the lists stay the same.
  const menus = renderedOnce<ReferenceData>()
  const ticketUrl = (number: string): string => app.url(`/staff/tickets/${number}`)

  async function staffTicket (request: TicketRequest): Promise<TicketView> {
    const ticket = await findVisibleTicket(db, request.agent, request.params.number)
    if (!ticket) throw notFound('That ticket')
    return ticket
  }

  /**
   * The current assignee stays in the list even when they may no longer be given tickets, so
   * saving the form for another reason (a team) does not unassign them unasked.
   */
  function withCurrentAssignee (assignees: NamedRow[], ticket: TicketRow, agents: readonly NamedRow[]): NamedRow[] {
    const current = agents.find((a) => a.id === ticket.assignee_id)
    return current && !assignees.some((a) => a.id === current.id) ? [...assignees, current] : assignees
  }

  async function showTicket (request: FastifyRequest, reply: FastifyReply, composer: Composer = {}): Promise<FastifyReply> {
    const number = ticketNumberOf(request)
    if (!ticketNumberPattern.test(number)) throw notFound('That ticket')
    // The ticket and its lists in one read: the lists name it by number. Those of a ticket
    // the agent may not see are read and dropped, never shown.
    const byNumber = { number }
    const at = lifecycle.now()
    const [{ found, timeline: { entries, events }, viewers, linked, attachments, participants }, lists] = await Promise.all([
      readLists(db, {
        found: visibleTicketWithSiblingsList(db, request.agent, number),
        timeline: timelineList(db, byNumber),
        viewers: viewersList(db, byNumber, at - viewerWindowMs, request.agent.id),
        linked: linkedTicketsList(db, request.agent, byNumber),
        attachments: ticketAttachmentsList(db, byNumber),
        participants: participantsList(db, byNumber)
      }),
      reference()
    ])
    if (!found) throw notFound('That ticket')
    const { ticket, others } = found
    const { agents, assignable, teams, departments, canned } = lists
    const survey = surveyShownToStaff(found.survey)
    await lifecycle.recordViewer(ticket, agentActor(request.agent))
    const names = { agents, teams, departments }
    const timeline = [
      ...entries.map((entry) => ({ kind: 'entry' as const, at: entry.created_at, order: entry.id, entry })),
      ...events.filter(inTimeline)
        .map((event) => ({ kind: 'event' as const, at: event.created_at, order: event.id, text: describeEvent(event, names), event }))
    ].sort((a, b) => a.at - b.at || (a.kind === b.kind ? a.order - b.order : a.kind === 'entry' ? -1 : 1))
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/ticket', {
      agent: request.agent,
      ticket,
      timeline,
      attachments,
      agents,
      assignees: withCurrentAssignee(assigneesFor(assignable, ticket.department_id), ticket, agents),
      teams,
      departments,
      canned: cannedResponsesFor(request.agent, canned),
      ticketLinkPlaceholder,
      otherTickets: others,
      survey,
      ratingLabel,
      linked,
      participants,
      viewers,
      priorities,
      allowed: allowedActions(request.agent, ticket),
      latestEntryId: entries.reduce((max, e) => Math.max(max, e.id), 0),
      values: composer.values ?? { message: '' },
      errors: composer.errors ?? {},
      conflict: composer.conflict,
      spec: composerSpec,
      signatureOptions,
      flash: takeFlash(request, reply),
      ticketUrl: ticketUrl(ticket.number),
      sla: slaTargetsView(ticket, at),
      menu: (name: string, chosen: unknown, render: () => string) => menus(lists, `${name} ${ticket.department_id} ${String(chosen)}`)(render)
    }, {
      status: composer.status,
      fragment: { 'ticket-summary': 'staff/_ticket-summary', conversation: 'staff/_conversation-update', viewers: 'staff/_viewers' }
    })
  }

  /**
   * Runs one domain verb on the ticket the request names; a refusal comes back as a message
   * on the ticket, never as a dead end.
   */
  async function act (request: TicketRequest, reply: FastifyReply,
    verb: (ticket: TicketView, actor: AgentActor) => Promise<unknown>, done: string): Promise<FastifyReply> {
    const ticket = await staffTicket(request)
    if (request.validationError) {
      setFlash(request, reply, 'That form could not be read, so nothing was changed. Please choose again.')
    } else {
      try {
        await verb(ticket, agentActor(request.agent))
        setFlash(request, reply, done)
      } catch (err) {
        if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
        setFlash(request, reply, err.message)
      }
    }
    return await reply.redirect(ticketUrl(ticket.number), 303)
  }

  const actionRoute = (schema: object = actionBody()): RouteShorthandOptions =>
    ({ schema: { body: schema }, attachValidation: true, preValidation: app.csrfProtection })
  // The composer's form is multipart (it may carry files), and its canned-response button posts it here.
  const draftRoute = (schema: object): RouteShorthandOptions =>
    ({ schema: { body: schema }, attachValidation: true, config: { takesFiles: true }, preValidation: [app.readUploads, app.csrfProtection] })

  app.get<{ Params: NumberParams }>('/staff/tickets/:number', async (request, reply) => await showTicket(request, reply))

  app.get<{ Params: NumberParams }>('/staff/tickets/:number/viewers', async (request, reply) => {
    const ticket = await staffTicket(request)
    await lifecycle.recordViewer(ticket, agentActor(request.agent))
    const viewers = await listViewers(db, ticket.id, lifecycle.now() - viewerWindowMs, request.agent.id)
    return await reply.render('staff/_viewers', { viewers, ticketUrl: ticketUrl(ticket.number) })
  })

  const composerRoute = uploadFormRoute(app, composerSpec, {
    show: async (request, reply, values, errors, status) => await showTicket(request, reply, { values, errors, status })
  })

  /** The composer's text goes out as a reply or stays inside as a note; a canned insert only fills the box. */
  async function compose (request: TicketRequest, reply: FastifyReply, route: 'replies' | 'notes'): Promise<FastifyReply> {
    const ticket = await staffTicket(request)
    const { values, errors } = readForm(request, composerSpec)
    if (values.intent === 'canned') return await insertCanned(request, reply, ticket, values)
    const kind = route === 'replies' && values.intent !== 'note' ? 'reply' : 'note'
    // An empty choice (a form from before signatures) takes the agent's default.
    const signature = values.signature === '' ? defaultSignatureChoice(request.agent) : values.signature
    if (!isSignatureChoice(signature)) errors.signature ??= 'Choose my signature, the department’s or none.'
    const refused = uploadError(request)
    if (refused !== undefined) errors.files = refused
    if (hasErrors(errors)) return await showTicket(request, reply, { values, errors, status: 422 })
    const actor = agentActor(request.agent)
    try {
      const files = await keepUploads(request)
      if (kind === 'reply') await lifecycle.addResponse(ticket, actor, { body: values.message, seenEntryId: parseId(values.seen), signature: signature as SignatureChoice, copyParticipants: values.cc === 'yes', files })
      else await lifecycle.addNote(ticket, actor, { body: values.message, files })
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      // The draft stays in the box; a collision also refreshes what the agent has seen.
      return await showTicket(request, reply, { values: { ...values, seen: '' }, conflict: err.message, status: httpStatusOf(err) })
    }
    setFlash(request, reply, kind === 'reply' ? 'Reply sent to the requester.' : 'Internal note added.')
    return await reply.redirect(ticketUrl(ticket.number), 303)
  }

  /** Adds the chosen response to the draft with its placeholders filled, for the agent to read before sending. */
  async function insertCanned (request: TicketRequest, reply: FastifyReply, ticket: TicketView, values: { message?: string, canned?: string, seen?: string, signature?: string }): Promise<FastifyReply> {
    const draft = values.message ?? ''
    const canned = cannedResponsesFor(request.agent, (await reference()).canned).find((c) => c.id === parseId(values.canned))
    const text = canned ? fillPlaceholders(canned.body, { requesterName: ticket.requester_name, ticketNumber: ticket.number, agentName: request.agent.name }) : ''
    const message = canned ? (draft.trim() ? `${draft.trimEnd()}\n\n${text}` : text) : draft
    return await showTicket(request, reply, { values: { message, seen: values.seen ?? '', ...(values.signature ? { signature: values.signature } : {}) } })
  }

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/replies', composerRoute, async (request, reply) =>
    await compose(request, reply, 'replies'))

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/notes', composerRoute, async (request, reply) =>
    await compose(request, reply, 'notes'))

  app.post<{ Params: NumberParams, Body: DraftBody }>('/staff/tickets/:number/draft', draftRoute(actionBody({
    message: { type: 'string', maxLength: composerSpec.message.maxLength }, canned: id, seen: id, signature: { type: 'string', maxLength: 16 }
  })), async (request, reply) => {
    const ticket = await staffTicket(request)
    return await insertCanned(request, reply, ticket, request.validationError ? {} : request.body)
  })

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/claim', actionRoute(), async (request, reply) =>
    await act(request, reply, async (ticket, actor) => await lifecycle.claimTicket(ticket, actor), 'You have claimed this ticket.'))

  app.post<{ Params: NumberParams, Body: AssignmentBody }>('/staff/tickets/:number/assignment', actionRoute(actionBody({ agent: id, team: id })), async (request, reply) =>
    await act(request, reply, async (ticket, actor) =>
      await lifecycle.assignTicket(ticket, actor, { agentId: parseId(request.body.agent) ?? null, teamId: parseId(request.body.team) ?? null }), 'Assignment saved.'))

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/release', actionRoute(), async (request, reply) =>
    await act(request, reply, async (ticket, actor) => await lifecycle.releaseTicket(ticket, actor), 'Ticket released.'))

  app.post<{ Params: NumberParams, Body: DepartmentBody }>('/staff/tickets/:number/department', actionRoute(actionBody({ department: id }, ['department'])), async (request, reply) =>
    await act(request, reply, async (ticket, actor) =>
      await lifecycle.transferTicket(ticket, actor, { departmentId: parseId(request.body.department) ?? 0 }), 'Ticket transferred.'))

  app.post<{ Params: NumberParams, Body: PriorityBody }>('/staff/tickets/:number/priority', actionRoute(actionBody({ priority: id }, ['priority'])), async (request, reply) =>
    await act(request, reply, async (ticket, actor) =>
      await lifecycle.changePriority(ticket, actor, { priority: parseId(request.body.priority) ?? 0 }), 'Priority changed.'))

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/pending', actionRoute(), async (request, reply) =>
    await act(request, reply, async (ticket, actor) => await lifecycle.setPending(ticket, actor), 'Status changed.'))

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/resolution', actionRoute(), async (request, reply) =>
    await act(request, reply, async (ticket, actor) => await lifecycle.resolveTicket(ticket, actor), 'Status changed.'))

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/closure', actionRoute(), async (request, reply) =>
    await act(request, reply, async (ticket, actor) => await lifecycle.closeTicket(ticket, actor), 'Status changed.'))

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/reopening', actionRoute(), async (request, reply) =>
    await act(request, reply, async (ticket, actor) => await lifecycle.reopenTicket(ticket, actor), 'Status changed.'))

  app.post<{ Params: NumberParams, Body: MergeBody }>('/staff/tickets/:number/merge', actionRoute(actionBody({ target: { type: 'string', maxLength: 14 } }, ['target'])), async (request, reply) => {
    const number = request.validationError ? '' : request.body.target.trim().replace(/^#/, '')
    return await act(request, reply, async (ticket, actor) => {
      const target = await findVisibleTicket(db, request.agent, number)
      if (!target) throw new TesseraError('TESSERA_INVALID_INPUT', `There is no ticket ${number || 'with that number'} you can see.`)
      await lifecycle.mergeTicket(ticket, actor, { target })
    }, `Merged into ticket ${number}.`)
  })

  // A confirmation page rather than a script dialog, so the question is asked in every browser.
  app.get<{ Params: NumberParams }>('/staff/tickets/:number/deletion', async (request, reply) => {
    const ticket = await staffTicket(request)
    if (!allowedActions(request.agent, ticket).has('delete')) throw new TesseraError('TESSERA_FORBIDDEN', 'Your role in this department does not allow that.')
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/delete-confirm', { agent: request.agent, ticket, ticketUrl: ticketUrl(ticket.number), retentionDays: trashRetentionDays })
  })

  app.post<{ Params: NumberParams }>('/staff/tickets/:number/deletion', actionRoute(), async (request, reply) => {
    const ticket = await staffTicket(request)
    try {
      await lifecycle.deleteTicket(ticket, agentActor(request.agent))
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      setFlash(request, reply, err.message)
      return await reply.redirect(ticketUrl(ticket.number), 303)
    }
    setFlash(request, reply, `Ticket ${ticket.number} was moved to the trash. A manager can restore it for ${trashRetentionDays} days.`)
    return await reply.redirect(app.url('/staff/queues/open'), 303)
  })
}
