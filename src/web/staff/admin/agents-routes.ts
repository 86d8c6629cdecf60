import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listAgentsWithRoles, findAgentListing, listOpenTicketsAssignedTo, type AgentListing, type NamedRow } from '../../../data/agents.js'
import type { DepartmentRow } from '../../../data/catalog.js'
import {
  AgentInputError, agentEmailMaxLength, agentNameMaxLength, createAgentAdmin, describeRoles, roleNames, type AgentAdmin
} from '../../../domain/admin/agents.js'
import { notFound, TesseraError } from '../../../domain/errors.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { formRoute, hasErrors, parseId, readForm, type FieldErrors, type FormSpec } from '../../forms.js'
import { httpStatusOf } from '../../plugins/errors.js'
import { forgetReferenceData, referenceData } from '../reference-data.js'

const agentSpec = {
  name: { label: 'Name', missing: 'Enter the agent’s name.', maxLength: agentNameMaxLength },
  email: { label: 'E-mail address', missing: 'Enter the agent’s e-mail address.', invalid: 'Enter an e-mail address like name@example.com.', maxLength: agentEmailMaxLength },
  is_admin: { label: 'Administrator', missing: '', maxLength: 3, optional: true }
} satisfies FormSpec

const reassignSpec = {
  agent: { label: 'Reassign to', missing: 'Choose the agent who takes the tickets over.', maxLength: 9 }
} satisfies FormSpec

type AgentValues = Record<keyof typeof agentSpec, string>
type IdParams = { Params: { id: string } }

/** A role select per department, named role_<department id>; '' is no role. */
const roleField = /^role_(.*)$/

