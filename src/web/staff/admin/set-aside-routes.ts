import { createReadStream } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { contentDisposition } from '../../../attachments/names.js'
import { findSetAside, listSetAside, type SetAsideKind } from '../../../data/set-aside.js'
import { notFound } from '../../../domain/errors.js'
import { idParam, parseId } from '../../forms.js'

const pageSize = 50
const kinds: SetAsideKind[] = ['unprocessable', 'automated', 'blocked']

/**
 * Mail set aside: messages that became no ticket and no reply, with the reason. Those that
 * can never be processed (the mail server was told so and bounced them) and those a machine
 * wrote (auto-replies, bounces, abuse reports), and mail from blocked senders, one list at
 * a time, newest first.
 */
export default async function setAsideRoutes (app: FastifyInstance): Promise<void> {
  app.get<{ Querystring: Record<string, string | undefined> }>('/staff/admin/mail', async (request, reply) => {
    const kind = kinds.find((k) => k === request.query.kind) ?? 'unprocessable'
    const rows = await listSetAside(app.db, kind, parseId(request.query.before), pageSize + 1)
    const shown = rows.slice(0, pageSize)
    const last = shown.at(-1)
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/set-aside', {
      agent: request.agent,
      kind,
      rows: shown,
      nextUrl: rows.length > pageSize && last ? app.url(`/staff/admin/mail?kind=${kind}&before=${last.id}`) : undefined
    })
  })

  /** The message as it arrived (or its start, when it was longer than the desk keeps), as a download. */
  app.get('/staff/admin/mail/:id/message', async (request, reply) => {
    const row = await findSetAside(app.db, idParam(request, 'That message'))
    if (!row?.raw_sha256 || !await app.fileStore.exists(row.raw_sha256)) throw notFound('That message')
    return await reply
      .header('Content-Type', 'message/rfc822')
      .header('Content-Disposition', contentDisposition('attachment', `${row.subject ?? `message ${row.id}`}${row.raw_cut ? ' (start)' : ''}.eml`))
      .header('Content-Length', String(row.raw_size))
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'private, no-cache')
      .header('Content-Security-Policy', "default-src 'none'; sandbox")
      .send(createReadStream(app.fileStore.pathOf(row.raw_sha256)))
  })
}
