import type { FastifyReply, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface Session {
    /** Password right, code still to come: who is signing in, since when, and where to go. */
    pendingAgentId?: number
    pendingSince?: number
    pendingNext?: string
    /** The desk requires two-factor sign-in and this agent has none yet: setup comes first. */
    twoFactorSetupDue?: boolean
  }
}

/** How long the code form waits after the password, before signing in starts over. */
export const secondStepMs = 10 * 60_000

export const setupPath = '/staff/account/two-factor'
export const secondStepPath = '/staff/login/two-factor'

/**
 * The password was right and the agent has two-factor sign-in: a fresh session that is not
 * signed in yet and only remembers who is to enter a code.
 */
export async function beginSecondStep (request: FastifyRequest, reply: FastifyReply, agentId: number, next: string): Promise<FastifyReply> {
  await request.session.regenerate()
  request.session.pendingAgentId = agentId
  request.session.pendingSince = request.server.lifecycle.now()
  request.session.pendingNext = next
  return await reply.redirect(request.server.url(secondStepPath), 303)
}

/** Signed in, but the desk asks for two-factor sign-in first: every page leads to its setup. */
export async function requireSetup (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  request.session.twoFactorSetupDue = true
  return await reply.redirect(request.server.url(setupPath), 303)
}

/** A staff page while setup is due: everything but the setup page and signing out waits. */
export async function twoFactorSetupGate (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.session.twoFactorSetupDue !== true) return undefined
  const path = request.url.split('?')[0] ?? ''
  const url = request.server.url
  if (path === url(setupPath) || path === url('/staff/logout')) return undefined
  return await reply.redirect(url(setupPath), 303)
}
