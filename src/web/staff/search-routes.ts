import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { entriesOfTickets, searchTickets, type SearchQuery, type SearchRow } from '../../data/search.js'
import { highlightTokens, parseSearchParams, type SearchParams } from '../../domain/search-query.js'
import { notFound } from '../../domain/errors.js'
import { statuses } from '../../domain/lifecycle.js'
import { setFlash, takeFlash } from '../cookies.js'
import { formRoute, hasErrors, idParam, readForm, type FieldErrors, type FormSpec } from '../forms.js'
import { priorities } from '../format.js'
import { bestPassages, snippet } from '../search-snippet.js'
import { sendCsv, ticketCells, ticketColumns } from '../csv.js'
import { wantsFragment } from '../plugins/views.js'
import { assigneesFor, referenceData } from './reference-data.js'

const pageSize = 25
export const saveSpec = {
  name: { label: 'Name of the saved search', missing: 'Enter a name for this search.', maxLength: 80 },
  query: { label: 'Search', missing: 'Search for something before saving it.', maxLength: 1000 }
} satisfies FormSpec

/** Search across every ticket the agent may open, with the queue filters, and saved searches. */
export default async function searchRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const reference = referenceData(db)

  async function showSearch (request: FastifyRequest<{ Querystring: SearchParams }>, reply: FastifyReply, save?: { values: Record<string, string>, errors: FieldErrors, status: number }): Promise<FastifyReply> {
    const { words, query, errors, clean } = parseSearchParams(request.query)
    const basePath = app.url('/staff/search')
    const cleanSearch = clean.toString()
    // A form sends every field, chosen or not; the address kept is the clean one.
    if (!save && Object.values(request.query).some((value) => value === '') && !hasErrors(errors)) {
      const target = basePath + (cleanSearch ? `?${cleanSearch}` : '')
      if (!wantsFragment(request)) return await reply.redirect(target, 303)
      reply.header('HX-Push-Url', target)
    }
    const searched = !hasErrors(errors) && (query.search.terms.length > 0 || query.search.number !== null)
    const [rows, { departments, topics, agents, assignable, teams }, saved] = await Promise.all([
      searched ? searchTickets(db, request.agent, { ...query, limit: pageSize + 1 }) : Promise.resolve([]),
      reference(),
      app.savedSearches.list(request.agent)
    ])
    const page = rows.slice(0, pageSize)
    const tokens = highlightTokens(query.search)
    const sources = bestPassages(await entriesOfTickets(db, page.map((row) => row.id)), tokens)
    const results = page.map((row) => {
      const source = sources.get(row.id)
      return { ...row, subjectParts: snippet(row.subject, tokens, 200), quote: source ? { kind: source.kind, parts: snippet(source.body, tokens) } : null }
    })
    const last = page.at(-1)
    const next = new URLSearchParams(clean)
    if (last) next.set('after', `${last.score}_${last.last_activity_at}_${last.id}`)
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/search', {
      agent: request.agent,
      words,
      params: Object.fromEntries(clean),
      searched,
      errors,
      results,
      basePath,
      search: cleanSearch ? `?${cleanSearch}` : '',
      nextSearch: rows.length > pageSize ? `?${next.toString()}` : null,
      isFirstPage: query.after === undefined,
      departments,
      topics,
      agents,
      assignees: assigneesFor(assignable, query.filters.department),
      teams,
      priorities,
      statuses,
      saved,
      save: save ?? { values: { name: '', query: cleanSearch }, errors: {} },
      saveSpec,
      flash: takeFlash(request, reply)
    }, { status: save?.status ?? (hasErrors(errors) ? 422 : undefined), fragment: { 'search-results': 'staff/_search-results' } })
  }

  app.get<{ Querystring: SearchParams }>('/staff/search', async (request, reply) => await showSearch(request, reply))

  // Every result as CSV, best match first, five hundred a statement.
  app.get<{ Querystring: SearchParams }>('/staff/search/export.csv', async (request, reply) => {
    const { query, errors } = parseSearchParams(request.query)
    if (hasErrors(errors)) return await showSearch(request, reply)
    async function * pages (): AsyncGenerator<SearchRow[]> {
      let after: SearchQuery['after']
      for (;;) {
        const rows = await searchTickets(db, request.agent, { ...query, after, limit: 500 })
        if (rows.length > 0) yield rows
        const last = rows.at(-1)
        if (!last || rows.length < 500) return
        after = { score: last.score, activity: last.last_activity_at, id: last.id }
      }
    }
    return await sendCsv(reply, 'search-results.csv', ticketColumns, ticketCells, pages())
  })

  /** The page shows the search being saved while the name is put right. */
  async function showSaveForm (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status: number): Promise<FastifyReply> {
    const shown = request as FastifyRequest<{ Querystring: SearchParams }>
    shown.query = Object.fromEntries(new URLSearchParams(values.query?.slice(0, 1000) ?? ''))
    return await showSearch(shown, reply, { values, errors, status })
  }

  app.post('/staff/search/saved', formRoute(app, saveSpec, {
    getGoesTo: '/staff/search',
    show: showSaveForm
  }), async (request, reply) => {
    const { values, errors } = readForm(request, saveSpec)
    if (hasErrors(errors)) return await showSaveForm(request, reply, values, errors, 422)
    const { clean, query } = parseSearchParams(Object.fromEntries(new URLSearchParams(values.query)))
    if (query.search.terms.length === 0 && query.search.number === null) return await showSaveForm(request, reply, values, { query: saveSpec.query.missing }, 422)
    await app.savedSearches.save(request.agent, { name: values.name, query: clean.toString() })
    setFlash(request, reply, `Saved "${values.name.trim()}". It is listed with your queues.`)
    return await reply.redirect(app.url(`/staff/search?${clean.toString()}`), 303)
  })

  app.post<{ Params: { id: string } }>('/staff/search/saved/:id/delete', { preValidation: app.csrfProtection, config: { getGoesTo: '/staff/search' } }, async (request, reply) => {
    const id = idParam(request, 'That saved search')
    if (!await app.savedSearches.remove(request.agent, id)) throw notFound('That saved search')
    setFlash(request, reply, 'The saved search was removed.')
    return await reply.redirect(app.url('/staff/search'), 303)
  })
}
