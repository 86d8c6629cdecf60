import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { passwordMinLength } from '../../domain/accounts.js'
import { TesseraError } from '../../domain/errors.js'
import { setFlash, takeFlash } from '../cookies.js'
import { formRoute, hasErrors, readForm, type FieldErrors, type FormSpec } from '../forms.js'
import { csrfCookieName } from '../plugins/security.js'
import { forgetReferenceData } from './reference-data.js'
import { beginSecondStep, requireSetup } from './two-factor-session.js'

const loginSpec = {
  email: { label: 'E-mail address', missing: 'Enter your e-mail address.', invalid: 'Enter an e-mail address like name@example.com.', maxLength: 254 },
  password: { label: 'Password', missing: 'Enter your password.', maxLength: 1024 },
  // Generous: a `next` that is too long is not refused, it falls back (see safeNext).
  next: { label: 'Next page', missing: '', maxLength: 100_000, optional: true }
} satisfies FormSpec

const resetRequestSpec = { email: loginSpec.email } satisfies FormSpec

const newPasswordSpec = {
  password: { label: 'New password', missing: `Choose a password of at least ${passwordMinLength} characters.`, maxLength: 1024 },
  confirm: { label: 'Password again', missing: 'Type the password again.', maxLength: 1024 }
} satisfies FormSpec

const setupSpec = {
  name: { label: 'Your name', missing: 'Enter your name.', maxLength: 120 },
  email: loginSpec.email,
  ...newPasswordSpec
} satisfies FormSpec

type PasswordValues = { password: string, confirm: string }

/** Longer than any page of the panel needs; a longer `next` is not one of ours. */
const nextMaxLength = 2000
const fallbackOrigin = 'http://tessera.invalid'

/**
 * Where to go after signing in: only a page inside the staff panel, written in printable
 * ASCII. Anything else (another host, `//host`, a backslash some browsers read as a slash,
 * a newline or a character a Location header cannot carry, `..` out of the panel) falls
 * back to the panel's home, so the login form can neither send people elsewhere nor fail.
 */
function safeNext (next: string | undefined, staffHome: string): string {
  if (next === undefined || next.length > nextMaxLength || !/^[\x21-\x7e]+$/.test(next) || next.includes('\\')) return staffHome
  if (!next.startsWith(staffHome + '/') && !next.startsWith(staffHome + '?')) return staffHome
  let url: URL
  try {
    url = new URL(next, fallbackOrigin)
  } catch {
    return staffHome
  }
  if (url.origin !== fallbackOrigin || !(url.pathname === staffHome || url.pathname.startsWith(staffHome + '/')) || url.pathname.startsWith('//')) return staffHome
  return url.pathname + url.search
}

/** A new CSRF secret, so no token issued before a sign-in or sign-out works after it. */
function rotateCsrfSecret (request: FastifyRequest, reply: FastifyReply): void {
  // generateCsrf() makes a new secret (and sets its cookie) when the request carries none.
  request.cookies[csrfCookieName] = undefined
  reply.generateCsrf()
}

/** Starts a fresh session for the agent: a session id or CSRF token planted before it is worthless. */
export async function startSession (request: FastifyRequest, reply: FastifyReply, agentId: number): Promise<void> {
  await request.session.regenerate()
  request.session.agentId = agentId
  rotateCsrfSecret(request, reply)
}

function passwordErrors (values: PasswordValues, errors: FieldErrors): FieldErrors {
  if (!errors.password && values.password.length < passwordMinLength) errors.password = newPasswordSpec.password.missing
  if (!errors.confirm && !errors.password && values.confirm !== values.password) errors.confirm = 'The two passwords are not the same.'
  return errors
}

