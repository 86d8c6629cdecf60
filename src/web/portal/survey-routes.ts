import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findTicketById, type TicketRow } from '../../data/tickets.js'
import { findTicketForToken } from '../../domain/access.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import {
  isRating, parseRating, ratingLabels, surveyChangeable, surveyChangeDays, surveyChangeMs, surveyCommentLimit, surveyRatings, type SurveyRow
} from '../../domain/survey.js'
import { setFlash, takeFlash } from '../cookies.js'
import { httpStatusOf } from '../plugins/errors.js'
import { formRoute, hasErrors, readForm, type FieldErrors, type FormSpec, type FormValues } from '../forms.js'
import { accessCookie } from './routes.js'

const surveySpec = {
  rating: { label: 'Your answer', missing: 'Send your answer with one of the buttons: Great, Okay or Not good.', invalid: 'Send your answer with one of the buttons: Great, Okay or Not good.', maxLength: 12 },
  // Browsers send a textarea's line breaks as two characters; the comment counts one.
  comment: { label: 'Your comment', missing: '', maxLength: surveyCommentLimit * 2, optional: true }
} satisfies FormSpec

/** The survey and its ticket, found by a mailed survey link or by the ticket's private-link cookie. */
interface Found { survey: SurveyRow, ticket: TicketRow, base: string }

type TokenRequest = FastifyRequest<{ Params: { token: string } }>
type NumberRequest = FastifyRequest<{ Params: { number: string } }>

/**
 * The follow-up survey: one page, reached from the link in the mail (`/survey/TOKEN`, no
 * sign-in) or from the client's ticket page (`/tickets/N/survey`, by its private-link
 * cookie). A GET only shows the page, with the answer from `?rating=` pointed out: mail
 * scanners follow links, so only the page's POST records an answer. Each answer is its own
 * submit button, nothing preselected: a text browser shows the first radio button of an
 * unchecked group as chosen, and a form that always carries a rating records one nobody chose.
 */
export default async function surveyRoutes (app: FastifyInstance): Promise<void> {
  const { db, surveys, lifecycle } = app

  async function ticketOf (survey: SurveyRow | undefined): Promise<TicketRow> {
    const ticket = survey === undefined ? undefined : await findTicketById(db, survey.ticket_id)
    if (!ticket || !survey || survey.invited_at === null) throw notFound('That survey')
    if (ticket.deleted_at !== null) throw new TesseraError('TESSERA_NOT_FOUND', 'This ticket was deleted, so there is nothing to rate.')
    return ticket
  }

  async function byToken (request: TokenRequest): Promise<Found> {
    const survey = await surveys.findByToken(request.params.token)
    return { survey: survey!, ticket: await ticketOf(survey), base: app.url(`/survey/${request.params.token}`) }
  }

  async function byCookie (request: NumberRequest): Promise<Found> {
    const ticket = await findTicketForToken(db, request.params.number, request.cookies[accessCookie])
    if (!ticket) throw notFound('That ticket')
    const survey = await surveys.findForTicket(ticket.id)
    return { survey: survey!, ticket: await ticketOf(survey), base: app.url(`/tickets/${ticket.number}/survey`) }
  }

  async function showSurvey (request: FastifyRequest, reply: FastifyReply, found: Found, form: { values?: FormValues, errors?: FieldErrors, status?: number } = {}): Promise<FastifyReply> {
    const { survey, ticket, base } = found
    const chosen = (request.query as { rating?: unknown } | undefined)?.rating
    const values = form.values ?? { rating: '', comment: survey.comment ?? '' }
    const picked = isRating(chosen) ? chosen : isRating(values.rating) ? values.rating : undefined
    // The token is in this page's address: it must not leave in a Referer header.
    reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer')
    return await reply.render('portal/survey', {
      survey,
      ticket,
      base,
      ratings: surveyRatings.map((value) => ({ value, label: ratingLabels[value] })),
      picked: picked === undefined ? undefined : { value: picked, label: ratingLabels[picked] },
      ratingLabel: survey.rating === null ? null : ratingLabels[survey.rating],
      changeable: surveyChangeable(survey, surveys.now()),
      changeUntil: survey.rated_at === null ? null : survey.rated_at + surveyChangeMs,
      changeDays: surveyChangeDays,
      canReopen: survey.rating === 'not_good' && ticket.status === 'closed' && ticket.merged_into_id === null,
      flash: takeFlash(request, reply),
      values,
      errors: form.errors ?? {},
      spec: surveySpec
    }, { status: form.status })
  }

  /** Records the answer the page posted; a refusal (window passed) is shown on the page again. */
  async function rate (request: FastifyRequest, reply: FastifyReply, found: Found): Promise<FastifyReply> {
    const { values, errors } = readForm(request, surveySpec)
    if (!errors.rating && !isRating(values.rating)) errors.rating = surveySpec.rating.invalid
    const parsed = parseRating(values)
    if (!errors.comment && parsed.errors.comment) errors.comment = parsed.errors.comment
    if (hasErrors(errors)) return await showSurvey(request, reply, found, { values, errors, status: 422 })
    try {
      const { changed } = await surveys.rate(found.survey, found.ticket, values)
      setFlash(request, reply, changed
        ? (parsed.rating === 'not_good' ? 'Thank you for telling us. The people who worked on your ticket have been told.' : 'Thank you for your answer.')
        : 'That was your answer already; nothing changed.')
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      return await showSurvey(request, reply, found, { values, errors: { rating: err.message }, status: httpStatusOf(err) })
    }
    return reply.redirect(found.base, 303)
  }

  async function reopen (request: FastifyRequest, reply: FastifyReply, found: Found): Promise<FastifyReply> {
    try {
      await lifecycle.clientReopen(found.ticket, { kind: 'requester', requesterId: found.ticket.requester_id })
      setFlash(request, reply, `Ticket ${found.ticket.number} is open again; someone will look at it.`)
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      setFlash(request, reply, err.message)
    }
    return reply.redirect(found.base, 303)
  }

  app.get<{ Params: { token: string }, Querystring: { rating?: string } }>('/survey/:token', async (request, reply) =>
    await showSurvey(request, reply, await byToken(request)))

  app.post<{ Params: { token: string } }>('/survey/:token', formRoute(app, surveySpec, {
    show: async (request, reply, values, errors, status) => await showSurvey(request, reply, await byToken(request as TokenRequest), { values, errors, status })
  }), async (request, reply) => await rate(request, reply, await byToken(request)))

  app.post<{ Params: { token: string } }>('/survey/:token/reopening', { preValidation: app.csrfProtection }, async (request, reply) =>
    await reopen(request, reply, await byToken(request)))

  app.get<{ Params: { number: string }, Querystring: { rating?: string } }>('/tickets/:number/survey', async (request, reply) =>
    await showSurvey(request, reply, await byCookie(request)))

  app.post<{ Params: { number: string } }>('/tickets/:number/survey', formRoute(app, surveySpec, {
    show: async (request, reply, values, errors, status) => await showSurvey(request, reply, await byCookie(request as NumberRequest), { values, errors, status })
  }), async (request, reply) => await rate(request, reply, await byCookie(request)))

  app.post<{ Params: { number: string } }>('/tickets/:number/survey/reopening', { preValidation: app.csrfProtection }, async (request, reply) =>
    await reopen(request, reply, await byCookie(request)))
}
