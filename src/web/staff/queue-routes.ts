import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AgentAccess } from '../../data/agents.js'
import { countQueues, defaultSort, findVisibleTicket, listQueue, noDueCursor, queueNames, sortColumns, type QueueFilters, type QueueName, type QueueQuery, type QueueRow, type SortKey } from '../../data/queues.js'
import type { TicketRow, TicketStatus } from '../../data/tickets.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import { agentActor, statuses } from '../../domain/lifecycle.js'
import { defaultRowsPerPage, rowsPerPageRange } from '../../domain/preferences.js'
import { priorities } from '../format.js'
import { setFlash, shorten, takeFlash } from '../cookies.js'
import { parseId } from '../forms.js'
import { staleWhileRevalidate } from '../ttl-cache.js'
import { assigneesFor, referenceData, type ReferenceData } from './reference-data.js'
import { renderedOnce, wantsFragment } from '../plugins/views.js'
import { sendCsv, ticketCells, ticketColumns } from '../csv.js'
import { queueDueLabel } from '../sla-format.js'

export const queueLabels: Record<QueueName, string> = {
  unassigned: 'Unassigned',
  mine: 'Mine',
  teams: 'My teams',
  overdue: 'Overdue',
  open: 'All open',
  pending: 'Pending',
  resolved: 'Resolved',
  closed: 'Closed'
}

const pageSize = defaultRowsPerPage

/** Rows on one queue page: the agent's choice, within the range the preferences page allows. */
function rowsPerPage (agent: AgentAccess): number {
  const rows = agent.preferences?.rowsPerPage ?? pageSize
  return rows >= rowsPerPageRange.min && rows <= rowsPerPageRange.max ? rows : pageSize
}
const countsTtlMs = 5_000

type QueueParams = Record<string, string | string[] | undefined>

const sortKeys = Object.keys(sortColumns) as SortKey[]

/** The queue a path names; a name like `constructor` is no queue, whatever objects inherit. */
function queueNamed (name: unknown): QueueName | undefined {
  return queueNames.find((queue) => queue === name)
}

/** Reads filters, sort and cursor from the query string; anything malformed is ignored. */
export function parseQueueQuery (queue: QueueName, params: QueueParams): QueueQuery {
  const filters: QueueFilters = {
    department: parseId(params.department),
    topic: parseId(params.topic),
    priority: parseId(params.priority),
    assignee: parseId(params.assignee),
    team: parseId(params.team),
    status: statuses.find((status) => status === params.status)
  }
  const sort = sortKeys.find((key) => key === params.sort) ?? defaultSort(queue)
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
  if (q.sort !== defaultSort(q.queue)) params.set('sort', q.sort)
  if (after) params.set('after', after)
  const search = params.toString()
  return search ? `?${search}` : ''
}

const bulkActions = ['claim', 'assign', 'priority', 'status', 'transfer'] as const
type BulkAction = typeof bulkActions[number]

/** Ticket numbers as the app makes them (6 digits, more after collisions), with room to spare. */
const ticketNumberPattern = '^[0-9]{1,12}$'
const optionalIdPattern = '^([0-9]{1,9})?$'
const maxBulkTickets = 200

const idPattern = '^[0-9]{1,9}$'

/** What the bulk form sends, one shape per action; Fastify checks it against `bulkSchema` first. */
type BulkBody = { tickets: string[], back?: string } & (
  | { action: 'claim' }
  | { action: 'assign', agent?: string, team?: string }
  | { action: 'priority', priority: string }
  | { action: 'status', status: TicketStatus }
  | { action: 'transfer', department: string }
)

/** The action's own field is required: a form without it is refused, never given a default. */
const actionNeeds = (action: BulkAction, field: string, pattern?: string): object => ({
  if: { properties: { action: { const: action } } },
  then: { required: [field], ...(pattern ? { properties: { [field]: { type: 'string', pattern } } } : {}) }
})

