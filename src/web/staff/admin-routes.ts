import type { FastifyInstance, FastifyRequest } from 'fastify'
import { listAdminEvents, type AdminEventRow } from '../../data/admin-log.js'
import { listSignInEvents } from '../../data/agents.js'
import { countOutboxByStatus, listRecentOutbox, type OutboxRow } from '../../data/outbox.js'
import { adminSubjects, isAdminSubject } from '../../domain/admin-log.js'
import { notFound } from '../../domain/errors.js'
import { createSetupChecklist } from '../../domain/setup-checklist.js'
import { setFlash, takeFlash } from '../cookies.js'
import { parseId } from '../forms.js'
import { referenceData } from './reference-data.js'
import agentsRoutes from './admin/agents-routes.js'
import apiKeysRoutes from './admin/api-keys-routes.js'
import blockedSendersRoutes from './admin/blocked-senders-routes.js'
import twoFactorAdminRoutes from './admin/two-factor-routes.js'
import cannedRoutes from './admin/canned-routes.js'
import departmentsRoutes from './admin/departments-routes.js'
import noticesRoutes from './admin/notices-routes.js'
import settingsRoutes from './admin/settings-routes.js'
import teamsRoutes from './admin/teams-routes.js'
import topicsRoutes from './admin/topics-routes.js'
import slaRoutes from './admin/sla-routes.js'
import setAsideRoutes from './admin/set-aside-routes.js'

const outboxStatuses: ReadonlyArray<OutboxRow['status']> = ['queued', 'sent', 'failed']
const logPageSize = 50

/** One field of a logged change, as the log page shows it. */
export interface LoggedField { field: string, before: string, after: string }

function shown (value: unknown): string {
  if (value === undefined || value === null || value === '') return '—'
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function parsed (state: string | null): Record<string, unknown> {
  if (state === null) return {}
  const value: unknown = JSON.parse(state)
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : { value }
}

/** The before and after of a logged change, field by field. */
export function loggedFields (event: Pick<AdminEventRow, 'before_state' | 'after_state'>): LoggedField[] {
  const before = parsed(event.before_state)
  const after = parsed(event.after_state)
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])]
  return fields.map((field) => ({ field, before: shown(before[field]), after: shown(after[field]) }))
}

/** Administration pages; for anyone else they do not exist. */
export default async function adminRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const outboxUrl = app.url('/staff/admin/outbox')

  // Before each route's CSRF check: for anyone else an admin form does not exist, expired or not.
  // Registered first, so it also guards every admin area registered below.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    if (!request.agent.isAdmin) throw notFound()
  })

  const checklist = createSetupChecklist(db, { outgoingMailConfigured: app.config.smtpUrl !== '', mailboxConfigured: app.config.imapUrl !== '' })

  app.get('/staff/admin', async (request, reply) => {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/index', { agent: request.agent, steps: await checklist.progress(), flash: takeFlash(request, reply) })
  })

  app.post('/staff/admin/catalog-review', { preValidation: app.csrfProtection }, async (request, reply) => {
    await checklist.confirmCatalog(request.agent)
    setFlash(request, reply, 'Departments and help topics are ticked off; change them any time.')
    return await reply.redirect(app.url('/staff/admin'), 303)
  })

  app.get<{ Querystring: Record<string, string | undefined> }>('/staff/admin/log', async (request, reply) => {
    const subject = isAdminSubject(request.query.subject) ? request.query.subject : undefined
    const agentId = parseId(request.query.agent)
    const beforeId = parseId(request.query.before)
    const rows = await listAdminEvents(db, { subjectType: subject, agentId, beforeId }, logPageSize + 1)
    const events = rows.slice(0, logPageSize).map((row) => ({ ...row, fields: loggedFields(row) }))
    const next = new URLSearchParams()
    if (subject) next.set('subject', subject)
    if (agentId !== undefined) next.set('agent', String(agentId))
    const last = events.at(-1)
    if (rows.length > logPageSize && last) next.set('before', String(last.id))
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/log', {
      agent: request.agent,
      events,
      subjects: adminSubjects,
      subject,
      agentId,
      agents: (await referenceData(db)()).agents,
      nextUrl: rows.length > logPageSize ? app.url(`/staff/admin/log?${next.toString()}`) : null
    })
  })

  app.get<{ Querystring: { status?: string } }>('/staff/admin/outbox', async (request, reply) => {
    const status = outboxStatuses.find((s) => s === request.query.status)
    const [messages, counts] = await Promise.all([listRecentOutbox(db, status, 100), countOutboxByStatus(db)])
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/outbox', {
      agent: request.agent,
      messages,
      counts,
      status,
      statuses: outboxStatuses,
      smtpConfigured: app.config.smtpUrl !== '',
      flash: takeFlash(request, reply)
    })
  })

  app.get('/staff/admin/sign-ins', async (request, reply) => {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/sign-ins', { agent: request.agent, events: await listSignInEvents(db, 200) })
  })

  app.post<{ Params: { id: string } }>('/staff/admin/outbox/:id/retry', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = parseId(request.params.id) ?? 0
    const requeued = await app.outboxAdmin.requeue(request.agent, id)
    setFlash(request, reply, requeued ? `Message ${id} will be sent again shortly.` : `Message ${id} was already sent or does not exist.`)
    return await reply.redirect(outboxUrl, 303)
  })

  app.post('/staff/admin/outbox/test', { preValidation: app.csrfProtection }, async (request, reply) => {
    await app.outboxAdmin.queueTestMessage(request.agent)
    setFlash(request, reply, `A test message to ${request.agent.email} is queued; it appears below once sent.`)
    return await reply.redirect(outboxUrl, 303)
  })

  await app.register(departmentsRoutes)
  await app.register(topicsRoutes)
  await app.register(teamsRoutes)
  await app.register(slaRoutes)
  await app.register(agentsRoutes)
  await app.register(cannedRoutes)
  await app.register(noticesRoutes)
  await app.register(settingsRoutes)
  await app.register(apiKeysRoutes)
  await app.register(setAsideRoutes)
  await app.register(blockedSendersRoutes)
  await app.register(twoFactorAdminRoutes)
}
