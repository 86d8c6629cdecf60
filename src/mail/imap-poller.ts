import type { FastifyBaseLogger } from 'fastify'
import type { ImapFlow, ImapFlowOptions } from 'imapflow'
import { repeatEvery } from '../jobs/repeat.js'
import { RetryLater, type InboundResult } from './inbound.js'

export interface ImapPollerOptions {
  /** imaps://user:pass@host[:993] or imap://user:pass@host[:143]; user and password percent-encoded. */
  url: string
  /** Folder names use '/' between levels; it becomes the server's own separator. */
  folder: string
  processedFolder: string
  failedFolder: string
  intervalMs: number
  log: FastifyBaseLogger
  /** The inbound pipeline: resolves with what became of a message, rejects when it failed. */
  receive: (raw: Buffer) => Promise<InboundResult>
}

export interface ImapPassCounts {
  /** Unseen messages in the folder when the pass began. */
  found: number
  /** Handed over and moved to the processed folder, whatever became of them. */
  processed: number
  /** The pipeline failed on them: moved to the failed folder. */
  failed: number
  /** Left in the folder for the next pass. */
  deferred: number
}

/** The connection part of IMAP_URL. Errors never quote the URL: it holds a password. */
export function imapConnection (url: string): Required<Pick<ImapFlowOptions, 'host' | 'port' | 'secure' | 'auth'>> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new Error('IMAP_URL is not a valid URL')
  }
  const secure = parsed.protocol === 'imaps:'
  if (!secure && parsed.protocol !== 'imap:') throw new Error('IMAP_URL must start with imaps:// or imap://')
  if (!parsed.username || !parsed.hostname) throw new Error('IMAP_URL needs a user name and a host')
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 993 : 143,
    secure,
    auth: { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }
  }
}

/** 'Tessera/Processed' as path segments, which imapflow joins with the server's separator. */
function segments (folder: string): string[] {
  return folder.split('/').filter(Boolean)
}

/** How long stop() waits for a pass to end on its own before cutting the connection. */
const stopGraceMs = 5_000

const noCounts = (): ImapPassCounts => ({ found: 0, processed: 0, failed: 0, deferred: 0 })

/**
 * Turns a mailbox into tickets: every pass connects, takes the folder's unseen messages one
 * at a time, hands each to the pipeline and moves it out of the way, so the folder only ever
 * holds mail still to do. Several instances may poll one mailbox: the pipeline ignores a
 * Message-ID it has seen, and moving a message someone else moved already does nothing.
 */
