import { createReadStream } from 'node:fs'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { contentDisposition } from '../attachments/names.js'
import { imageContentTypes } from '../attachments/sniff.js'
import type { AttachmentRow } from '../data/attachments.js'
import { notFound } from '../domain/errors.js'
import { parseId } from './forms.js'

/** The `:file` of a download's path as an attachment id; anything else is not found. */
export function fileParam (request: FastifyRequest): number {
  const id = parseId((request.params as { file?: unknown } | undefined)?.file)
  if (id === undefined) throw notFound('That file')
  return id
}

/**
 * Sends one stored file. Always a download, typed as bytes, so no browser runs or renders
 * it; `inline` shows an image in place only when its bytes are PNG, JPEG, GIF or WebP.
 */
export async function sendAttachment (request: FastifyRequest, reply: FastifyReply, file: AttachmentRow | undefined, inline: boolean): Promise<FastifyReply> {
  if (!file) throw notFound('That file')
  const path = request.server.fileStore.pathOf(file.sha256)
  if (!await request.server.fileStore.exists(file.sha256)) throw notFound('That file')
  const shown = inline && file.image_type !== null
  reply
    .header('Content-Disposition', contentDisposition(shown ? 'inline' : 'attachment', file.filename))
    .header('Content-Type', shown ? imageContentTypes[file.image_type!] : 'application/octet-stream')
    .header('Content-Length', String(file.size))
    .header('X-Content-Type-Options', 'nosniff')
    .header('Cache-Control', 'private, no-cache')
    // A file is never a page: no script, no plugin, nothing it loads.
    .header('Content-Security-Policy', "default-src 'none'; sandbox")
  return await reply.send(createReadStream(path))
}
