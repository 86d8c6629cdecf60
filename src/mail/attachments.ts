import type { AttachmentStream } from 'mailparser'
import { cleanContentType, cleanFileName, fileSizeLabel } from '../attachments/names.js'
import type { FileStore, ReceivedFile, StoredFile } from '../attachments/store.js'
import type { AttachmentLimits } from '../domain/desk-settings.js'

const extensions: Record<string, string> = { 'image/png': '.png', 'image/jpeg': '.jpg', 'image/gif': '.gif', 'image/webp': '.webp', 'message/rfc822': '.eml', 'text/calendar': '.ics' }

/**
 * The attachments of one message as it is parsed (see parseMail's `onAttachment`): each
 * part is streamed into the file store's temporary folder as it arrives, so nothing is held
 * in memory but the part being read and the message is read once. `keep` moves them into
 * the store when the message becomes an entry; `discard` drops whatever was not kept, so a
 * machine's mail or a refused message leaves nothing on disk. Parts over the desk's limits
 * (the same as for the portal's forms) are not kept; `refusals` names each and says why.
 */
export function collectMailAttachments (store: FileStore, limits: AttachmentLimits) {
  const received: Array<{ file: ReceivedFile, stored: StoredFile }> = []
  const refusals: string[] = []
  const pending: Array<Promise<void>> = []
  let failed: unknown
  let kept = false
  let total = 0

  function onAttachment (data: AttachmentStream): void {
    const index = pending.length + 1
    pending.push((async () => {
      try {
        const contentType = cleanContentType(data.contentType)
        const contentId = data.contentId ? data.contentId.replace(/^<|>$/g, '').slice(0, 255) : null
        const inline = data.contentDisposition === 'inline' || (data.related === true && contentId !== null)
        const filename = data.filename ? cleanFileName(data.filename) : `${inline ? 'inline' : 'attachment'}-${index}${extensions[contentType] ?? ''}`
        // mailparser hands over one part at a time (each waits for release()), so the count and total are in order.
        if (index > limits.files) {
          data.content.resume()
          if (index === limits.files + 1) refusals.push(`Files after the first ${limits.files} were not kept (at most ${limits.files} files are kept from one message).`)
          return
        }
        const file = await store.receive(data.content, limits.fileBytes)
        if (file.tooLarge) {
          refusals.push(`“${filename}” (${fileSizeLabel(file.size)}) was not kept: larger than ${fileSizeLabel(limits.fileBytes)}, the limit for one file.`)
          return
        }
        if (total + file.size > limits.messageBytes) {
          await store.discard(file)
          refusals.push(`“${filename}” (${fileSizeLabel(file.size)}) was not kept: together the files would be larger than ${fileSizeLabel(limits.messageBytes)}.`)
          return
        }
        total += file.size
        received.push({
          file,
          stored: { sha256: file.sha256, size: file.size, filename, contentType, imageType: file.imageType, contentId, inline }
        })
      } catch (err) {
        failed ??= err
        data.content.resume()
      } finally {
        data.release?.()
      }
    })())
  }

  return {
    onAttachment,
    /** One sentence per part that was not kept, once every part has been read. */
    async refusals (): Promise<string[]> {
      await Promise.allSettled(pending)
      return refusals
    },
    /** Every part in the store, for the entry the message became. */
    async keep (): Promise<StoredFile[]> {
      await Promise.all(pending)
      if (failed !== undefined) throw failed
      for (const { file } of received) await store.keep(file)
      kept = true
      return received.map(({ stored }) => stored)
    },
    /** Drops the parts not kept (always safe to call once the message is handled). */
    async discard (): Promise<void> {
      await Promise.allSettled(pending)
      if (kept) return
      for (const { file } of received) await store.discard(file)
    }
  }
}
