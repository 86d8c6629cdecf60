import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listActiveHelpTopics, type HelpTopicRow } from '../../data/catalog.js'
import { listRequesterEntries, type TicketView } from '../../data/tickets.js'
import { findTicketForToken, ticketNumberPattern } from '../../domain/access.js'
import { randomToken } from '../../domain/secrets.js'
import { normalizeEmail } from '../../domain/email-address.js'
import { isTesseraError, notFound, TesseraError } from '../../domain/errors.js'
import { mergeCrossesRequesters, mergeDestination } from '../../domain/merge.js'
import { cookieOptions, setFlash, takeFlash } from '../cookies.js'
import { cachedPage, sendCachedPage, slottedPage, type CachedPage, type SlottedPage } from '../cached-page.js'
import { clientPhase } from '../format.js'
import { ratingLabels } from '../../domain/survey.js'
import { attachmentLimitsOf, type DeskSettings } from '../../domain/desk-settings.js'
import { catalogCache } from '../staff/reference-data.js'
import { formRoute, formValues, hasErrors, parseId, readForm, type FieldErrors, type FormSpec, type FormValues } from '../forms.js'
import { keepUploads, uploadError, uploadFormRoute, uploadLimitsShown } from '../uploads.js'
import { findRequesterAttachment, listEntryAttachments } from '../../data/attachments.js'
import { fileParam, sendAttachment } from '../attachment-download.js'

const ticketSpec = {
  topic: { label: 'Help topic', missing: 'Choose a help topic.', invalid: 'Choose one of the help topics listed.', maxLength: 12 },
  name: { label: 'Your name', missing: 'Enter your name.', maxLength: 120 },
  email: { label: 'E-mail address', missing: 'Enter your e-mail address.', invalid: 'Enter an e-mail address like name@example.com.', maxLength: 254 },
  subject: { label: 'Subject', missing: 'Enter a subject.', maxLength: 200 },
  message: { label: 'Message', missing: 'Enter your message.', maxLength: 20000 },
  website: { label: 'This field', missing: '', maxLength: 200, optional: true },
  submission: { label: 'This form', missing: '', maxLength: 64, optional: true }
} satisfies FormSpec

/** The one-time id each new-ticket form carries; anything else is treated as no id. */
const submissionPattern = /^[A-Za-z0-9_-]{22,64}$/
const newSubmissionId = (): string => randomToken(16)

const replySpec = {
  message: { label: 'Your message', missing: 'Enter your message.', maxLength: 20000 }
} satisfies FormSpec

const checkSpec = {
  email: ticketSpec.email,
  number: { label: 'Ticket number', missing: 'Enter your ticket number.', invalid: 'A ticket number is 6 to 12 digits.', maxLength: 12 }
} satisfies FormSpec

export const accessCookie = 'tessera_access'
const refusedMessage = 'We could not accept this request. Please contact us another way.'
const accessCookieDays = 90

