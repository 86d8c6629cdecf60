import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { countOpenTeamTickets, findTeam, listTeamMembers, listTeamSummaries } from '../../../data/catalog.js'
import { createCatalogAdmin } from '../../../domain/admin/catalog.js'
import { createTeamRouting, routingStrategyLabels } from '../../../domain/admin/team-routing.js'
import { findTeamRouting } from '../../../data/routing.js'
import { notFound } from '../../../domain/errors.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { formRoute, hasErrors, idParam, parseId, readForm, type FieldErrors, type FormSpec, type FormValues } from '../../forms.js'
import { forgetReferenceData, referenceData } from '../reference-data.js'
import { attempt, optionalId, requiredId, type Refusal } from './catalog-forms.js'

const newTeamSpec = {
  name: { label: 'Name', missing: 'Enter a name for the team.', maxLength: 120 }
} satisfies FormSpec

const teamSpec = {
  ...newTeamSpec,
  lead: { label: 'Lead', missing: '', maxLength: 12, optional: true }
} satisfies FormSpec

const memberSpec = {
  agent: { label: 'Agent', missing: 'Choose the agent to add.', maxLength: 12 }
} satisfies FormSpec

const routingSpec = {
  routing: { label: 'Strategy', missing: 'Choose a strategy.', maxLength: 16 }
} satisfies FormSpec

type FormState = Partial<Record<'edit' | 'member' | 'delete' | 'routing', { values?: FormValues, errors: FieldErrors }>>

/** Teams: a group of agents tickets can be assigned to, with a lead and a queue of its own. */
export default async function teamsRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const catalog = createCatalogAdmin(db, { now: app.lifecycle.now })
  const teamRouting = createTeamRouting(db, { now: app.lifecycle.now })
  const listUrl = app.url('/staff/admin/teams')
  const pageUrl = (id: number): string => app.url(`/staff/admin/teams/${id}`)

  async function showList (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/teams', {
      agent: request.agent,
      teams: await listTeamSummaries(db),
      values,
      errors,
      spec: newTeamSpec,
      flash: takeFlash(request, reply)
    }, { status })
  }

  async function showTeam (request: FastifyRequest, reply: FastifyReply, forms: FormState = {}, status = 200): Promise<FastifyReply> {
    const id = idParam(request, 'That team')
    const team = await findTeam(db, id)
    if (!team) throw notFound('That team')
    const [members, openTickets, { agents }, routing] = await Promise.all([listTeamMembers(db, id), countOpenTeamTickets(db, id), referenceData(db)(), findTeamRouting(db, id)])
    const memberIds = new Set(members.map((m) => m.id))
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/team', {
      agent: request.agent,
      team,
      members,
      candidates: agents.filter((a) => !memberIds.has(a.id)),
      openTickets,
      edit: { values: forms.edit?.values ?? { name: team.name, lead: team.lead_id === null ? '' : String(team.lead_id) }, errors: forms.edit?.errors ?? {} },
      member: { values: forms.member?.values ?? { agent: '' }, errors: forms.member?.errors ?? {} },
      deletion: { errors: forms.delete?.errors ?? {} },
      routing: { values: forms.routing?.values ?? { routing: routing?.routing ?? 'none' }, errors: forms.routing?.errors ?? {}, strategies: routingStrategyLabels },
      spec: teamSpec,
      queueUrl: app.url(`/staff/queues/open?team=${id}`),
      flash: takeFlash(request, reply)
    }, { status })
  }

  async function done (request: FastifyRequest, reply: FastifyReply, to: string, message: string): Promise<FastifyReply> {
    forgetReferenceData(db)
    setFlash(request, reply, message)
    return await reply.redirect(to, 303)
  }

  const showAgain = (form: keyof FormState) => async (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status: number) =>
    await showTeam(request, reply, { [form]: { values, errors } }, status)

  app.get('/staff/admin/teams', async (request, reply) => await showList(request, reply, { name: '' }, {}))

  app.post('/staff/admin/teams', formRoute(app, newTeamSpec, { show: showList }), async (request, reply) => {
    const { values, errors } = readForm(request, newTeamSpec)
    let id = 0
    const refusal: Refusal | undefined = hasErrors(errors) ? { errors, status: 422 } : await attempt(async () => { id = await catalog.createTeam(request.agent, { name: values.name }) })
    if (refusal) return await showList(request, reply, values, refusal.errors, refusal.status)
    return await done(request, reply, pageUrl(id), `Team ${values.name.trim()} created. Add its members below.`)
  })

  app.get<{ Params: { id: string } }>('/staff/admin/teams/:id', async (request, reply) => await showTeam(request, reply))

  app.post<{ Params: { id: string } }>('/staff/admin/teams/:id', formRoute(app, teamSpec, { show: showAgain('edit') }), async (request, reply) => {
    const id = idParam(request, 'That team')
    const { values, errors } = readForm(request, teamSpec)
    const refusal: Refusal | undefined = hasErrors(errors)
      ? { errors, status: 422 }
      : await attempt(async () => { await catalog.changeTeam(request.agent, id, { name: values.name, leadId: optionalId(values.lead) }) })
    if (refusal) return await showTeam(request, reply, { edit: { values, errors: refusal.errors } }, refusal.status)
    return await done(request, reply, pageUrl(id), 'Team saved.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/teams/:id/routing', formRoute(app, routingSpec, { show: showAgain('routing') }), async (request, reply) => {
    const id = idParam(request, 'That team')
    const { values, errors } = readForm(request, routingSpec)
    let changed = false
    const refusal: Refusal | undefined = hasErrors(errors)
      ? { errors, status: 422 }
      : await attempt(async () => { changed = await teamRouting.setStrategy(request.agent, id, values.routing) })
    if (refusal) return await showTeam(request, reply, { routing: { values, errors: refusal.errors } }, refusal.status)
    return await done(request, reply, pageUrl(id), changed ? 'Routing saved.' : 'Nothing had changed.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/teams/:id/members', formRoute(app, memberSpec, { show: showAgain('member') }), async (request, reply) => {
    const id = idParam(request, 'That team')
    const { values, errors } = readForm(request, memberSpec)
    const refusal: Refusal | undefined = hasErrors(errors)
      ? { errors, status: 422 }
      : await attempt(async () => { await catalog.addTeamMember(request.agent, id, requiredId(values.agent)) })
    if (refusal) return await showTeam(request, reply, { member: { values, errors: refusal.errors } }, refusal.status)
    return await done(request, reply, pageUrl(id), 'Member added.')
  })

  app.post<{ Params: { id: string, agentId: string } }>('/staff/admin/teams/:id/members/:agentId/removal', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = idParam(request, 'That team')
    await catalog.removeTeamMember(request.agent, id, parseId(request.params.agentId) ?? -1)
    return await done(request, reply, pageUrl(id), 'Member removed.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/teams/:id/deletion', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = idParam(request, 'That team')
    const team = await findTeam(db, id)
    const refusal = await attempt(async () => { await catalog.deleteTeam(request.agent, id) })
    if (refusal) return await showTeam(request, reply, { delete: { errors: refusal.errors } }, refusal.status)
    return await done(request, reply, listUrl, `Team ${team?.name ?? ''} deleted.`)
  })
}
