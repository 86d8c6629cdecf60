import type { FastifyInstance, FastifyRequest } from 'fastify'
import { countQueues, findVisibleTicket, listQueue, queueNames, sortColumns, type QueueFilters, type QueueName, type QueueQuery, type SortKey } from '../../data/queues.js'
import type { TicketStatus } from '../../data/tickets.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import { agentActor, statuses } from '../../domain/lifecycle.js'
import { priorities } from '../format.js'
import { setFlash, takeFlash } from '../cookies.js'
import { parseId } from '../forms.js'
import { ttlCache } from '../ttl-cache.js'
import { referenceData } from './reference-data.js'

export const queueLabels: Record<QueueName, string> = {
  unassigned: 'Unassigned',
  mine: 'Mine',
  teams: 'My teams',
  open: 'All open',
  pending: 'Pending',
  resolved: 'Resolved',
  closed: 'Closed'
}

const pageSize = 50
const countsTtlMs = 5_000

type QueueParams = Record<string, string | string[] | undefined>

/** Reads filters, sort and cursor from the query string; anything malformed is ignored. */
export function parseQueueQuery (queue: QueueName, params: QueueParams): QueueQuery {
  const filters: QueueFilters = {
    department: parseId(params.department),
    topic: parseId(params.topic),
    priority: parseId(params.priority),
    assignee: parseId(params.assignee),
    status: statuses.includes(params.status as TicketStatus) ? params.status as TicketStatus : undefined
  }
  const sort: SortKey = typeof params.sort === 'string' && params.sort in sortColumns ? params.sort as SortKey : 'activity'
  const cursor = typeof params.after === 'string' ? /^(-?[0-9]{1,15})_([0-9]{1,12})$/.exec(params.after) : null
  return {
    queue,
    filters,
    sort,
    after: cursor ? { value: Number(cursor[1]), id: Number(cursor[2]) } : undefined,
    limit: pageSize
  }
}

/** The query string for a queue view, without empty values, so every view is a clean bookmark. */
export function queueSearch (q: QueueQuery, after?: string): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(q.filters)) if (value !== undefined) params.set(key, String(value))
  if (q.sort !== 'activity') params.set('sort', q.sort)
  if (after) params.set('after', after)
  const search = params.toString()
  return search ? `?${search}` : ''
}

const bulkActions = ['claim', 'assign', 'priority', 'status', 'transfer'] as const

export default async function queueRoutes (app: FastifyInstance): Promise<void> {
  const { db, lifecycle } = app
  const reference = referenceData(db)
  // Counts are the one part of a queue page that grows with the table; a few seconds of
  // staleness keeps them cheap.
  const counts = ttlCache<number, Record<QueueName, number>>(countsTtlMs)
  const queueCounts = async (request: FastifyRequest): Promise<Record<QueueName, number>> =>
    await counts(request.agent.id, async () => await countQueues(db, request.agent))

  app.get('/staff', async (request, reply) => await reply.redirect(app.url('/staff/queues/open'), 303))

  app.get<{ Params: { queue: string }, Querystring: QueueParams }>('/staff/queues/:queue', async (request, reply) => {
    const queue = request.params.queue as QueueName
    if (!queueNames.includes(queue)) throw notFound('That queue')
    const q = parseQueueQuery(queue, request.query)
    const [rows, counts, { departments, topics, agents, teams }] = await Promise.all([
      listQueue(db, request.agent, { ...q, limit: q.limit + 1 }),
      queueCounts(request),
      reference()
    ])
    const hasMore = rows.length > q.limit
    const page = rows.slice(0, q.limit)
    const last = page[page.length - 1]
    const sortColumn = sortColumns[q.sort]
    const selected = new Set([request.query.tickets ?? []].flat())
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/queue', {
      agent: request.agent,
      queue,
      queues: queueNames.map((name) => ({ name, label: queueLabels[name], count: counts[name] })),
      label: queueLabels[queue],
      q,
      rows: page,
      selected,
      basePath: app.url(`/staff/queues/${queue}`),
      search: queueSearch(q),
      nextSearch: hasMore && last ? queueSearch(q, `${String(last[sortColumn])}_${last.id}`) : null,
      isFirstPage: q.after === undefined,
      departments,
      topics,
      agents,
      teams,
      priorities,
      statuses,
      flash: takeFlash(request, reply)
    }, { fragment: { 'queue-results': 'staff/_queue-results' } })
  })

  app.post<{ Body: Record<string, string | string[] | undefined> }>('/staff/bulk', {
    preValidation: app.csrfProtection
  }, async (request, reply) => {
    const body = request.body ?? {}
    const numbers = [body.tickets ?? []].flat().filter((n): n is string => typeof n === 'string').slice(0, 200)
    const action = String(body.action ?? '') as typeof bulkActions[number]
    const back = typeof body.back === 'string' && body.back.startsWith(app.url('/staff/queues/')) ? body.back : app.url('/staff/queues/open')
    if (numbers.length === 0 || !bulkActions.includes(action)) {
      setFlash(request, reply, 'Choose one or more tickets and an action.')
      return await reply.redirect(back, 303)
    }
    const actor = agentActor(request.agent)
    const refusals: string[] = []
    let done = 0
    // Each ticket is its own transaction: one refusal does not undo the others.
    for (const number of numbers) {
      try {
        const ticket = await findVisibleTicket(db, request.agent, number)
        if (!ticket) throw notFound('That ticket')
        if (action === 'claim') await lifecycle.claimTicket(ticket, actor)
        else if (action === 'assign') await lifecycle.assignTicket(ticket, actor, { agentId: parseId(body.agent) ?? null, teamId: parseId(body.team) ?? null })
        else if (action === 'priority') await lifecycle.changePriority(ticket, actor, { priority: parseId(body.priority) ?? 0 })
        else if (action === 'transfer') await lifecycle.transferTicket(ticket, actor, { departmentId: parseId(body.department) ?? 0 })
        else await lifecycle.setStatus(ticket, actor, String(body.status ?? '') as TicketStatus)
        done++
      } catch (err) {
        if (!(err instanceof TesseraError)) throw err
        refusals.push(`${number}: ${err.message}`)
      }
    }
    setFlash(request, reply, [`${done} of ${numbers.length} tickets updated.`, ...refusals].join(' '))
    return await reply.redirect(back, 303)
  })
}
