import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { deskNumberRanges, deskTextLimits, parseDeskSettings, type DeskSettings, type DeskSettingsInput } from '../../../domain/desk-settings.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { formRoute, hasErrors, readForm, type FieldErrors, type FormSpec } from '../../forms.js'

const settingsSpec = {
  name: { label: 'Desk name', missing: 'Enter a name for the desk.', maxLength: deskTextLimits.name },
  // Browsers send a textarea's line breaks as two characters; the setting counts one.
  intro: { label: 'Portal introduction', missing: '', maxLength: deskTextLimits.intro * 2, optional: true },
  siteUrl: { label: 'Your website', missing: '', maxLength: deskTextLimits.siteUrl, optional: true },
  reopenDays: { label: 'Reopen window', missing: 'Enter the reopen window in days.', maxLength: 12 },
  ticketsPerHour: { label: 'Tickets per hour', missing: 'Enter how many tickets one address may open per hour.', maxLength: 12 },
  signInsPer15Minutes: { label: 'Sign-ins per 15 minutes', missing: 'Enter how many sign-in attempts one address may make per 15 minutes.', maxLength: 12 }
} satisfies FormSpec

function asForm (settings: DeskSettings): DeskSettingsInput {
  return {
    name: settings.name,
    intro: settings.intro,
    siteUrl: settings.siteUrl,
    reopenDays: String(settings.reopenDays),
    ticketsPerHour: String(settings.ticketsPerHour),
    signInsPer15Minutes: String(settings.signInsPer15Minutes)
  }
}

/** The desk's name, portal text, reopen window and rate limits at /staff/admin/settings. */
export default async function settingsRoutes (app: FastifyInstance): Promise<void> {
  const settingsUrl = app.url('/staff/admin/settings')

  async function showSettings (request: FastifyRequest, reply: FastifyReply, values: DeskSettingsInput, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/settings', {
      agent: request.agent,
      values,
      errors,
      spec: settingsSpec,
      ranges: deskNumberRanges,
      defaults: app.deskSettings.defaults,
      flash: takeFlash(request, reply)
    }, { status })
  }

  app.get('/staff/admin/settings', async (request, reply) =>
    await showSettings(request, reply, asForm(await app.deskSettings.current()), {}))

  app.post('/staff/admin/settings', formRoute(app, settingsSpec, { show: showSettings }), async (request, reply) => {
    const { values, errors } = readForm(request, settingsSpec)
    if (hasErrors(errors)) return await showSettings(request, reply, values, errors, 422)
    const parsed = parseDeskSettings(values)
    if (!parsed.settings) return await showSettings(request, reply, values, parsed.errors as FieldErrors, 422)
    const { changed } = await app.deskSettings.update(request.agent, values)
    setFlash(request, reply, changed ? 'Settings saved. The portal shows them now.' : 'Nothing had changed.')
    return await reply.redirect(settingsUrl, 303)
  })
}
