import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import QRCode from 'qrcode'
import { TesseraError } from '../../domain/errors.js'
import { setFlash, takeFlash } from '../cookies.js'
import { formRoute, hasErrors, readForm, type FieldErrors, type FormSpec } from '../forms.js'
import { setupPath } from './two-factor-session.js'

const confirmSpec = {
  code: { label: 'Code from your app', missing: 'Enter the six digits your app shows.', maxLength: 32 }
} satisfies FormSpec

const disableSpec = {
  password: { label: 'Password', missing: 'Enter your password.', maxLength: 1024 },
  code: { label: 'Code', missing: 'Enter the code from your app, or a recovery code.', maxLength: 32 }
} satisfies FormSpec

/**
 * An agent's own two-factor sign-in at /staff/account/two-factor: set up with a QR code (an
 * inline SVG, so no JavaScript) and the secret as text, confirmed with a code; turned off
 * with the password and a code.
 */
export default async function twoFactorRoutes (app: FastifyInstance): Promise<void> {
  const pageUrl = app.url(setupPath)

  async function showPage (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status = 200,
    recoveryCodes?: string[]): Promise<FastifyReply> {
    // The page carries the secret or the recovery codes: never cached.
    reply.header('Cache-Control', 'no-store')
    const status2fa = await app.twoFactor.status(request.agent.id)
    const desk = await app.deskSettings.current()
    const setup = status2fa.enabled ? undefined : await app.twoFactor.setup(request.agent, desk.name)
    // Only on the page itself: a form shown again after a wrong code carries nothing but text
    // (the agent has scanned the code by then; the key and a link back are there).
    const qr = setup && status === 200 ? await QRCode.toString(setup.uri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' }) : undefined
    return await reply.render('staff/two-factor', {
      agent: request.agent,
      state: status2fa,
      setup,
      // Made here from the otpauth address, never from anything typed: safe to include raw.
      qrSvg: qr?.replace('<svg ', '<svg role="img" aria-label="QR code for your authenticator app" '),
      required: request.session.twoFactorSetupDue === true,
      recoveryCodes,
      values: { code: '', password: '', ...values },
      errors,
      confirmSpec,
      disableSpec,
      flash: takeFlash(request, reply)
    }, { status })
  }

  app.get(setupPath, async (request, reply) => await showPage(request, reply, {}, {}))

  app.post(setupPath, formRoute(app, confirmSpec, { show: showPage }), async (request, reply) => {
    const { values, errors } = readForm(request, confirmSpec)
    if (hasErrors(errors)) return await showPage(request, reply, values, errors, 422)
    let codes: string[]
    try {
      codes = await app.twoFactor.confirm(request.agent, values.code)
    } catch (err) {
      if (!(err instanceof TesseraError) || err.code !== 'TESSERA_INVALID_INPUT') throw err
      return await showPage(request, reply, values, { code: err.message }, 422)
    }
    request.session.twoFactorSetupDue = undefined
    // Shown in this answer only: the codes are stored as hashes and cannot be shown again.
    return await showPage(request, reply, {}, {}, 201, codes)
  })

  app.post(`${setupPath}/removal`, formRoute(app, disableSpec, { show: showPage }), async (request, reply) => {
    const { values, errors } = readForm(request, disableSpec)
    if (hasErrors(errors)) return await showPage(request, reply, { code: values.code }, errors, 422)
    if (await app.twoFactor.isRequiredFor(request.agent)) {
      return await showPage(request, reply, { code: values.code }, { _form: 'This desk requires two-factor sign-in for you, so it cannot be turned off.' }, 422)
    }
    const refused = await app.twoFactor.disable(request.agent, values)
    if (refused) {
      return await showPage(request, reply, { code: values.code }, { [refused.field]: refused.error.message }, refused.error.code === 'TESSERA_RATE_LIMITED' ? 429 : 422)
    }
    setFlash(request, reply, 'Two-factor sign-in is off. Signing in takes only your password now.')
    return await reply.redirect(pageUrl, 303)
  })
}
