import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { apiKeyNameMaxLength, apiKeyScopes, isApiKeyScope } from '../../../domain/api-keys.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { formRoute, hasErrors, parseId, readForm, type FieldErrors, type FormSpec } from '../../forms.js'

const keySpec = {
  name: { label: 'Name', missing: 'Give the key a name, e.g. the system that will use it.', maxLength: apiKeyNameMaxLength },
  scope: { label: 'Used for', missing: 'Choose what the key may be used for.', maxLength: 32 }
} satisfies FormSpec

/** API keys for integrations: created (shown once), listed with their last use, revoked. */
export default async function apiKeysRoutes (app: FastifyInstance): Promise<void> {
  const keysUrl = app.url('/staff/admin/api-keys')

  async function showKeys (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status = 200, newKey?: { name: string, key: string }): Promise<FastifyReply> {
    // A page showing a new key must not stay in any cache.
    reply.header('Cache-Control', newKey ? 'no-store' : 'private, no-cache')
    return await reply.render('staff/admin/api-keys', {
      agent: request.agent,
      keys: await app.apiKeys.list(),
      scopes: apiKeyScopes,
      values,
      errors,
      spec: keySpec,
      newKey,
      flash: takeFlash(request, reply)
    }, { status })
  }

  app.get('/staff/admin/api-keys', async (request, reply) => await showKeys(request, reply, { name: '', scope: 'mail_intake' }, {}))

  app.post('/staff/admin/api-keys', formRoute(app, keySpec, { show: showKeys }), async (request, reply) => {
    const { values, errors } = readForm(request, keySpec)
    if (!errors.scope && !isApiKeyScope(values.scope)) errors.scope = 'Choose one of the uses listed.'
    if (hasErrors(errors)) return await showKeys(request, reply, values, errors, 422)
    const { key } = await app.apiKeys.create(request.agent, values)
    // Shown in this answer only: a redirect would have to carry the key in a cookie or URL.
    return await showKeys(request, reply, { name: '', scope: 'mail_intake' }, {}, 201, { name: values.name.trim(), key })
  })

  app.post<{ Params: { id: string } }>('/staff/admin/api-keys/:id/revocation', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = parseId(request.params.id) ?? 0
    const revoked = await app.apiKeys.revoke(request.agent, id)
    setFlash(request, reply, revoked ? 'The key is revoked; requests with it are refused from now on.' : 'That key was already revoked.')
    return await reply.redirect(keysUrl, 303)
  })
}
