import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TesseraError } from '../../domain/errors.js'
import { setFlash } from '../cookies.js'
import { formRoute, hasErrors, readForm, type FieldErrors, type FormSpec } from '../forms.js'
import { startSession } from './auth-routes.js'
import { secondStepMs, secondStepPath } from './two-factor-session.js'

export const codeSpec = {
  code: { label: 'Code', missing: 'Enter the code from your app, or a recovery code.', maxLength: 32 }
} satisfies FormSpec

/** The second step of signing in: a code from the app or a recovery code, after the password. */
export default async function twoFactorSignInRoutes (app: FastifyInstance): Promise<void> {
  const loginUrl = app.url('/staff/login')

  /** Who is between the password and the code; undefined when nobody is, or it took too long. */
  function pendingAgent (request: FastifyRequest): number | undefined {
    const { pendingAgentId, pendingSince } = request.session
    if (pendingAgentId === undefined || pendingSince === undefined || app.lifecycle.now() - pendingSince > secondStepMs) return undefined
    return pendingAgentId
  }

  async function startOver (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    await request.session.destroy()
    setFlash(request, reply, 'Please sign in again.')
    return await reply.redirect(loginUrl, 303)
  }

  async function showCodeForm (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'no-store')
    return await reply.render('staff/two-factor-sign-in', { values: { code: '' }, typed: values.code ?? '', errors, spec: codeSpec }, { status })
  }

  app.get(secondStepPath, async (request, reply) => {
    if (pendingAgent(request) === undefined) return await startOver(request, reply)
    return await showCodeForm(request, reply, { code: '' }, {})
  })

  app.post(secondStepPath, formRoute(app, codeSpec, {
    rateLimit: { max: async () => (await app.deskSettings.current()).signInsPer15Minutes, timeWindow: '15 minutes' },
    getGoesTo: secondStepPath,
    show: showCodeForm
  }), async (request, reply) => {
    const agentId = pendingAgent(request)
    if (agentId === undefined) return await startOver(request, reply)
    const { values, errors } = readForm(request, codeSpec)
    if (hasErrors(errors)) return await showCodeForm(request, reply, values, errors, 422)
    let used: 'totp' | 'recovery'
    try {
      used = await app.twoFactor.checkCode(agentId, values.code)
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err
      return await showCodeForm(request, reply, values, { code: err.message }, err.code === 'TESSERA_RATE_LIMITED' ? 429 : 422)
    }
    const next = request.session.pendingNext ?? app.url('/staff')
    await startSession(request, reply, agentId)
    if (used === 'recovery') {
      const left = (await app.twoFactor.status(agentId)).recoveryCodesLeft
      setFlash(request, reply, `You signed in with a recovery code; ${left} ${left === 1 ? 'is' : 'are'} left. Each works once.`)
    }
    return await reply.redirect(next, 303)
  })
}
