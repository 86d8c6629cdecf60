import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { passwordMinLength } from '../../domain/accounts.js'
import { TesseraError } from '../../domain/errors.js'
import { setFlash, takeFlash } from '../cookies.js'
import { formRoute, hasErrors, readForm, type FieldErrors, type FormSpec } from '../forms.js'

const loginSpec = {
  email: { label: 'E-mail address', missing: 'Enter your e-mail address.', invalid: 'Enter an e-mail address like name@example.com.', maxLength: 254 },
  password: { label: 'Password', missing: 'Enter your password.', maxLength: 1024 },
  next: { label: 'Next page', missing: '', maxLength: 2000, optional: true }
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

function passwordErrors (values: PasswordValues, errors: FieldErrors): FieldErrors {
  if (!errors.password && values.password.length < passwordMinLength) errors.password = newPasswordSpec.password.missing
  if (!errors.confirm && !errors.password && values.confirm !== values.password) errors.confirm = 'The two passwords are not the same.'
  return errors
}

export default async function authRoutes (app: FastifyInstance): Promise<void> {
  const { accounts } = app
  const staffHome = app.url('/staff')

  /** Only paths inside the staff panel, so the login form cannot be used to send people elsewhere. */
  function safeNext (next: string | undefined): string {
    return next && next.startsWith(staffHome + '/') && !next.startsWith('//') && !next.includes('\\') ? next : staffHome
  }

  async function showLogin (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    return await reply.render('staff/login', { values: { ...values, password: '' }, errors, spec: loginSpec, flash: takeFlash(request, reply) }, { status })
  }

  app.get<{ Querystring: { next?: string } }>('/staff/login', async (request, reply) => {
    if (request.session.agentId !== undefined) return await reply.redirect(staffHome, 303)
    return await showLogin(request, reply, { email: '', next: typeof request.query.next === 'string' ? request.query.next : '' }, {})
  })

  app.post('/staff/login', formRoute(app, loginSpec, {
    formats: { email: 'email' },
    rateLimit: { max: 30, timeWindow: '15 minutes' },
    show: showLogin
  }), async (request, reply) => {
    const { values, errors } = readForm(request, loginSpec)
    if (hasErrors(errors)) return await showLogin(request, reply, values, errors, 422)
    try {
      const agent = await accounts.signIn(values.email.trim().toLowerCase(), values.password, request.ip)
      // A new session id at sign-in, so a session id planted before it is worthless.
      await request.session.regenerate()
      request.session.agentId = agent.id
      return await reply.redirect(safeNext(values.next), 303)
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err
      return await showLogin(request, reply, values, { _form: err.message }, err.code === 'TESSERA_RATE_LIMITED' ? 429 : 422)
    }
  })

  app.post('/staff/logout', { preValidation: app.csrfProtection }, async (request, reply) => {
    await request.session.destroy()
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
    await accounts.requestPasswordReset(values.email.trim().toLowerCase())
    return await reply.redirect(app.url('/staff/password-reset?sent=1'), 303)
  })

  async function showNewPassword (reply: FastifyReply, token: string, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    if (!await accounts.isValidResetToken(token)) {
      return await reply.render('error', { status: 404, message: 'This reset link has expired or was already used. Ask for a new one.' }, { status: 404 })
    }
    return await reply.render('staff/reset-password', { token, errors, spec: newPasswordSpec }, { status })
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
    await accounts.resetPassword(request.params.token, values.password)
    setFlash(request, reply, 'Your password has been changed. Please sign in.')
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
      email: values.email.trim().toLowerCase(),
      password: values.password
    })
    await request.session.regenerate()
    request.session.agentId = agentId
    return await reply.redirect(staffHome, 303)
  })
}
