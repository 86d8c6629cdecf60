import fastifySession from '@fastify/session'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { loadAgentAccess, type AgentAccess } from '../../data/agents.js'
import { DatabaseSessionStore } from '../../data/sessions.js'
import { wantsFragment } from '../plugins/views.js'
import adminRoutes from './admin-routes.js'
import authRoutes from './auth-routes.js'
import queueRoutes from './queue-routes.js'
import ticketRoutes from './ticket-routes.js'
import trashRoutes from './trash-routes.js'

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
    secret: app.config.sessionSecret,
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

  await app.register(authRoutes)
  await app.register(async function signedIn (area) {
    area.addHook('preHandler', async (request, reply) => await requireAgent(area, request, reply))
    await area.register(queueRoutes)
    await area.register(ticketRoutes)
    await area.register(trashRoutes)
    await area.register(adminRoutes)
  })
}

async function requireAgent (app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const agentId = request.session.agentId
  const access = agentId === undefined ? undefined : await loadAgentAccess(app.db, agentId)
  if (access) {
    request.agent = access
    return undefined
  }
  if (agentId !== undefined) await request.session.destroy()
  const login = app.url('/staff/login') + (request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '')
  if (wantsFragment(request)) return await reply.header('HX-Redirect', login).code(401).send()
  return await reply.redirect(login, 303)
}