export default async function portalRoutes (app: FastifyInstance): Promise<void> {
  const { db, lifecycle } = app
  const ticketPath = (number: string): string => app.url(`/tickets/${number}`)
  // The portal's busiest pages list the help topics; they change rarely, so they are read
  // at most every few seconds instead of on every view.
  const topicsCache = catalogCache<'topics', HelpTopicRow[]>(db, 10_000)
  const helpTopics = async (): Promise<HelpTopicRow[]> => await topicsCache('topics', async () => await listActiveHelpTopics(db))

  function grantAccess (request: FastifyRequest, reply: FastifyReply, number: string, token: string): void {
    // Scoped to the ticket's own path: each ticket keeps its own cookie, sent nowhere else.
    reply.setCookie(accessCookie, token, cookieOptions(request, ticketPath(number), accessCookieDays * 86400))
  }

  const deletedMessage = 'This ticket was deleted. If you still need help, please open a new ticket.'
  const deleted = (): TesseraError => new TesseraError('TESSERA_NOT_FOUND', deletedMessage)

  async function requesterTicket (request: FastifyRequest<{ Params: { number: string } }>): Promise<TicketView> {
    const ticket = await findTicketForToken(db, request.params.number, request.cookies[accessCookie])
    if (!ticket) throw notFound('That ticket')
    if (ticket.deleted_at !== null) throw deleted()
    return ticket
  }

  async function showTicketForm (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    const topics = await helpTopics()
    return await reply.render('portal/new', { topics, values, errors, spec: ticketSpec }, { status })
  }

  async function showTicket (request: FastifyRequest, reply: FastifyReply, ticket: TicketView, form: { values?: FormValues, errors?: FieldErrors, status?: number } = {}): Promise<FastifyReply> {
    const [entries, destination, survey] = await Promise.all([
      listRequesterEntries(db, ticket),
      ticket.merged_into_id === null ? undefined : mergeDestination(db, ticket),
      ticket.status === 'closed' ? app.surveys.findForTicket(ticket.id) : undefined
    ])
    const attachments = await listEntryAttachments(db, entries.map((e) => e.id))
    // Into their own other ticket, they may be told which; someone else's is not named.
    const merged = destination === undefined ? null : mergeCrossesRequesters(ticket, destination) ? { into: null } : { into: destination.number }
    return await reply.render('portal/ticket', {
      ticket,
      entries,
      attachments,
      merged,
      survey,
      ratingLabels,
      phase: clientPhase(ticket),
      canReopen: await lifecycle.replyReopens(ticket),
      pageUrl: app.absoluteUrl(`/tickets/${ticket.number}`),
      flash: takeFlash(request, reply),
      values: form.values ?? { message: '' },
      errors: form.errors ?? {},
      spec: replySpec
    }, { status: form.status, fragment: 'portal/_ticket' })
  }

  // The home page is the same for every visitor, so it is rendered once per topics refresh
  // or settings change and served as a string: the front door stays nearly as cheap as a
  // static file. Both lists come back as the same objects until they change.
  let home: { topics: HelpTopicRow[], desk: DeskSettings, page: Promise<CachedPage> } | undefined
  app.get('/', async (request, reply) => {
    const [topics, desk] = await Promise.all([helpTopics(), app.deskSettings.current()])
    if (home?.topics !== topics || home.desk !== desk) {
      const page = app.view('portal/home', { topics, desk, productName: desk.name, csrfToken: () => '' }).then(cachedPage)
      home = { topics, desk, page }
      page.catch(() => { if (home?.page === page) home = undefined })
    }
    return await sendCachedPage(request, reply, await home.page)
  })

  // The empty form is the same for every visitor but for two values, the CSRF token and the
  // one-time submission id: it is rendered once per topic list and preselected topic, and
  // only those two are filled in per request.
  const blankForms = new WeakMap<HelpTopicRow[], WeakMap<DeskSettings, Map<string, SlottedPage>>>()
  const tokenSlot = `csrf-${randomBytes(12).toString('hex')}`
  const submissionSlot = `submission-${randomBytes(12).toString('hex')}`

  async function blankForm (topic: string): Promise<SlottedPage | undefined> {
    const [topics, desk] = await Promise.all([helpTopics(), app.deskSettings.current()])
    if (topic !== '' && !topics.some((t) => String(t.id) === topic)) return undefined
    let byDesk = blankForms.get(topics)
    if (!byDesk) blankForms.set(topics, byDesk = new WeakMap())
    let forms = byDesk.get(desk)
    if (!forms) byDesk.set(desk, forms = new Map())
    let form = forms.get(topic)
    if (form === undefined) {
      const values = { ...Object.fromEntries(Object.keys(ticketSpec).map((name) => [name, ''])), topic, submission: submissionSlot }
      const uploadLimits = uploadLimitsShown(attachmentLimitsOf(desk, app.deskSettings.ceilings))
      const html = await app.view('portal/new', { topics, values, errors: {}, spec: ticketSpec, desk, productName: desk.name, uploadLimits, csrfToken: () => tokenSlot })
      form = slottedPage(html, [tokenSlot, submissionSlot])
      forms.set(topic, form)
    }
    return form
  }

  app.get<{ Querystring: { topic?: string } }>('/tickets/new', async (request, reply) => {
    const topic = typeof request.query.topic === 'string' ? request.query.topic : ''
    const blank = await blankForm(topic)
    if (blank === undefined) return await showTicketForm(request, reply, { ...formValues(request, ticketSpec), topic, submission: newSubmissionId() }, {})
    reply.header('Vary', 'HX-Request').type('text/html; charset=utf-8')
    return await reply.send(blank.fill({ [tokenSlot]: reply.generateCsrf(), [submissionSlot]: newSubmissionId() }))
  })

  app.post('/tickets', uploadFormRoute(app, ticketSpec, {
    formats: { email: 'email' },
    rateLimit: { max: async () => (await app.deskSettings.current()).ticketsPerHour, timeWindow: '1 hour' },
    getGoesTo: '/tickets/new',
    show: showTicketForm
  }), async (request, reply) => {
    const { values, errors } = readForm(request, ticketSpec)
    if (!errors.topic && parseId(values.topic) === undefined) errors.topic = ticketSpec.topic.invalid
    if (values.website !== '') errors.website = 'Leave this field empty.'
    const refused = uploadError(request)
    if (refused !== undefined) errors.files = refused
    if (hasErrors(errors)) return await showTicketForm(request, reply, values, errors, 422)
    // Neutral on purpose: a blocked sender learns nothing about why.
    if (await app.blockedSenders.isBlocked(values.email)) return await showTicketForm(request, reply, values, { _form: refusedMessage }, 422)

    const opened = await lifecycle.openTicket({
      name: values.name.trim(),
      email: normalizeEmail(values.email),
      subject: values.subject.trim(),
      message: values.message,
      helpTopicId: parseId(values.topic)!,
      submissionId: submissionPattern.test(values.submission) ? values.submission : undefined,
      fromPortal: true,
      files: await keepUploads(request)
    }).catch((err: unknown) => {
      if (isTesseraError(err, 'TESSERA_INVALID_INPUT')) return null
      throw err
    })
    if (!opened) return await showTicketForm(request, reply, values, { topic: ticketSpec.topic.invalid }, 422)

    const { number } = opened.ticket
    grantAccess(request, reply, number, opened.accessToken)
    reply.setCookie('tessera_new_link', opened.accessToken,
      { ...cookieOptions(request, `${ticketPath(number)}/created`, 600), signed: true })
    return reply.redirect(`${ticketPath(number)}/created`, 303)
  })

  app.get<{ Params: { number: string } }>('/tickets/:number/created', async (request, reply) => {
    const ticket = await requesterTicket(request)
    const raw = request.cookies.tessera_new_link
    let privateLink: string | undefined
    if (raw !== undefined) {
      const { valid, value } = reply.unsignCookie(raw)
      if (valid && value) privateLink = app.absoluteUrl(`/tickets/${ticket.number}/access/${value}`)
      // Shown once: the token is not kept anywhere it could be shown again.
      reply.clearCookie('tessera_new_link', { path: `${ticketPath(ticket.number)}/created` })
    }
    reply.header('Cache-Control', 'no-store')
    return await reply.render('portal/created', { ticket, privateLink })
  })

  app.get<{ Params: { number: string, token: string } }>('/tickets/:number/access/:token', async (request, reply) => {
    const { number, token } = request.params
    const ticket = await findTicketForToken(db, number, token)
    if (ticket?.deleted_at != null) {
      return await reply.render('error', { status: 410, message: deletedMessage }, { status: 410 })
    }
    if (!ticket) {
      return await reply.render('error', {
        status: 404,
        message: 'This link is not valid. Use “Check a ticket” to have a new link sent to you.'
      }, { status: 404 })
    }
    grantAccess(request, reply, number, token)
    // The token leaves the address bar at once, so it stays out of history and bookmarks.
    return reply.redirect(ticketPath(number), 303)
  })

  app.get<{ Params: { number: string } }>('/tickets/:number', async (request, reply) => {
    reply.header('Cache-Control', 'private, no-cache')
    return await showTicket(request, reply, await requesterTicket(request))
  })

  app.post<{ Params: { number: string } }>('/tickets/:number/replies', uploadFormRoute(app, replySpec, {
    show: async (request, reply, values, errors, status) =>
      await showTicket(request, reply, await requesterTicket(request as FastifyRequest<{ Params: { number: string } }>), { values, errors, status })
  }), async (request, reply) => {
    const ticket = await requesterTicket(request)
    const { values, errors } = readForm(request, replySpec)
    const refused = uploadError(request)
    if (refused !== undefined) errors.files = refused
    if (hasErrors(errors)) return await showTicket(request, reply, ticket, { values, errors, status: 422 })

    const result = await lifecycle.addClientReply(ticket, { kind: 'requester', requesterId: ticket.requester_id }, { body: values.message, files: await keepUploads(request) })
    if (result.followUp) {
      grantAccess(request, reply, result.number, result.followUp.accessToken)
      setFlash(request, reply, `Ticket ${ticket.number} was closed, so we opened ticket ${result.number} for your message.`)
      return reply.redirect(ticketPath(result.number), 303)
    }
    setFlash(request, reply, 'Your reply has been sent.')
    return reply.redirect(ticketPath(ticket.number), 303)
  })

  // The access cookie's path covers the ticket's files: only that ticket's requester gets them.
  app.get<{ Params: { number: string, file: string } }>('/tickets/:number/files/:file', async (request, reply) => {
    const id = fileParam(request)
    return await sendAttachment(request, reply, await findRequesterAttachment(db, await requesterTicket(request), id), false)
  })

  app.get<{ Params: { number: string, file: string } }>('/tickets/:number/files/:file/image', async (request, reply) => {
    const id = fileParam(request)
    return await sendAttachment(request, reply, await findRequesterAttachment(db, await requesterTicket(request), id), true)
  })

  app.post<{ Params: { number: string } }>('/tickets/:number/closure', {
    preValidation: app.csrfProtection
  }, async (request, reply) => {
    const ticket = await requesterTicket(request)
    await lifecycle.confirmSolved(ticket, { kind: 'requester', requesterId: ticket.requester_id })
    setFlash(request, reply, 'Thank you. The ticket is now closed.')
    return reply.redirect(ticketPath(ticket.number), 303)
  })

  async function showCheckForm (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status = 200, sent = false): Promise<FastifyReply> {
    return await reply.render('portal/check', { values, errors, spec: checkSpec, sent }, { status })
  }

  app.get<{ Querystring: { sent?: string } }>('/check', async (request, reply) => {
    return await showCheckForm(request, reply, { email: '', number: '' }, {}, 200, request.query.sent === '1')
  })

  app.post('/check', formRoute(app, checkSpec, {
    formats: { email: 'email' },
    rateLimit: { max: 5, timeWindow: '15 minutes' },
    show: showCheckForm
  }), async (request, reply) => {
    const { values, errors } = readForm(request, checkSpec)
    const number = values.number.trim().replace(/^#/, '')
    if (!errors.number && !ticketNumberPattern.test(number)) errors.number = checkSpec.number.invalid
    if (hasErrors(errors)) return await showCheckForm(request, reply, values, errors, 422)
    await lifecycle.sendAccessLink(normalizeEmail(values.email), number)
    return reply.redirect(app.url('/check?sent=1'), 303)
  })
}
