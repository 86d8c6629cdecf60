import type { Readable } from 'node:stream'
import type { AddressObject, AttachmentStream, HeaderLines, Headers, MessageText } from 'mailparser'
import { MailNormalizer, UnprocessableMail, type MimeOutline } from './normalize.js'
import { htmlAsText } from './html.js'

/** What the inbound pipeline reads from a message; attachments are not kept. */
export interface InboundParsed {
  headers: Headers
  headerLines: HeaderLines
  from?: AddressObject
  to?: AddressObject | AddressObject[]
  cc?: AddressObject | AddressObject[]
  subject?: string
  messageId?: string
  inReplyTo?: string
  references?: string | string[]
  /** The text part, or the HTML part as text when there is no text part. */
  text?: string
  /** The HTML part as sent (not safe to show as it is), when there is one. */
  html?: string
  /** True when `text` was made from `html` (the message had no text part). */
  textFromHtml?: boolean
  /** The MIME structure: how many parts, of which types. */
  outline: MimeOutline
}

/**
 * Parses one message as it streams in. Unlike mailparser's simpleParser, attachments are
 * handed to `onAttachment` as streams, or read and dropped, rather than buffered, and no HTML is generated from the text: the memory
 * one message costs is about the size of its text. The stream first passes MailNormalizer
 * (line endings, obsolete header syntax, unlabelled 8-bit charsets, hard limits), which
 * fails it with UnprocessableMail for a message that can never be read.
 */
export async function parseMail (source: Buffer | Readable, options: { onAttachment?: (part: AttachmentStream) => void } = {}): Promise<InboundParsed> {
  // Loaded on first use: mailparser and its charset tables are large, and many desks
  // never receive mail.
  const { MailParser } = await import('mailparser')
  const parser = new MailParser({ skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true })
  const normalizer = new MailNormalizer()
  return await new Promise<InboundParsed>((resolve, reject) => {
    let headers: Headers = new Map()
    let headerLines: HeaderLines = []
    let text: string | undefined
    let html: string | undefined
    let settled = false
    const fail = (err: unknown): void => {
      if (settled) return
      settled = true
      parser.destroy()
      reject(err)
    }
    // What mailparser cannot read it never will: a permanent refusal, not a retry.
    parser.on('error', (err: Error) => { fail(err instanceof UnprocessableMail ? err : new UnprocessableMail(`unreadable MIME structure (${err.message})`)) })
    normalizer.on('error', fail)
    parser.on('headers', (parsed: Headers) => { headers = parsed })
    parser.on('headerLines', (lines: HeaderLines) => { headerLines = lines })
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'attachment') {
        // Handed over (the taker reads and releases it), or read and dropped.
        if (options.onAttachment) {
          options.onAttachment(data)
          return
        }
        const release = (): void => { data.release?.() }
        data.content.on('data', () => undefined)
        data.content.on('end', release)
      } else {
        if (data.text !== undefined) text = data.text
        if (typeof data.html === 'string') html = data.html
      }
    })
    parser.on('end', () => {
      if (settled) return
      settled = true
      const header = <T>(key: string): T | undefined => headers.get(key) as T | undefined
      // An HTML-only message, wherever its HTML part sits, reads as text.
      const textFromHtml = (text === undefined || text.trim() === '') && html !== undefined
      const readable = textFromHtml && html !== undefined ? htmlAsText(html) : text
      resolve({
        headers,
        headerLines,
        from: header('from'),
        to: header('to'),
        cc: header('cc'),
        subject: header('subject'),
        messageId: header('message-id'),
        inReplyTo: header('in-reply-to'),
        references: header('references'),
        text: readable,
        html,
        textFromHtml,
        outline: normalizer.outline
      })
    })
    normalizer.pipe(parser)
    if (Buffer.isBuffer(source)) {
      normalizer.end(source)
    } else {
      source.once('error', fail)
      source.pipe(normalizer)
    }
  })
}
