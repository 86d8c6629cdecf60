import fastifySession from '@fastify/session'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Knex } from 'knex'
import { loadAgentAccess, type AgentAccess } from '../../data/agents.js'
import type { FieldErrors } from '../forms.js'
import { rememberingSigner } from '../cookie-signer.js'
import { wantsFragment } from '../plugins/views.js'
import { accessCacheMs, DatabaseSessionStore, watchAccessWrites, type AccessWrites } from '../session-store.js'
import adminRoutes from './admin-routes.js'
import authRoutes from './auth-routes.js'
import preferencesRoutes from './preferences-routes.js'
import queueRoutes from './queue-routes.js'
import requesterRoutes from './requester-routes.js'
import searchRoutes from './search-routes.js'
import staffAttachmentRoutes from './attachment-routes.js'
import ticketRoutes from './ticket-routes.js'
import aroundTicketRoutes from './around-ticket-routes.js'
import reportRoutes from './report-routes.js'
import satisfactionRoutes from './satisfaction-routes.js'
import mailViewRoutes from './mail-view-routes.js'
import participantRoutes from './participant-routes.js'
import trashRoutes from './trash-routes.js'
import newTicketRoutes from './new-ticket-routes.js'
import twoFactorRoutes from './two-factor-routes.js'
import { twoFactorSetupGate } from './two-factor-session.js'
import twoFactorSignInRoutes from './two-factor-sign-in-routes.js'

declare module 'fastify' {
  interface Session {
    agentId?: number
  }
  interface FastifyRequest {
    /** The signed-in agent and where they may work; set on every protected staff route. */
    agent: AgentAccess
  }
}

/** The staff panel under /staff: sessions exist only here, so portal visitors never get one. */
export default async function staffPlugin (app: FastifyInstance): Promise<void> {
  await app.register(fastifySession, {
    secret: rememberingSigner(app.config.sessionSecret),
    cookieName: 'tessera_staff',
    store: new DatabaseSessionStore(app.db),
    saveUninitialized: false,
    // A session row is written at sign-in and when something changes, not on every request.
    rolling: false,
    cookie: {
      path: app.url('/staff'),
      httpOnly: true,
      sameSite: 'lax',
      secure: 'auto',
      maxAge: 12 * 60 * 60_000
    }
  })
  app.decorateRequest('agent', null as unknown as AgentAccess)

  // A staff POST that does not show a form of its own still answers an expired token (or a
  // rate limit) with a page that says what happened and keeps what the person typed.
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat()
    if (!methods.includes('POST') || route.config?.showForm) return
    route.config = { ...route.config, showForm: showExpiredForm }
  })

  await app.register(authRoutes)
  await app.register(twoFactorSignInRoutes)
  await app.register(async function signedIn (area) {
    // A plugin's preValidation hook runs before each route's own (the CSRF check), so who
    // is asking is settled before anything that needs to know it.
    const accessOf = agentAccessCache(app.db, watchAccessWrites(app.db))
    area.addHook('preValidation', async (request, reply) => await requireAgent(area, accessOf, request, reply))
    area.addHook('preHandler', twoFactorSetupGate)
    await area.register(queueRoutes)
    await area.register(ticketRoutes)
    await area.register(aroundTicketRoutes)
    await area.register(satisfactionRoutes)
    await area.register(reportRoutes)
    await area.register(participantRoutes)
    await area.register(mailViewRoutes)
    await area.register(staffAttachmentRoutes)
    await area.register(trashRoutes)
    await area.register(requesterRoutes)
    await area.register(searchRoutes)
    await area.register(adminRoutes)
    await area.register(preferencesRoutes)
    await area.register(newTicketRoutes)
    await area.register(twoFactorRoutes)
  })
}

/**
 * Who an agent is and where they may work, remembered for `accessCacheMs` (every staff
 * request needs it) and forgotten at once when this instance writes to agents, roles,
 * teams or sessions. Concurrent requests of one agent share one load.
 */
function agentAccessCache (db: Knex, writes: AccessWrites): (agentId: number) => Promise<AgentAccess | undefined> {
  const remembered = new Map<number, { access: Promise<AgentAccess | undefined>, until: number, generation: number }>()
  return async (agentId) => {
    const now = Date.now()
    const generation = writes.generation()
    const known = remembered.get(agentId)
    if (known !== undefined && known.generation === generation && now < known.until) return await known.access
    if (remembered.size >= 10_000) remembered.clear()
    const access = loadAgentAccess(db, agentId)
    remembered.set(agentId, { access, until: now + accessCacheMs, generation })
    access.catch(() => remembered.delete(agentId))
    return await access
  }
}

async function requireAgent (app: FastifyInstance, accessOf: (agentId: number) => Promise<AgentAccess | undefined>,
  request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const agentId = request.session.agentId
  const access = agentId === undefined ? undefined : await accessOf(agentId)
  if (access) {
    request.agent = access
    return undefined
  }
  if (agentId !== undefined) await request.session.destroy()
  const login = app.url('/staff/login') + (request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '')
  if (wantsFragment(request)) return await reply.header('HX-Redirect', login).code(401).send()
  return await reply.redirect(login, 303)
}

/** Numbers in a form are ids the page holds, not text anyone typed. */
const typedText = (name: string, value: unknown): value is string =>
  name !== '_csrf' && typeof value === 'string' && value.trim() !== '' && !/^\d+$/.test(value.trim())

async function showExpiredForm (request: FastifyRequest, reply: FastifyReply, errors: FieldErrors, status: number): Promise<FastifyReply> {
  const body = (request.body !== null && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>
  const kept = Object.entries(body).filter((entry): entry is [string, string] => typedText(entry[0], entry[1]))
  const number = (request.params as { number?: unknown } | undefined)?.number
  const back = request.server.url(typeof number === 'string' && /^\d{1,12}$/.test(number) ? `/staff/tickets/${number}` : '/staff')
  return await reply.render('staff/form-expired', {
    agent: request.agent,
    message: errors._form ?? 'This form had expired, so nothing was saved.',
    kept,
    back
  }, { status, fragment: 'staff/_form-expired' })
}
