import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { blockedPattern, blockedPatternMaxLength } from '../../../domain/blocked-senders.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { formRoute, hasErrors, idParam, readForm, type FieldErrors, type FormSpec } from '../../forms.js'

const blockSpec = {
  sender: {
    label: 'Address or domain',
    missing: 'Enter an e-mail address or a domain to block.',
    invalid: 'Enter an e-mail address like name@example.com or a domain like example.com.',
    maxLength: blockedPatternMaxLength
  }
} satisfies FormSpec

/** How much set-aside mail the page lists. */
const setAsideShown = 50

/** Blocked senders: block an address or a domain, see what they sent, unblock in one click. */
export default async function blockedSendersRoutes (app: FastifyInstance): Promise<void> {
  const pageUrl = app.url('/staff/admin/blocked-senders')

  async function showPage (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/blocked-senders', {
      agent: request.agent,
      blocked: await app.blockedSenders.list(),
      setAside: await app.blockedSenders.setAside(setAsideShown),
      values,
      errors,
      spec: blockSpec,
      flash: takeFlash(request, reply)
    }, { status })
  }

  app.get('/staff/admin/blocked-senders', async (request, reply) => await showPage(request, reply, { sender: '' }, {}))

  app.post('/staff/admin/blocked-senders', formRoute(app, blockSpec, { show: showPage }), async (request, reply) => {
    const { values, errors } = readForm(request, blockSpec)
    if (!errors.sender && blockedPattern(values.sender) === undefined) errors.sender = blockSpec.sender.invalid
    if (hasErrors(errors)) return await showPage(request, reply, values, errors, 422)
    const { pattern } = await app.blockedSenders.block(request.agent, values.sender)
    setFlash(request, reply, pattern.startsWith('@') ? `Mail from every address at ${pattern.slice(1)} is now set aside.` : `Mail from ${pattern} is now set aside.`)
    return await reply.redirect(pageUrl, 303)
  })

  app.post('/staff/admin/blocked-senders/:id/removal', { preValidation: app.csrfProtection }, async (request, reply) => {
    const pattern = await app.blockedSenders.unblock(request.agent, idParam(request, 'That blocked sender'))
    setFlash(request, reply, pattern === undefined ? 'That sender was not blocked.' : `${pattern.startsWith('@') ? pattern.slice(1) : pattern} is no longer blocked.`)
    return await reply.redirect(pageUrl, 303)
  })
}
