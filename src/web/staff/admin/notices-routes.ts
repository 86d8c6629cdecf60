import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { OutboxRow } from '../../../data/outbox.js'
import { notFound } from '../../../domain/errors.js'
import { createNoticeSettings, isSwitchableNotice } from '../../../domain/notice-settings.js'
import { notices, type NoticeTemplate } from '../../../domain/notices.js'
import { composeMail } from '../../../mail/compose.js'
import { setFlash, takeFlash } from '../../cookies.js'

interface SwitchBody { enabled?: string }

/** Made-up values every preview is rendered with; the link token is visibly not a real one. */
const samplePayload = {
  number: '482913',
  subject: 'Printer jams on page two',
  name: 'Grace Hopper',
  requesterName: 'Grace Hopper',
  agentName: 'Ada Lovelace',
  body: 'Thanks for the details. We replaced the feed roller; please try printing again.',
  message: 'The second page always jams, whatever the paper.',
  from: '482777',
  days: 3,
  targetLabel: 'First response',
  dueAt: '2026-11-30 09:00 UTC',
  comment: 'The printer still jams on page two.'
}
const sampleToken = 'SAMPLE-PRIVATE-LINK'

/** Every notice with its recipients, an on/off switch and a preview from the real templates. */
export default async function noticesRoutes (app: FastifyInstance): Promise<void> {
  const noticeSettings = createNoticeSettings(app.db, { now: app.lifecycle.now })
  const noticesUrl = app.url('/staff/admin/notices')

  function preview (template: NoticeTemplate, deskName: string): { to: string, subject: string, text: string } {
    const forAgent = notices[template].audience === 'agent'
    const aboutTicket = !['password_reset', 'invitation', 'test_message'].includes(template)
    const row: OutboxRow = {
      id: 0,
      template,
      to_address: forAgent ? 'agent@example.com' : 'grace@example.com',
      ticket_id: aboutTicket ? 1 : null,
      payload: JSON.stringify(aboutTicket ? samplePayload : { name: forAgent ? samplePayload.agentName : samplePayload.name }),
      status: 'queued',
      attempts: 0,
      next_attempt_at: 0,
      created_at: 0,
      sent_at: null,
      last_error: null,
      lease_owner: null,
      message_id: null
    }
    const mail = composeMail(row, { absoluteUrl: app.absoluteUrl, productName: deskName, secret: 'preview' },
      { messageId: '<preview@example.com>', references: [] }, { linkToken: notices[template].link === null ? undefined : sampleToken, surveyToken: sampleToken })
    return { to: mail.to, subject: mail.subject, text: mail.text }
  }

  async function showNotices (request: FastifyRequest, reply: FastifyReply, problem?: string): Promise<FastifyReply> {
    const desk = await app.deskSettings.current()
    const list = (await noticeSettings.list()).map((notice) => ({ ...notice, preview: preview(notice.template, desk.name) }))
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/notices', { agent: request.agent, notices: list, problem, flash: takeFlash(request, reply) }, { status: problem ? 422 : 200 })
  }

  app.get('/staff/admin/notices', async (request, reply) => await showNotices(request, reply))

  app.post<{ Params: { template: string }, Body: SwitchBody }>('/staff/admin/notices/:template', {
    schema: { body: { type: 'object', properties: { _csrf: { type: 'string' }, enabled: { type: 'string', enum: ['on', 'off'] } }, required: ['enabled'] } },
    attachValidation: true,
    preValidation: app.csrfProtection
  }, async (request, reply) => {
    const { template } = request.params
    if (!isSwitchableNotice(template)) throw notFound('That notice')
    if (request.validationError) return await showNotices(request, reply, 'That form could not be read, so nothing was changed. Please use the buttons below.')
    const enabled = request.body.enabled === 'on'
    const changed = await noticeSettings.setEnabled(request.agent, template, enabled)
    setFlash(request, reply, changed ? `The ${template} notice is now ${enabled ? 'on' : 'off'}.` : `The ${template} notice was already ${enabled ? 'on' : 'off'}.`)
    return await reply.redirect(`${noticesUrl}#notice-${template}`, 303)
  })
}