export default async function authRoutes (app: FastifyInstance): Promise<void> {
  const { accounts } = app
  const staffHome = app.url('/staff')

  async function showLogin (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    return await reply.render('staff/login', { values: { ...values, password: '' }, errors, spec: loginSpec, flash: takeFlash(request, reply) }, { status })
  }

  app.get<{ Querystring: { next?: string } }>('/staff/login', async (request, reply) => {
    if (request.session.agentId !== undefined) return await reply.redirect(staffHome, 303)
    return await showLogin(request, reply, { email: '', next: safeNext(typeof request.query.next === 'string' ? request.query.next : undefined, staffHome) }, {})
  })

  app.post('/staff/login', formRoute(app, loginSpec, {
    formats: { email: 'email' },
    rateLimit: { max: async () => (await app.deskSettings.current()).signInsPer15Minutes, timeWindow: '15 minutes' },
    show: showLogin
  }), async (request, reply) => {
    const { values, errors: { next: badNext, ...errors } } = readForm(request, loginSpec)
    // The page to go to next is not something the person typed: when it is unreadable it
    // simply falls back to the panel's home.
    if (badNext) values.next = ''
    if (hasErrors(errors)) return await showLogin(request, reply, values, errors, 422)
    try {
      const agent = await accounts.signIn(values.email, values.password, request.ip)
      if (await app.twoFactor.isEnabled(agent.id)) return await beginSecondStep(request, reply, agent.id, safeNext(values.next, staffHome))
      await startSession(request, reply, agent.id)
      if (await app.twoFactor.isRequiredFor({ isAdmin: agent.is_admin })) return await requireSetup(request, reply)
      return await reply.redirect(safeNext(values.next, staffHome), 303)
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err
      return await showLogin(request, reply, values, { _form: err.message }, err.code === 'TESSERA_RATE_LIMITED' ? 429 : 422)
    }
  })

  app.post('/staff/logout', { preValidation: app.csrfProtection }, async (request, reply) => {
    await request.session.destroy()
    rotateCsrfSecret(request, reply)
    setFlash(request, reply, 'You have signed out.')
    return await reply.redirect(app.url('/staff/login'), 303)
  })

  const showResetRequest = async (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status = 200): Promise<FastifyReply> =>
    await reply.render('staff/reset-request', { values, errors, spec: resetRequestSpec, sent: (request.query as { sent?: string }).sent === '1' }, { status })

  app.get('/staff/password-reset', async (request, reply) => await showResetRequest(request, reply, { email: '' }, {}))

  app.post('/staff/password-reset', formRoute(app, resetRequestSpec, {
    formats: { email: 'email' },
    rateLimit: { max: 5, timeWindow: '15 minutes' },
    show: showResetRequest
  }), async (request, reply) => {
    const { values, errors } = readForm(request, resetRequestSpec)
    if (hasErrors(errors)) return await showResetRequest(request, reply, values, errors, 422)
    await accounts.requestPasswordReset(values.email)
    return await reply.redirect(app.url('/staff/password-reset?sent=1'), 303)
  })

  async function showNewPassword (reply: FastifyReply, token: string, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    const kind = await accounts.resetLinkKind(token)
    if (kind === undefined) {
      return await reply.render('error', { status: 404, staff: true, message: 'This link has expired or was already used. Ask for a new one.' }, { status: 404 })
    }
    // An invited agent has no password yet: they choose one, not a new one.
    return await reply.render('staff/reset-password', { token, errors, spec: newPasswordSpec, invitation: kind === 'invitation' }, { status })
  }

  app.get<{ Params: { token: string } }>('/staff/password-reset/:token', async (request, reply) => {
    reply.header('Cache-Control', 'no-store')
    return await showNewPassword(reply, request.params.token, {})
  })

  app.post<{ Params: { token: string } }>('/staff/password-reset/:token', formRoute(app, newPasswordSpec, {
    show: async (request, reply, values, errors, status) => await showNewPassword(reply, (request.params as { token: string }).token, errors, status)
  }), async (request, reply) => {
    const form = readForm(request, newPasswordSpec)
    const { values } = form
    const errors = passwordErrors(values, form.errors)
    if (hasErrors(errors)) return await showNewPassword(reply, request.params.token, errors, 422)
    const kind = await accounts.resetLinkKind(request.params.token)
    await accounts.resetPassword(request.params.token, values.password, request.ip)
    // An invitation accepted: the agent may now be offered in Assign lists.
    forgetReferenceData(app.db)
    setFlash(request, reply, kind === 'invitation' ? 'Your password is set. Please sign in.' : 'Your password has been changed. Please sign in.')
    return await reply.redirect(app.url('/staff/login'), 303)
  })

  async function showSetup (reply: FastifyReply, token: string, values: Record<string, string>, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    if (!await accounts.isValidSetupToken(token)) {
      return await reply.render('error', { status: 404, message: 'This setup link is not valid, or setup is already done.' }, { status: 404 })
    }
    return await reply.render('staff/setup', { token, values: { ...values, password: '', confirm: '' }, errors, spec: setupSpec }, { status })
  }

  app.get<{ Params: { token: string } }>('/staff/setup/:token', async (request, reply) => {
    reply.header('Cache-Control', 'no-store')
    return await showSetup(reply, request.params.token, { name: '', email: '' }, {})
  })

  app.post<{ Params: { token: string } }>('/staff/setup/:token', formRoute(app, setupSpec, {
    formats: { email: 'email' },
    show: async (request, reply, values, errors, status) => await showSetup(reply, (request.params as { token: string }).token, values, errors, status)
  }), async (request, reply) => {
    const form = readForm(request, setupSpec)
    const { values } = form
    const errors = passwordErrors(values, form.errors)
    if (hasErrors(errors)) return await showSetup(reply, request.params.token, values, errors, 422)
    const agentId = await accounts.completeSetup(request.params.token, {
      name: values.name.trim(),
      email: values.email,
      password: values.password
    })
    await startSession(request, reply, agentId)
    // The first administrator starts at the setup checklist, not at an empty queue.
    return await reply.redirect(app.url('/staff/admin'), 303)
  })
}
