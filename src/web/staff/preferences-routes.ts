import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { queueNames } from '../../data/queues.js'
import { agentEmailMaxLength, agentNameMaxLength } from '../../domain/admin/agents.js'
import {
  createPreferences, defaultRowsPerPage, parsePreferences, PreferenceInputError, rowsPerPageRange, type PreferencesInput
} from '../../domain/preferences.js'
import { signatureMaxLength, signatureOptions } from '../../domain/signatures.js'
import { dateStyleLabels, dateStyles } from '../../domain/time-format.js'
import { setFlash, takeFlash } from '../cookies.js'
import { formRoute, hasErrors, readForm, type FieldErrors, type FormSpec } from '../forms.js'
import { timeZoneOptions } from '../time-zone-options.js'
import { queueLabels } from './queue-routes.js'

const preferencesSpec = {
  name: { label: 'Name', missing: 'Enter your name.', maxLength: agentNameMaxLength * 4 },
  email: { label: 'E-mail address', missing: 'Enter your e-mail address.', maxLength: agentEmailMaxLength },
  currentPassword: { label: 'Current password', missing: '', maxLength: 1024, optional: true },
  newPassword: { label: 'New password', missing: '', maxLength: 1024, optional: true },
  confirmPassword: { label: 'New password again', missing: '', maxLength: 1024, optional: true },
  // Browsers send a textarea's line breaks as two characters; the signature counts one.
  signature: { label: 'Signature', missing: '', maxLength: signatureMaxLength * 2, optional: true },
  defaultSignature: { label: 'Signature on replies', missing: 'Choose my signature, the department’s or none.', maxLength: 16 },
  defaultQueue: { label: 'Queue after sign-in', missing: '', maxLength: 32, optional: true },
  rowsPerPage: { label: 'Rows per page', missing: '', maxLength: 12, optional: true },
  timeZone: { label: 'Time zone', missing: '', maxLength: 64, optional: true },
  dateStyle: { label: 'Date style', missing: '', maxLength: 16, optional: true },
  awayUntil: { label: 'Away until', missing: '', maxLength: 32, optional: true }
} satisfies FormSpec

const passwordFields = ['currentPassword', 'newPassword', 'confirmPassword'] as const

/** An agent's own settings at /staff/preferences: who they are, how the panel looks to them, and when they are away. */
export default async function preferencesRoutes (app: FastifyInstance): Promise<void> {
  const deskZone = async (): Promise<string> => (await app.deskSettings.current()).timeZone
  const preferences = createPreferences(app.db, { now: app.lifecycle.now, deskZone })
  const preferencesUrl = app.url('/staff/preferences')

  async function showPreferences (request: FastifyRequest, reply: FastifyReply, values: PreferencesInput, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    // A password is never sent back into a page.
    for (const field of passwordFields) values[field] = ''
    return await reply.render('staff/preferences', {
      agent: request.agent,
      values,
      errors,
      spec: preferencesSpec,
      deskZone: await deskZone(),
      timeZones: timeZoneOptions,
      dateStyles: dateStyles.map((style) => ({ value: style === 'iso' ? '' : style, label: dateStyleLabels[style] })),
      queues: queueNames.map((name) => ({ value: name, label: queueLabels[name] })),
      rowsPerPageRange,
      signatureOptions,
      defaultRowsPerPage,
      flash: takeFlash(request, reply)
    }, { status })
  }

  app.get('/staff/preferences', async (request, reply) =>
    await showPreferences(request, reply, await preferences.formValues(request.agent.id), {}))

  app.post('/staff/preferences', formRoute(app, preferencesSpec, { show: showPreferences }), async (request, reply) => {
    const { values, errors } = readForm(request, preferencesSpec)
    if (hasErrors(errors)) return await showPreferences(request, reply, values, errors, 422)
    const parsed = parsePreferences(values, await deskZone(), app.lifecycle.now())
    if (!parsed.preferences) return await showPreferences(request, reply, values, parsed.errors as FieldErrors, 422)
    try {
      const { changed, otherSessionsEnded } = await preferences.update(request.agent, values, request.session.sessionId)
      const signedOut = otherSessionsEnded === 0 ? '' : ` With the new password, you were signed out on ${otherSessionsEnded === 1 ? 'one other device' : `${otherSessionsEnded} other devices`}.`
      setFlash(request, reply, changed ? `Preferences saved.${signedOut}` : 'Nothing had changed.')
    } catch (err) {
      if (!(err instanceof PreferenceInputError)) throw err
      return await showPreferences(request, reply, values, { [err.field]: err.message }, 422)
    }
    return await reply.redirect(preferencesUrl, 303)
  })
}
