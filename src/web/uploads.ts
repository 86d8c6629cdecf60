import fp from 'fastify-plugin'
import fastifyMultipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import { cleanContentType, cleanFileName, fileSizeLabel } from '../attachments/names.js'
import type { FileStore, ReceivedFile, StoredFile } from '../attachments/store.js'
import { formRoute, type FormRouteOptions, type FormSpec } from './forms.js'

export interface UploadLimits {
  fileBytes: number
  messageBytes: number
  files: number
}

/** A file that arrived with a form, in the store's temporary folder until the form succeeds. */
export interface UploadedFile extends ReceivedFile {
  filename: string
  contentType: string
}

export interface Uploads {
  files: UploadedFile[]
  /** One sentence per file that was refused, naming it and why. */
  refusals: string[]
}

declare module 'fastify' {
  interface FastifyInstance {
    fileStore: FileStore
    /** Reads a multipart form: fields become the body, files go to disk (never whole in memory). */
    readUploads: preValidationAsyncHookHandler
  }
  interface FastifyRequest {
    uploads: Uploads
  }
}

/** Field text the form may hold at most (a message is 20,000 characters of up to 4 bytes). */
const maxFieldBytes = 100_000

/**
 * Browsers write `"`, CR and LF in a file name as %22, %0D and %0A (the HTML standard's
 * multipart encoding); anything else arrives as typed, in UTF-8.
 */
function browserFileName (raw: string): string {
  return raw.replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n')
}

export default fp(async function uploads (app: FastifyInstance, { store, limits }: { store: FileStore, limits: () => Promise<UploadLimits> }) {
  app.decorate('fileStore', store)
  // Parsing happens in readUploads, per route; the plugin only teaches Fastify the type.
  await app.register(fastifyMultipart, { throwFileSizeLimit: false })
  app.decorateRequest('uploads', null as unknown as Uploads)

  // Only the forms that take files read multipart bodies; elsewhere one is refused as
  // before the parser existed (415), rather than arriving with no fields at all.
  app.addHook('preValidation', async (request) => {
    if (request.isMultipart() && request.routeOptions.config.takesFiles !== true) {
      throw Object.assign(new Error('That kind of content is not accepted here.'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' })
    }
  })

  app.decorate('readUploads', async function readUploads (request: FastifyRequest): Promise<void> {
    const received: Uploads = { files: [], refusals: [] }
    request.uploads = received
    if (!request.isMultipart()) return
    const limit = await limits()
    const fields: Record<string, string | string[]> = Object.create(null)
    let total = 0
    let countRefused = false
    try {
      const parts = request.parts({
        // The name is only ever shown, so it is kept as sent, directories and all.
        preservePath: true,
        // One file past the limit still arrives, so the refusal can name it.
        limits: { fileSize: limit.fileBytes, files: limit.files + 1, fields: 50, fieldSize: maxFieldBytes, parts: limit.files + 51 }
      })
      for await (const part of parts) {
        if (part.type === 'field') {
          if (typeof part.value !== 'string' || part.fieldname in Object.prototype) continue
          const previous = fields[part.fieldname]
          fields[part.fieldname] = previous === undefined ? part.value : [previous, part.value].flat()
          continue
        }
        // An empty file input still sends one nameless part: nothing to keep, nothing to write.
        if (part.filename === '') { part.file.resume(); continue }
        const name = cleanFileName(browserFileName(part.filename))
        if (received.files.length >= limit.files) {
          part.file.resume()
          if (!countRefused) received.refusals.push(`“${name}” was not added: at most ${limit.files} files can be sent at once.`)
          countRefused = true
          continue
        }
        const file = await app.fileStore.receive(part.file, limit.fileBytes)
        if (file.tooLarge) {
          received.refusals.push(`“${name}” is larger than ${fileSizeLabel(limit.fileBytes)}, the limit for one file.`)
          continue
        }
        if (total + file.size > limit.messageBytes) {
          await app.fileStore.discard(file)
          received.refusals.push(`“${name}” was not added: together the files would be larger than ${fileSizeLabel(limit.messageBytes)}.`)
          continue
        }
        total += file.size
        received.files.push({ ...file, filename: name, contentType: cleanContentType(part.mimetype) })
      }
    } catch (err) {
      request.log.info({ err }, 'multipart form could not be read')
      received.refusals.push('The files could not be read completely. Please choose them again.')
    }
    request.body = fields
  })

  // Whatever the answer, files a request did not keep leave the temporary folder: before
  // the answer goes out, and once more when it is done (a client that went away).
  const discardAll = async (request: FastifyRequest): Promise<void> => {
    for (const file of request.uploads?.files ?? []) await app.fileStore.discard(file)
  }
  app.addHook('onSend', async (request) => { await discardAll(request) })
  app.addHook('onResponse', discardAll)
}, { name: 'uploads' })

/** A form route whose form may carry files: the files are read (to disk) before the CSRF check. */
export function uploadFormRoute<S extends FormSpec> (app: FastifyInstance, spec: S, options: FormRouteOptions<S>) {
  const route = formRoute(app, spec, options)
  return { ...route, config: { ...route.config, takesFiles: true }, preValidation: [app.readUploads, route.preValidation] }
}

/** The limits as the file field's hint tells them. */
export function uploadLimitsShown (limits: UploadLimits): { files: number, file: string, message: string } {
  return { files: limits.files, file: fileSizeLabel(limits.fileBytes), message: fileSizeLabel(limits.messageBytes) }
}

/** The refusals as the message shown beside the file field, or undefined when all is well. */
export function uploadError (request: FastifyRequest): string | undefined {
  const { refusals } = request.uploads
  return refusals.length > 0 ? `${refusals.join(' ')} Your text is kept; choose the files again.` : undefined
}

/** Moves the request's files into the store; they are then attachments-to-be of one entry. */
export async function keepUploads (request: FastifyRequest): Promise<StoredFile[]> {
  const kept: StoredFile[] = []
  for (const file of request.uploads.files) {
    await request.server.fileStore.keep(file)
    kept.push({ sha256: file.sha256, size: file.size, filename: file.filename, contentType: file.contentType, imageType: file.imageType, contentId: null, inline: false })
  }
  return kept
}
