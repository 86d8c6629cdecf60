import type { Readable } from 'node:stream'
import type { AddressObject, AttachmentStream, HeaderLines, Headers, MessageText } from 'mailparser'

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
}

/**
 * Parses one message as it streams in. Unlike mailparser's simpleParser, attachments are
 * read and dropped rather than buffered, and no HTML is generated from the text: the memory
 * one message costs is about the size of its text, whatever it carries.
 */
export async function parseMail (source: Buffer | Readable): Promise<InboundParsed> {
  // Loaded on first use: mailparser and its charset tables are large, and many desks
  // never receive mail.
  const { MailParser } = await import('mailparser')
  const parser = new MailParser({ skipImageLinks: true, skipTextLinks: true, skipTextToHtml: true })
  return await new Promise<InboundParsed>((resolve, reject) => {
    let headers: Headers = new Map()
    let headerLines: HeaderLines = []
    let text: string | undefined
    let settled = false
    const fail = (err: unknown): void => {
      if (settled) return
      settled = true
      reject(err)
    }
    parser.on('error', fail)
    parser.on('headers', (parsed: Headers) => { headers = parsed })
    parser.on('headerLines', (lines: HeaderLines) => { headerLines = lines })
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'attachment') {
        const release = (): void => { data.release?.() }
        data.content.on('data', () => undefined)
        data.content.on('end', release)
      } else if (data.text !== undefined) {
        text = data.text
      }
    })
    parser.on('end', () => {
      if (settled) return
      settled = true
      const header = <T>(key: string): T | undefined => headers.get(key) as T | undefined
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
        text
      })
    })
    if (Buffer.isBuffer(source)) {
      parser.end(source)
    } else {
      source.once('error', fail)
      source.pipe(parser)
    }
  })
}