// A single ticked box arrives as one string; Fastify's Ajv coerces it to a one-item array.
const bulkSchema = {
  type: 'object',
  required: ['action', 'tickets'],
  properties: {
    _csrf: { type: 'string' },
    back: { type: 'string' },
    action: { type: 'string', enum: bulkActions },
    tickets: { type: 'array', minItems: 1, maxItems: maxBulkTickets, items: { type: 'string', pattern: ticketNumberPattern } },
    agent: { type: 'string', pattern: optionalIdPattern },
    team: { type: 'string', pattern: optionalIdPattern },
    priority: { type: 'string', pattern: optionalIdPattern },
    department: { type: 'string', pattern: optionalIdPattern },
    status: { type: 'string', enum: statuses }
  },
  allOf: [actionNeeds('priority', 'priority', idPattern), actionNeeds('status', 'status'), actionNeeds('transfer', 'department', idPattern)]
}

export default async function queueRoutes (app: FastifyInstance): Promise<void> {
  const { db, lifecycle } = app
  const reference = referenceData(db)
  // Counts are the one part of a queue page that grows with the table (seconds for the
  // closed queue at a million tickets on MySQL): a page shows the last counts while newer
  // ones load, so no page waits for them after the agent's first.
  const counts = staleWhileRevalidate<number, Record<QueueName, number>>(countsTtlMs)
  // The filter form and the bulk actions show the same menus on every page and differ only
  // by the filters chosen: made once per queue and filters while the menus' lists stay the
  // same, they no longer cost each page a tenth of its time.
  const filterForm = renderedOnce<ReferenceData>()
  const bulkActions = renderedOnce<ReferenceData>()
  const queueCounts = async (request: FastifyRequest): Promise<Record<QueueName, number>> =>
    await counts(request.agent.id, async () => await countQueues(db, request.agent, lifecycle.now()))

  // Sign-in lands here: the agent's own queue, else All open.
  app.get('/staff', async (request, reply) =>
    await reply.redirect(app.url(`/staff/queues/${queueNamed(request.agent.preferences?.defaultQueue) ?? 'open'}`), 303))

  app.get<{ Params: { queue: string }, Querystring: QueueParams }>('/staff/queues/:queue', async (request, reply) => {
    const queue = queueNamed(request.params.queue)
    if (queue === undefined) throw notFound('That queue')
    const q = { ...parseQueueQuery(queue, request.query), now: lifecycle.now(), limit: rowsPerPage(request.agent) }
    const clean = app.url(`/staff/queues/${queue}`) + queueSearch(q)
    // A filter form sends every field, chosen or not; the address kept is the clean one.
    if (Object.values(request.query).some((value) => value === '')) {
      if (!wantsFragment(request)) return await reply.redirect(clean, 303)
      reply.header('HX-Push-Url', clean)
    }
    const [rows, counts, lists, saved] = await Promise.all([
      listQueue(db, request.agent, { ...q, limit: q.limit + 1 }),
      queueCounts(request),
      reference(),
      app.savedSearches.list(request.agent)
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
      saved,
      label: queueLabels[queue],
      q,
      rows: page,
      selected,
      basePath: app.url(`/staff/queues/${queue}`),
      search: queueSearch(q),
      nextSearch: hasMore && last ? queueSearch(q, `${String(last[sortColumn] ?? noDueCursor)}_${last.id}`) : null,
      due: (row: QueueRow) => queueDueLabel(row, q.now),
      isFirstPage: q.after === undefined,
      departments: lists.departments,
      topics: lists.topics,
      agents: lists.agents,
      assignees: assigneesFor(lists.assignable, q.filters.department),
      teams: lists.teams,
      priorities,
      statuses,
      filterForm: filterForm(lists, `${queue}${queueSearch(q)}`),
      // Whom tickets may be assigned to depends on the department filter alone.
      bulkActions: bulkActions(lists, String(q.filters.department ?? '')),
      flash: takeFlash(request, reply)
    }, { fragment: { 'queue-results': 'staff/_queue-results', 'queue-rows': 'staff/_queue-rows' } })
  })

  // The whole queue as CSV, with the same filters and order, a thousand rows a statement.
  app.get<{ Params: { queue: string }, Querystring: QueueParams }>('/staff/queues/:queue/export.csv', async (request, reply) => {
    const queue = queueNamed(request.params.queue)
    if (queue === undefined) throw notFound('That queue')
    const q = { ...parseQueueQuery(queue, request.query), after: undefined, limit: 1000 }
    const sortColumn = sortColumns[q.sort]
    async function * pages (): AsyncGenerator<QueueRow[]> {
      let after: QueueQuery['after']
      for (;;) {
        const rows = await listQueue(db, request.agent, { ...q, after })
        if (rows.length > 0) yield rows
        const last = rows.at(-1)
        if (!last || rows.length < q.limit) return
        after = { value: Number(last[sortColumn]), id: last.id }
      }
    }
    return await sendCsv(reply, `${queue}-tickets.csv`, ticketColumns, ticketCells, pages())
  })

  const fallback = app.url('/staff/queues/open')
  const queuesPrefix = app.url('/staff/queues/')

  /**
   * Where the bulk form came from, rebuilt from what it names (a queue, its filters, sort and
   * cursor): anything else, and anything a Location header could not carry, is the open queue.
   */
  function backTo (back: unknown): string {
    if (typeof back !== 'string' || back.length > 2000 || !back.startsWith(queuesPrefix)) return fallback
    const [path = '', search = ''] = back.slice(queuesPrefix.length).split(/\?(.*)/s)
    const queue = queueNamed(path)
    if (queue === undefined) return fallback
    const q = parseQueueQuery(queue, Object.fromEntries(new URLSearchParams(search)))
    return queuesPrefix + queue + queueSearch(q, q.after && `${q.after.value}_${q.after.id}`)
  }

  /** The one domain verb the validated action names, with that action's own fields. */
  function bulkChange (body: BulkBody, agent: AgentAccess): (ticket: TicketRow) => Promise<unknown> {
    const actor = agentActor(agent)
    switch (body.action) {
      case 'claim': return async (ticket) => await lifecycle.claimTicket(ticket, actor)
      case 'assign': return async (ticket) => await lifecycle.assignTicket(ticket, actor, { agentId: parseId(body.agent) ?? null, teamId: parseId(body.team) ?? null })
      case 'priority': return async (ticket) => await lifecycle.changePriority(ticket, actor, { priority: Number(body.priority) })
      case 'status': return async (ticket) => await lifecycle.setStatus(ticket, actor, body.status)
      case 'transfer': return async (ticket) => await lifecycle.transferTicket(ticket, actor, { departmentId: Number(body.department) })
    }
  }

  app.post<{ Body: BulkBody }>('/staff/bulk', {
    schema: { body: bulkSchema },
    attachValidation: true,
    preValidation: app.csrfProtection
  }, async (request, reply) => {
    const back = backTo((request.body as { back?: unknown } | undefined)?.back)
    if (request.validationError) {
      setFlash(request, reply, 'Choose one or more tickets and an action.')
      return await reply.redirect(back, 303)
    }
    const body = request.body
    const numbers = [...new Set(body.tickets)]
    const change = bulkChange(body, request.agent)
    // Refusals grouped by reason, so 200 refused tickets make one sentence, not 200.
    const refusals = new Map<string, string[]>()
    let done = 0
    // Each ticket is its own transaction: one refusal does not undo the others.
    for (const number of numbers) {
      try {
        const ticket = await findVisibleTicket(db, request.agent, number)
        if (!ticket) throw notFound('That ticket')
        await change(ticket)
        done++
      } catch (err) {
        if (!(err instanceof TesseraError)) throw err
        refusals.set(err.message, [...refusals.get(err.message) ?? [], number])
      }
    }
    const reasons = [...refusals].map(([message, refused]) => `${shorten(refused.join(', '), 60)}: ${message}`)
    setFlash(request, reply, [`${done} of ${numbers.length} tickets updated.`, ...reasons].join(' '))
    return await reply.redirect(back, 303)
  })
}