export function createImapPoller (options: ImapPollerOptions) {
  const connection = imapConnection(options.url)
  const log = options.log.child({ component: 'imap' })
  // imapflow is chatty; what matters is logged below with the message it concerns.
  const imapLog = {
    debug: (entry: unknown) => { log.trace(entry) },
    info: (entry: unknown) => { log.debug(entry) },
    warn: (entry: unknown) => { log.debug(entry) },
    error: (entry: unknown) => { log.warn(entry) }
  }
  // Passes run one after the other, never side by side.
  let chain: Promise<unknown> = Promise.resolve()
  let client: ImapFlow | undefined
  let connecting = false

  /** Moves one message by UID; true when it has left the folder (or had left already). */
  async function move (imap: ImapFlow, uid: number, folder: string): Promise<boolean> {
    const destination = segments(folder)
    // A UID that is gone (another instance moved it) is no error: the server answers OK.
    if (await imap.messageMove(String(uid), destination, { uid: true }) !== false) return true
    // Most likely the folder does not exist yet (TRYCREATE). Creating an existing one fails
    // harmlessly, and so does a race with another instance creating it.
    await imap.mailboxCreate(destination).catch(() => undefined)
    if (await imap.messageMove(String(uid), destination, { uid: true }) !== false) return true
    const left = await imap.search({ uid: String(uid) }, { uid: true })
    return left !== false && left !== undefined && left.length === 0
  }

  async function pass (): Promise<ImapPassCounts> {
    const counts = noCounts()
    if (loop.stopped) return counts
    // Loaded on the first pass: an instance without IMAP_URL never loads imapflow.
    const { ImapFlow } = await import('imapflow')
    const imap = new ImapFlow({
      ...connection,
      logger: imapLog,
      disableAutoIdle: true,
      connectionTimeout: 30_000,
      greetingTimeout: 15_000
    })
    // Without a listener an 'error' event would take the process down.
    imap.on('error', (err: unknown) => { log.debug({ err }, 'IMAP connection error') })
    client = imap
    try {
      connecting = true
      try {
        await imap.connect()
      } finally {
        connecting = false
      }
      const lock = await imap.getMailboxLock(segments(options.folder))
      try {
        const uids = await imap.search({ seen: false, deleted: false }, { uid: true })
        const todo = (uids === false || uids === undefined ? [] : uids).sort((a, b) => a - b)
        counts.found = todo.length
        const rejected: Array<{ uid: number, messageId?: string, err: unknown }> = []
        let accepted = 0
        for (const uid of todo) {
          if (loop.stopped) break
          // Fetched with BODY.PEEK: a message left behind stays unseen and comes round again.
          const message = await imap.fetchOne(String(uid), { uid: true, source: true, envelope: true }, { uid: true })
          if (message === false || !message.source) continue // moved meanwhile by another instance
          const messageId = message.envelope?.messageId
          let result: InboundResult
          try {
            result = await options.receive(message.source)
          } catch (err) {
            // Another instance is processing it right now, or this one is busy: next pass.
            if (err instanceof RetryLater) {
              log.info({ uid, messageId, reason: err.message }, 'mail from IMAP left for the next pass')
              counts.deferred++
            } else {
              rejected.push({ uid, messageId, err })
            }
            continue
          }
          accepted++
          log.info({ uid, messageId, ...result }, 'mail from IMAP')
          if (await move(imap, uid, options.processedFolder)) {
            counts.processed++
          } else {
            // Comes round again next pass, where the pipeline recognises it as a duplicate.
            log.warn({ uid, messageId, folder: options.processedFolder }, 'could not move a processed message; trying again next pass')
            counts.deferred++
          }
        }
        if (rejected.length > 0 && accepted === 0) {
          // Not one message went through: the fault is most likely not theirs but ours (the
          // database is down, say), and the pipeline asks for them to be delivered again.
          for (const { uid, messageId, err } of rejected) log.error({ err, uid, messageId }, 'mail from IMAP failed; trying again next pass')
          counts.deferred += rejected.length
        } else {
          for (const { uid, messageId, err } of rejected) {
            if (await move(imap, uid, options.failedFolder)) {
              log.error({ err, uid, messageId, folder: options.failedFolder }, 'mail from IMAP failed; moved to the failed folder')
              counts.failed++
            } else {
              log.error({ err, uid, messageId }, 'mail from IMAP failed and could not be moved; trying again next pass')
              counts.deferred++
            }
          }
        }
      } finally {
        lock.release()
      }
      await imap.logout()
    } finally {
      client = undefined
      // Nothing to do after a clean logout; after an error it drops the socket.
      imap.close()
    }
    if (counts.found > 0) log.info(counts, 'IMAP pass done')
    return counts
  }

  /** One pass now (after any pass already running); rejects when the server cannot be reached. */
  function runOnce (): Promise<ImapPassCounts> {
    const result = chain.then(pass)
    chain = result.catch(() => undefined)
    return result
  }

  const loop = repeatEvery(options.intervalMs, runOnce, (err) => {
    if (loop.stopped) log.debug({ err }, 'IMAP pass ended by shutdown')
    else log.error({ err }, `IMAP pass failed; trying again in ${options.intervalMs / 1000} s`)
  })

  return {
    start: loop.start,
    runOnce,
    /** Lets the message in hand finish, logs out and polls no more. */
    async stop (): Promise<void> {
      const loopEnded = loop.stop()
      // Still connecting (perhaps to a server that is not there): nothing to finish.
      if (connecting) client?.close()
      // A server that stops answering mid-pass does not hold up shutdown for long. Cutting the
      // connection is safe: a message handled but not moved is a duplicate next time.
      const cut = setTimeout(() => { client?.close() }, stopGraceMs)
      try {
        await Promise.all([chain, loopEnded])
      } finally {
        clearTimeout(cut)
      }
    }
  }
}

export type ImapPoller = ReturnType<typeof createImapPoller>
