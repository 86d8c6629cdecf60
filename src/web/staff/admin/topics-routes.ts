import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listHelpTopicSummaries, type HelpTopicRow } from '../../../data/catalog.js'
import { createCatalogAdmin, type HelpTopicInput } from '../../../domain/admin/catalog.js'
import { notFound } from '../../../domain/errors.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { priorities, priorityLabel } from '../../format.js'
import { formRoute, hasErrors, idParam, readForm, type FieldErrors, type FormSpec, type FormValues } from '../../forms.js'
import { forgetReferenceData, referenceData } from '../reference-data.js'
import { attempt, optionalId, requiredId, type Refusal } from './catalog-forms.js'

export const topicSpec = {
  name: { label: 'Name', missing: 'Enter a name for the help topic.', maxLength: 120 },
  visibility: { label: 'Shown', missing: 'Choose where the topic is shown.', maxLength: 10 },
  sortOrder: { label: 'Order', missing: 'Enter a number for the order, like 10.', maxLength: 8 },
  department: { label: 'Department', missing: 'Choose the department its tickets go to.', maxLength: 12 },
  priority: { label: 'Default priority', missing: '', maxLength: 2, optional: true },
  team: { label: 'Default team', missing: '', maxLength: 12, optional: true },
  agent: { label: 'Default agent', missing: '', maxLength: 12, optional: true }
} satisfies FormSpec

type TopicForm = Record<keyof typeof topicSpec, string>

const visibilities = [{ value: 'public', label: 'On the portal' }, { value: 'internal', label: 'Internal only (staff and mail)' }]

function valuesOf (topic: HelpTopicRow): TopicForm {
  const id = (value: number | null): string => value === null ? '' : String(value)
  return {
    name: topic.name,
    visibility: topic.public ? 'public' : 'internal',
    sortOrder: String(topic.sort_order),
    department: String(topic.department_id),
    priority: id(topic.default_priority),
    team: id(topic.default_team_id),
    agent: id(topic.default_agent_id)
  }
}

/** What the form says, as the verb takes it; the verb refuses what the form could not know. */
function inputOf (values: TopicForm, errors: FieldErrors): { input: HelpTopicInput } | Refusal {
  if (hasErrors(errors)) return { errors, status: 422 }
  if (values.visibility !== 'public' && values.visibility !== 'internal') return { errors: { visibility: 'Choose where the topic is shown.' }, status: 422 }
  const sortOrder = values.sortOrder.trim()
  if (!/^-?[0-9]{1,7}$/.test(sortOrder)) return { errors: { sortOrder: 'The order is a whole number, like 10.' }, status: 422 }
  return {
    input: {
      name: values.name,
      public: values.visibility === 'public',
      sortOrder: Number(sortOrder),
      departmentId: requiredId(values.department),
      defaultPriority: values.priority === '' ? null : Number(values.priority),
      defaultTeamId: optionalId(values.team),
      defaultAgentId: optionalId(values.agent)
    }
  }
}

/** Help topics: what the portal offers, where each kind of ticket goes and who works it first. */
export default async function topicsRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const catalog = createCatalogAdmin(db, { now: app.lifecycle.now })
  const pageUrl = (id: number): string => app.url(`/staff/admin/topics/${id}`)
  const blank: TopicForm = { name: '', visibility: 'public', sortOrder: '0', department: '', priority: '', team: '', agent: '' }

  async function choices (keepDepartment?: number): Promise<Record<string, unknown>> {
    const { departments, agents, teams } = await referenceData(db)()
    return {
      departments: departments.filter((d) => !d.archived || d.id === keepDepartment).map((d) => ({ value: d.id, label: d.name })),
      teams: teams.map((t) => ({ value: t.id, label: t.name })),
      agents: agents.map((a) => ({ value: a.id, label: a.name })),
      priorities,
      visibilities
    }
  }

  async function showList (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/topics', {
      agent: request.agent,
      topics: await listHelpTopicSummaries(db),
      priorityLabel,
      values,
      errors,
      spec: topicSpec,
      ...await choices(),
      flash: takeFlash(request, reply)
    }, { status })
  }

  async function showTopic (request: FastifyRequest, reply: FastifyReply, values?: FormValues, errors: FieldErrors = {}, status = 200): Promise<FastifyReply> {
    const id = idParam(request, 'That help topic')
    const topic = (await listHelpTopicSummaries(db)).find((t) => t.id === id)
    if (!topic) throw notFound('That help topic')
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/topic', {
      agent: request.agent,
      topic,
      values: values ?? valuesOf(topic),
      errors,
      spec: topicSpec,
      ...await choices(topic.department_id),
      portalUrl: app.url(`/tickets/new?topic=${id}`),
      flash: takeFlash(request, reply)
    }, { status })
  }

  async function done (request: FastifyRequest, reply: FastifyReply, to: string, message: string): Promise<FastifyReply> {
    forgetReferenceData(db)
    setFlash(request, reply, message)
    return await reply.redirect(to, 303)
  }

  app.get('/staff/admin/topics', async (request, reply) => await showList(request, reply, blank, {}))

  app.post('/staff/admin/topics', formRoute(app, topicSpec, { show: showList }), async (request, reply) => {
    const { values, errors } = readForm(request, topicSpec)
    const read = inputOf(values, errors)
    let id = 0
    const refusal = 'input' in read ? await attempt(async () => { id = await catalog.createHelpTopic(request.agent, read.input) }) : read
    if (refusal) return await showList(request, reply, values, refusal.errors, refusal.status)
    return await done(request, reply, pageUrl(id), `Help topic ${values.name.trim()} created.`)
  })

  app.get<{ Params: { id: string } }>('/staff/admin/topics/:id', async (request, reply) => await showTopic(request, reply))

  app.post<{ Params: { id: string } }>('/staff/admin/topics/:id', formRoute(app, topicSpec, { show: showTopic }), async (request, reply) => {
    const id = idParam(request, 'That help topic')
    const { values, errors } = readForm(request, topicSpec)
    const read = inputOf(values, errors)
    const refusal = 'input' in read ? await attempt(async () => { await catalog.changeHelpTopic(request.agent, id, read.input) }) : read
    if (refusal) return await showTopic(request, reply, values, refusal.errors, refusal.status)
    return await done(request, reply, pageUrl(id), 'Help topic saved.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/topics/:id/retirement', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = idParam(request, 'That help topic')
    await catalog.setHelpTopicActive(request.agent, id, false)
    return await done(request, reply, pageUrl(id), 'Help topic retired: it is no longer offered; tickets filed under it keep it.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/topics/:id/reinstatement', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = idParam(request, 'That help topic')
    const refusal = await attempt(async () => { await catalog.setHelpTopicActive(request.agent, id, true) })
    if (refusal) return await showTopic(request, reply, undefined, refusal.errors, refusal.status)
    return await done(request, reply, pageUrl(id), 'Help topic offered again.')
  })
}
