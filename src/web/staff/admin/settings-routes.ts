import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { deskTextLimits, parseDeskSettings, type DeskSettings, type DeskSettingsInput } from '../../../domain/desk-settings.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { timeZoneOptions } from '../../time-zone-options.js'
import { formRoute, hasErrors, readForm, type FieldErrors, type FormSpec } from '../../forms.js'

const settingsSpec = {
  name: { label: 'Desk name', missing: 'Enter a name for the desk.', maxLength: deskTextLimits.name },
  // Browsers send a textarea's line breaks as two characters; the setting counts one.
  intro: { label: 'Portal introduction', missing: '', maxLength: deskTextLimits.intro * 2, optional: true },
  siteUrl: { label: 'Your website', missing: '', maxLength: deskTextLimits.siteUrl, optional: true },
  reopenDays: { label: 'Reopen window', missing: 'Enter the reopen window in days.', maxLength: 12 },
  ticketsPerHour: { label: 'Tickets per hour', missing: 'Enter how many tickets one address may open per hour.', maxLength: 12 },
  signInsPer15Minutes: { label: 'Sign-ins per 15 minutes', missing: 'Enter how many sign-in attempts one address may make per 15 minutes.', maxLength: 12 },
  autoCloseDays: { label: 'Close resolved tickets after', missing: 'Enter the days, or 0 to never close by itself.', maxLength: 12 },
  reminderDays: { label: 'Remind the client after', missing: 'Enter the days, or 0 for no reminder.', maxLength: 12 },
  autoResolveDays: { label: 'Resolve after the reminder', missing: 'Enter the days, or 0 to never resolve by itself.', maxLength: 12 },
  surveyEnabled: { label: 'Satisfaction survey', missing: 'Choose whether the survey is sent.', maxLength: 5 },
  surveyDelayHours: { label: 'Survey delay', missing: 'Enter the delay in hours (0 for at once).', maxLength: 12 },
  timeZone: { label: 'Time zone', missing: 'Choose a time zone from the list.', maxLength: 64 },
  attachmentFileMb: { label: 'Largest file', missing: 'Enter the largest file in MB.', maxLength: 12 },
  attachmentMessageMb: { label: 'Largest total', missing: 'Enter the largest total of one message’s files in MB.', maxLength: 12 },
  attachmentFiles: { label: 'Most files', missing: 'Enter how many files one message may carry.', maxLength: 12 }
} satisfies FormSpec

function asForm (settings: DeskSettings): DeskSettingsInput {
  return {
    name: settings.name,
    intro: settings.intro,
    siteUrl: settings.siteUrl,
    reopenDays: String(settings.reopenDays),
    ticketsPerHour: String(settings.ticketsPerHour),
    signInsPer15Minutes: String(settings.signInsPer15Minutes),
    autoCloseDays: String(settings.autoCloseDays),
    reminderDays: String(settings.reminderDays),
    autoResolveDays: String(settings.autoResolveDays),
    surveyEnabled: String(settings.surveyEnabled),
    surveyDelayHours: String(settings.surveyDelayHours),
    timeZone: settings.timeZone,
    attachmentFileMb: String(settings.attachmentFileMb),
    attachmentMessageMb: String(settings.attachmentMessageMb),
    attachmentFiles: String(settings.attachmentFiles)
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
      ranges: app.deskSettings.ranges,
      defaults: app.deskSettings.defaults,
      timeZones: timeZoneOptions,
      flash: takeFlash(request, reply)
    }, { status })
  }

  app.get('/staff/admin/settings', async (request, reply) =>
    await showSettings(request, reply, asForm(await app.deskSettings.current()), {}))

  app.post('/staff/admin/settings', formRoute(app, settingsSpec, { show: showSettings }), async (request, reply) => {
    const { values, errors } = readForm(request, settingsSpec)
    if (hasErrors(errors)) return await showSettings(request, reply, values, errors, 422)
    const parsed = parseDeskSettings(values, app.deskSettings.ranges)
    if (!parsed.settings) return await showSettings(request, reply, values, parsed.errors as FieldErrors, 422)
    const { changed } = await app.deskSettings.update(request.agent, values)
    setFlash(request, reply, changed ? 'Settings saved. The portal shows them now.' : 'Nothing had changed.')
    return await reply.redirect(settingsUrl, 303)
  })
}
