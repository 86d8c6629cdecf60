import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isTwoFactorRequirement, twoFactorRequirements } from '../../../domain/two-factor.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { formRoute, hasErrors, idParam, readForm, type FieldErrors, type FormSpec } from '../../forms.js'

const requirementSpec = {
  required: { label: 'Required for', missing: 'Choose who must use two-factor sign-in.', invalid: 'Choose one of the options listed.', maxLength: 16 }
} satisfies FormSpec

/** Who must use two-factor sign-in, who does, and a reset for an agent who lost their phone. */
export default async function twoFactorAdminRoutes (app: FastifyInstance): Promise<void> {
  const pageUrl = app.url('/staff/admin/two-factor')

  async function showPage (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/two-factor', {
      agent: request.agent,
      agents: await app.twoFactor.list(),
      options: Object.entries(twoFactorRequirements).map(([value, label]) => ({ value, label })),
      values,
      errors,
      flash: takeFlash(request, reply)
    }, { status })
  }

  app.get('/staff/admin/two-factor', async (request, reply) => await showPage(request, reply, { required: await app.twoFactor.requirement() }, {}))

  app.post('/staff/admin/two-factor', formRoute(app, requirementSpec, { show: showPage }), async (request, reply) => {
    const { values, errors } = readForm(request, requirementSpec)
    if (!errors.required && !isTwoFactorRequirement(values.required)) errors.required = requirementSpec.required.invalid
    if (hasErrors(errors)) return await showPage(request, reply, values, errors, 422)
    await app.twoFactor.setRequirement(request.agent, values.required)
    setFlash(request, reply, 'Saved. Agents it applies to set up two-factor sign-in the next time they sign in.')
    return await reply.redirect(pageUrl, 303)
  })

  app.post('/staff/admin/two-factor/:id/removal', { preValidation: app.csrfProtection }, async (request, reply) => {
    const reset = await app.twoFactor.reset(request.agent, idParam(request, 'That agent'))
    setFlash(request, reply, reset ? 'Two-factor sign-in is off for that agent; they can set it up again.' : 'That agent had no two-factor sign-in.')
    return await reply.redirect(pageUrl, 303)
  })
}