function rolesFrom (request: FastifyRequest): { roles: Record<number, string | null>, errors: FieldErrors, shown: Record<string, string> } {
  const body = (request.body !== null && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>
  const roles: Record<number, string | null> = {}
  const errors: FieldErrors = {}
  const shown: Record<string, string> = {}
  for (const [name, value] of Object.entries(body)) {
    const key = roleField.exec(name)?.[1]
    if (key === undefined) continue
    const id = parseId(key)
    if (id === undefined) {
      errors._form = 'That department does not exist (any more). Reload the page and choose again.'
      continue
    }
    if (typeof value !== 'string') {
      errors[name] = 'Choose one role.'
      continue
    }
    shown[String(id)] = value
    roles[id] = value === '' ? null : value
  }
  return { roles, errors, shown }
}

/** Where the message for a refused change goes: beside its field when the form has one. */
function placeError (err: AgentInputError, fields: readonly string[]): FieldErrors {
  return fields.includes(err.field) ? { [err.field]: err.message } : { _form: err.message }
}

function fieldsOf (departments: readonly DepartmentRow[]): string[] {
  return [...Object.keys(agentSpec), ...departments.map((d) => `role_${d.id}`)]
}

function statusOf (agent: AgentListing): string {
  if (!agent.active) return 'Disabled'
  return agent.invited ? 'Invited' : 'Active'
}

/** Agents who could take over every one of these tickets (a working role in each department). */
function takersFor (assignable: Awaited<ReturnType<ReturnType<typeof referenceData>>>['assignable'], departmentIds: readonly number[], except: number): NamedRow[] {
  return assignable
    .filter((a) => a.id !== except && (a.isAdmin || departmentIds.every((d) => a.departmentIds.includes(d))))
    .map(({ id, name }) => ({ id, name }))
}

/** Administration › Agents: invite, edit, roles per department, disable, and what follows. */
export default async function agentsRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const agents: AgentAdmin = createAgentAdmin(db, { reopenWindowMs: app.config.reopenWindowMs, now: app.lifecycle.now })
  const reference = referenceData(db)
  const listUrl = app.url('/staff/admin/agents')
  const agentUrl = (id: number): string => app.url(`/staff/admin/agents/${id}`)
  const roleDescriptions = describeRoles()

  async function showList (request: FastifyRequest, reply: FastifyReply, values: AgentValues, roles: Record<string, string>, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    const [all, { departments }] = await Promise.all([listAgentsWithRoles(db), reference()])
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/agents', {
      agent: request.agent,
      agents: all.map((a) => ({ ...a, status: statusOf(a) })),
      departments,
      roleNames,
      roleDescriptions,
      values,
      roles,
      errors,
      spec: agentSpec,
      now: app.lifecycle.now(),
      flash: takeFlash(request, reply)
    }, { status })
  }

  interface AgentPageState {
    values?: AgentValues
    roles?: Record<string, string>
    errors?: FieldErrors
    status?: number
  }

  async function showAgent (request: FastifyRequest, reply: FastifyReply, agentId: number | undefined, state: AgentPageState = {}): Promise<FastifyReply> {
    const subject = agentId === undefined ? undefined : await findAgentListing(db, agentId)
    if (!subject) throw notFound('That agent')
    const [{ departments, assignable }, tickets] = await Promise.all([
      reference(),
      subject.active ? [] : listOpenTicketsAssignedTo(db, subject.id)
    ])
    const roles = state.roles ?? Object.fromEntries(departments.map((d) => [String(d.id), subject.roles[d.id] ?? '']))
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/agent', {
      agent: request.agent,
      subject: { ...subject, status: statusOf(subject) },
      departments,
      roleNames,
      roleDescriptions,
      values: state.values ?? { name: subject.name, email: subject.email, is_admin: subject.isAdmin ? 'yes' : '' },
      roles,
      errors: state.errors ?? {},
      spec: agentSpec,
      tickets,
      takers: takersFor(assignable, [...new Set(tickets.map((t) => t.department_id))], subject.id),
      now: app.lifecycle.now(),
      flash: takeFlash(request, reply)
    }, { status: state.status ?? 200 })
  }

  /** Runs one verb; a refusal shows the agent's page again with the reason, nothing saved. */
  async function act (request: FastifyRequest<IdParams>, reply: FastifyReply, verb: (id: number) => Promise<string>): Promise<FastifyReply> {
    const id = parseId(request.params.id)
    if (id === undefined) throw notFound('That agent')
    try {
      const message = await verb(id)
      forgetReferenceData(db)
      setFlash(request, reply, message)
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      return await showAgent(request, reply, id, { errors: { _form: err.message }, status: httpStatusOf(err) })
    }
    return await reply.redirect(agentUrl(id), 303)
  }

  app.get('/staff/admin/agents', async (request, reply) =>
    await showList(request, reply, { name: '', email: '', is_admin: '' }, {}, {}))

  app.post('/staff/admin/agents', formRoute(app, agentSpec, {
    formats: { email: 'email' },
    show: async (request, reply, values, errors, status) => await showList(request, reply, values, rolesFrom(request).shown, errors, status)
  }), async (request, reply) => {
    const { values, errors } = readForm(request, agentSpec)
    const roles = rolesFrom(request)
    const all = { ...errors, ...roles.errors }
    if (hasErrors(all)) return await showList(request, reply, values, roles.shown, all, 422)
    try {
      await agents.invite(request.agent, { name: values.name, email: values.email, isAdmin: values.is_admin !== '', roles: roles.roles })
    } catch (err) {
      if (!(err instanceof AgentInputError)) throw err
      const { departments } = await reference()
      return await showList(request, reply, values, roles.shown, placeError(err, fieldsOf(departments)), 422)
    }
    forgetReferenceData(db)
    setFlash(request, reply, `${values.name.trim()} is invited: the e-mail with a link to choose a password (valid for 7 days) is on its way.`)
    return await reply.redirect(listUrl, 303)
  })

  app.get<IdParams>('/staff/admin/agents/:id', async (request, reply) => await showAgent(request, reply, parseId(request.params.id)))

  app.post<IdParams>('/staff/admin/agents/:id', formRoute(app, agentSpec, {
    formats: { email: 'email' },
    show: async (request, reply, values, errors, status) =>
      await showAgent(request, reply, parseId((request.params as { id: string }).id), { values, roles: rolesFrom(request).shown, errors, status })
  }), async (request, reply) => {
    const id = parseId(request.params.id)
    if (id === undefined) throw notFound('That agent')
    const { values, errors } = readForm(request, agentSpec)
    const roles = rolesFrom(request)
    const all = { ...errors, ...roles.errors }
    const state = { values, roles: roles.shown }
    if (hasErrors(all)) return await showAgent(request, reply, id, { ...state, errors: all, status: 422 })
    try {
      await agents.update(request.agent, id, { name: values.name, email: values.email, isAdmin: values.is_admin !== '', roles: roles.roles })
    } catch (err) {
      if (!(err instanceof AgentInputError)) throw err
      const { departments } = await reference()
      return await showAgent(request, reply, id, { ...state, errors: placeError(err, fieldsOf(departments)), status: 422 })
    }
    forgetReferenceData(db)
    // Whoever just gave up their own administrator role can no longer see this page.
    const steppedDown = id === request.agent.id && values.is_admin === ''
    setFlash(request, reply, steppedDown ? 'Changes saved. You are no longer an administrator.' : 'Changes saved.')
    return await reply.redirect(steppedDown ? app.url('/staff') : agentUrl(id), 303)
  })

  const action = { preValidation: app.csrfProtection }

  app.post<IdParams>('/staff/admin/agents/:id/invitation', action, async (request, reply) =>
    await act(request, reply, async (id) => `A fresh invitation is on its way to ${(await agents.resendInvitation(request.agent, id)).email}; earlier links no longer work.`))

  app.post<IdParams>('/staff/admin/agents/:id/revocation', action, async (request, reply) => {
    const id = parseId(request.params.id)
    if (id === undefined) throw notFound('That agent')
    try {
      const revoked = await agents.revokeInvitation(request.agent, id)
      forgetReferenceData(db)
      setFlash(request, reply, `The invitation to ${revoked.email} is revoked; its link no longer works.`)
      return await reply.redirect(listUrl, 303)
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_NOT_FOUND') throw err
      return await showAgent(request, reply, id, { errors: { _form: err.message }, status: httpStatusOf(err) })
    }
  })

  app.post<IdParams>('/staff/admin/agents/:id/disablement', action, async (request, reply) =>
    await act(request, reply, async (id) => `${(await agents.disable(request.agent, id)).name} is disabled and signed out everywhere.`))

  app.post<IdParams>('/staff/admin/agents/:id/enablement', action, async (request, reply) =>
    await act(request, reply, async (id) => `${(await agents.enable(request.agent, id)).name} can sign in again.`))

  app.post<IdParams>('/staff/admin/agents/:id/password-reset', action, async (request, reply) =>
    await act(request, reply, async (id) => `A link to choose a new password (valid for an hour) is on its way to ${(await agents.sendPasswordReset(request.agent, id)).email}.`))

  app.post<IdParams>('/staff/admin/agents/:id/tickets/release', action, async (request, reply) =>
    await act(request, reply, async (id) => `${await agents.releaseAllTickets(request.agent, id)} tickets released.`))

  app.post<IdParams>('/staff/admin/agents/:id/tickets/reassignment', formRoute(app, reassignSpec, {
    show: async (request, reply, values, errors, status) => await showAgent(request, reply, parseId((request.params as { id: string }).id), { errors, status })
  }), async (request, reply) => {
    const { values, errors } = readForm(request, reassignSpec)
    const to = parseId(values.agent)
    if (hasErrors(errors) || to === undefined) {
      return await showAgent(request, reply, parseId(request.params.id), { errors: hasErrors(errors) ? errors : { agent: reassignSpec.agent.missing }, status: 422 })
    }
    return await act(request, reply, async (id) => `${await agents.reassignAllTickets(request.agent, id, to)} tickets reassigned.`)
  })
}
