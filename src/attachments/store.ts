import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { chmod, link, mkdir, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { imageTypeOf, type ImageType } from './sniff.js'

/** A file written to the store's temporary folder, not yet kept. */
export interface ReceivedFile {
  tmpPath: string
  sha256: string
  size: number
  /** What the first bytes say the file is, whatever its name claims. */
  imageType: ImageType | null
  /** More than `maxBytes` arrived; nothing was kept. */
  tooLarge: boolean
}

/** A file in the store, as a thread entry's attachment row describes it. */
export interface StoredFile {
  sha256: string
  size: number
  filename: string
  contentType: string
  imageType: ImageType | null
  contentId: string | null
  inline: boolean
}

export type FileStore = ReturnType<typeof createFileStore>

const sha256Pattern = /^[0-9a-f]{64}$/

/**
 * Content-addressed files under one folder: `ab/abcdef…` named by SHA-256, readable by the
 * desk's user alone (files 600, folders 700). Several instances may share the folder (an
 * NFS mount, say): a file appears by link(2) from a temporary name, which is atomic and
 * never overwrites, so concurrent writers of the same bytes end with one complete file.
 */
export function createFileStore (root: string) {
  const tmpDir = join(root, 'tmp')
  let ready: Promise<void> | undefined
  const prepare = async (): Promise<void> => {
    ready ??= mkdir(tmpDir, { recursive: true, mode: 0o700 }).then(() => undefined)
    await ready
  }

  function pathOf (sha256: string): string {
    if (!sha256Pattern.test(sha256)) throw new Error('not a SHA-256')
    return join(root, sha256.slice(0, 2), sha256)
  }

  return {
    root,
    pathOf,

    /**
     * Streams `source` into a temporary file, hashing it on the way; past `maxBytes` the
     * rest is read and dropped, and the file is deleted. Memory stays at one chunk.
     */
    async receive (source: Readable, maxBytes: number): Promise<ReceivedFile> {
      await prepare()
      const tmpPath = join(tmpDir, randomBytes(16).toString('hex'))
      const hash = createHash('sha256')
      const out = createWriteStream(tmpPath, { mode: 0o600, flags: 'wx' })
      // A full disk fails the write; the error is thrown below, never left unhandled.
      let writeError: Error | undefined
      out.on('error', (err) => { writeError = err })
      let size = 0
      let head = Buffer.alloc(0)
      let tooLarge = false
      try {
        for await (const chunk of source) {
          const bytes = chunk as Buffer
          size += bytes.length
          if (size > maxBytes) { tooLarge = true; continue }
          if (head.length < 16) head = Buffer.concat([head, bytes.subarray(0, 16)])
          hash.update(bytes)
          if (writeError) throw writeError
          if (!out.write(bytes)) await new Promise<void>((resolve) => { out.once('drain', resolve); out.once('error', () => { resolve() }) })
        }
        // A stream cut short by a size limit upstream (busboy) says so this way.
        if ((source as Readable & { truncated?: boolean }).truncated === true) tooLarge = true
        if (writeError) throw writeError
        await new Promise<void>((resolve, reject) => { out.end((err?: Error | null) => { if (err ?? writeError) reject(err ?? writeError); else resolve() }) })
      } catch (err) {
        out.destroy()
        await rm(tmpPath, { force: true })
        throw err
      }
      if (tooLarge) await rm(tmpPath, { force: true })
      return { tmpPath, sha256: hash.digest('hex'), size, imageType: imageTypeOf(head), tooLarge }
    },

    /** Moves a received file to its content address (or drops it when those bytes are there already). */
    async keep (file: ReceivedFile): Promise<void> {
      const target = pathOf(file.sha256)
      await mkdir(join(root, file.sha256.slice(0, 2)), { recursive: true, mode: 0o700 })
      try {
        await link(file.tmpPath, target)
        await chmod(target, 0o600)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      await rm(file.tmpPath, { force: true })
    },

    /** Deletes a received file that will not be kept; calm when it is gone already. */
    async discard (file: Pick<ReceivedFile, 'tmpPath'>): Promise<void> {
      await rm(file.tmpPath, { force: true })
    },

    async exists (sha256: string): Promise<boolean> {
      return await stat(pathOf(sha256)).then(() => true, () => false)
    },

    /** Deletes stored files; the caller has checked that no attachment row names them. */
    async remove (sha256s: readonly string[]): Promise<void> {
      for (const sha of sha256s) await unlink(pathOf(sha)).catch(() => undefined)
    }
  }
}
