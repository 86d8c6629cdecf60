import { isUtf8 } from 'node:buffer'
import { Transform, type TransformCallback } from 'node:stream'
import iconv from 'iconv-lite'
import { guessCharset } from './charset.js'

/**
 * A message that can never be processed, however often it is delivered (too many MIME parts,
 * a header block of megabytes). The mail server is told so (exit 65, a 4xx answer) rather
 * than asked to retry for days, and the message is set aside with this reason.
 */
export class UnprocessableMail extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UnprocessableMail'
  }
}

/** More MIME parts than any person's mail has; past it the message is refused for good. */
export const maxMimeParts = 1000
/** One header block (the message's or a part's) larger than this is refused for good. */
export const maxHeaderBytes = 256 * 1024
/** Normalized bytes are passed on in pieces of about this size. */
const outChunkBytes = 64 * 1024

/** An unlabelled text part is held to guess its charset up to this size; the rest follows that guess. */
const maxGuessBytes = 4 * 1024 * 1024
/** A body line longer than this is passed on in pieces. */
const maxLineBytes = 1024 * 1024

/** What the normaliser saw on the way through. */
export interface MimeOutline {
  parts: number
  /** Every part's content type, lower case (`message/delivery-status` inside a multipart/mixed, say). */
  types: Set<string>
}

type State = 'header' | 'body' | 'holding'

const crlf = Buffer.from('\r\n')

function param (value: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value)
  return match ? (match[1] ?? match[2]) : undefined
}

/**
 * Rewrites a raw message, as it streams, into one mailparser reads as the sender meant it:
 * - CRLF, LF and CR-only line endings all become CRLF (an mbox "From " line is dropped);
 * - obsolete header syntax (`From  : …`) loses the space before the colon;
 * - 8-bit header bytes that are not UTF-8 are read in the charset they most likely are and
 *   passed on as UTF-8; so are text parts that declare no charset (or US-ASCII) and carry
 *   8-bit bytes, which then declare UTF-8;
 * - more than `maxMimeParts` parts, or a header block over `maxHeaderBytes`, fails the stream
 *   with UnprocessableMail.
 * Only unlabelled text parts are held (to guess their charset); everything else streams on.
 */
export class MailNormalizer extends Transform {
  readonly outline: MimeOutline = { parts: 0, types: new Set() }
  private pending: Buffer = Buffer.alloc(0)
  private mode: 'lf' | 'cr' | undefined
  private state: State = 'header'
  private header: Buffer[] = []
  private headerBytes = 0
  private held: Buffer[] = []
  private heldBytes = 0
  private convertFrom: string | undefined
  private readonly boundaries: string[] = []
  private out: Buffer[] = []
  private outBytes = 0
  private firstLine = true
  private midLine = false

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
      this.splitLines(false)
      this.drain()
      callback()
    } catch (err) {
      callback(err as Error)
    }
  }

  override _flush (callback: TransformCallback): void {
    try {
      this.splitLines(true)
      if (this.pending.length > 0) this.line(this.pending)
      this.pending = Buffer.alloc(0)
      if (this.state === 'holding') this.release()
      if (this.state === 'header' && this.header.length > 0) this.endHeader()
      this.drain()
      callback()
    } catch (err) {
      callback(err as Error)
    }
  }

  private drain (): void {
    if (this.out.length > 0) this.push(Buffer.concat(this.out))
    this.out = []
    this.outBytes = 0
  }

  private splitLines (end: boolean): void {
    let start = 0
    const buf = this.pending
    for (let i = 0; i < buf.length; i++) {
      const byte = buf[i]
      if (byte !== 0x0a && byte !== 0x0d) continue
      if (byte === 0x0d) {
        if (i + 1 >= buf.length && !end) break
        if (buf[i + 1] === 0x0a) {
          this.mode ??= 'lf'
          this.line(buf.subarray(start, i))
          i++
          start = i + 1
          continue
        }
        this.mode ??= 'cr'
        // A lone CR ends a line only in a message written with CR line endings.
        if (this.mode !== 'cr') continue
      } else {
        this.mode ??= 'lf'
      }
      this.line(buf.subarray(start, i))
      start = i + 1
    }
    this.pending = start === 0 ? buf : buf.subarray(start)
    if (this.pending.length > maxLineBytes) {
      if (this.state === 'header') throw new UnprocessableMail(`a header block larger than ${maxHeaderBytes / 1024} KB`)
      this.flushPiece(this.pending)
      this.pending = Buffer.alloc(0)
    }
  }

  /** Part of an overlong body line, passed on as it is. */
  private flushPiece (piece: Buffer): void {
    if (this.state === 'holding') { this.held.push(Buffer.from(piece)); this.heldBytes += piece.length; return }
    this.out.push(Buffer.from(piece))
    this.midLine = true
  }

  private put (line: Buffer): void {
    this.out.push(line, crlf)
    // A message that arrives as one large chunk (a POST body) streams on in pieces, never
    // as one second copy of itself.
    this.outBytes += line.length + 2
    if (this.outBytes > outChunkBytes) this.drain()
  }

  private line (raw: Buffer): void {
    const line = Buffer.from(raw)
    if (this.midLine) {
      this.midLine = false
      this.put(line)
      return
    }
    if (this.firstLine) {
      this.firstLine = false
      // An mbox separator ("From ada@example.com Tue Dec  1 …"), not a From: field.
      if (/^From [^\s:]+ /.test(line.subarray(0, 200).toString('latin1'))) return
    }
    if (this.state === 'header') {
      if (line.length === 0 || this.boundaryOf(line) !== undefined) {
        this.endHeader()
        if (line.length > 0) this.body(line)
        return
      }
      this.headerBytes += line.length + 2
      if (this.headerBytes > maxHeaderBytes) throw new UnprocessableMail(`a header block larger than ${maxHeaderBytes / 1024} KB`)
      this.header.push(line)
      return
    }
    this.body(line)
  }

  /** Which boundary a line is: ['next'|'end', index in the stack], or undefined. */
  private boundaryOf (line: Buffer): ['next' | 'end', number] | undefined {
    if (this.boundaries.length === 0 || line[0] !== 0x2d || line[1] !== 0x2d) return undefined
    const text = line.toString('latin1').replace(/[ \t]+$/, '')
    for (let i = this.boundaries.length - 1; i >= 0; i--) {
      const b = this.boundaries[i]!
      if (text === `--${b}`) return ['next', i]
      if (text === `--${b}--`) return ['end', i]
    }
    return undefined
  }

  private body (line: Buffer): void {
    const boundary = this.boundaryOf(line)
    if (boundary) {
      if (this.state === 'holding') this.release()
      const [kind, index] = boundary
      this.boundaries.length = kind === 'next' ? index + 1 : index
      this.convertFrom = undefined
      this.put(line)
      this.state = kind === 'next' ? 'header' : 'body'
      return
    }
    if (this.state === 'holding') {
      this.held.push(line)
      this.heldBytes += line.length + 2
      if (this.heldBytes > maxGuessBytes) this.release()
      return
    }
    this.put(this.convertFrom ? Buffer.from(iconv.decode(line, this.convertFrom), 'utf8') : line)
  }

  private endHeader (): void {
    this.outline.parts++
    if (this.outline.parts > maxMimeParts) throw new UnprocessableMail(`more than ${maxMimeParts} MIME parts`)
    const lines = this.header.map((line) => {
      // Obsolete syntax (RFC 5322 4.5): white space between a field's name and its colon.
      const obsolete = /^([\x21-\x39\x3b-\x7e]+)[ \t]+:/.exec(line.toString('latin1'))
      return obsolete ? Buffer.concat([Buffer.from(`${obsolete[1]!}:`), line.subarray(obsolete[0].length)]) : line
    })
    // 8-bit header bytes that are not UTF-8: read in their likeliest charset, as one text.
    const eightBit = lines.filter((line) => line.some((byte) => byte >= 0x80))
    if (eightBit.length > 0) {
      const all = Buffer.concat(eightBit.map((line) => Buffer.concat([line, Buffer.from(' ')])))
      if (!isUtf8(all)) {
        const charset = guessCharset(all)
        for (let i = 0; i < lines.length; i++) {
          if (lines[i]!.some((byte) => byte >= 0x80)) lines[i] = Buffer.from(iconv.decode(lines[i]!, charset), 'utf8')
        }
      }
    }
    const field = (name: string): { value: string, at: number[] } => {
      let value = ''
      const at: number[] = []
      let inField = false
      for (let i = 0; i < lines.length; i++) {
        const text = lines[i]!.toString('latin1')
        if (/^[ \t]/.test(text)) { if (inField) { value += text; at.push(i) } continue }
        inField = value === '' && text.toLowerCase().startsWith(`${name}:`)
        if (inField) { value = text.slice(name.length + 1); at.push(i) }
      }
      return { value: value.trim(), at }
    }
    const contentType = field('content-type')
    const type = (/^\s*([^;\s]+)/.exec(contentType.value)?.[1] ?? 'text/plain').toLowerCase()
    const encoding = field('content-transfer-encoding').value.toLowerCase()
    this.outline.types.add(type)
    this.header = []
    this.headerBytes = 0
    const boundary = type.startsWith('multipart/') ? param(contentType.value, 'boundary') : undefined
    const charset = param(contentType.value, 'charset')?.toLowerCase()
    const unlabelled = type.startsWith('text/') && (charset === undefined || charset === 'us-ascii' || charset === 'ascii') &&
      !['base64', 'quoted-printable'].includes(encoding)
    if (boundary) this.boundaries.push(boundary)
    if (unlabelled) {
      this.header = lines
      this.held = []
      this.heldBytes = 0
      this.pendingType = contentType
      this.state = 'holding'
      return
    }
    for (const line of lines) this.put(line)
    this.out.push(crlf)
    this.state = (type === 'message/rfc822' || type === 'message/global') && !['base64', 'quoted-printable'].includes(encoding) ? 'header' : 'body'
  }

  private pendingType: { value: string, at: number[] } = { value: '', at: [] }

  /** Passes on a held unlabelled text part, in UTF-8 and saying so when it had 8-bit bytes. */
  private release (): void {
    const lines = this.header
    const body = this.held
    this.header = []
    this.held = []
    this.heldBytes = 0
    this.state = 'body'
    const all = Buffer.concat(body.flatMap((line) => [line, crlf]))
    if (all.some((byte) => byte >= 0x80)) {
      const charset = guessCharset(all)
      if (charset !== 'utf-8') this.convertFrom = charset
      const { value, at } = this.pendingType
      const type = `Content-Type: ${value === '' ? 'text/plain' : value.replace(/;?\s*charset\s*=\s*("[^"]*"|[^;\s]+)/i, '')}; charset=utf-8`
      const kept = lines.filter((_line, i) => !at.includes(i))
      for (const line of [...kept, Buffer.from(type)]) this.put(line)
      this.out.push(crlf)
      for (const line of body) this.put(this.convertFrom ? Buffer.from(iconv.decode(line, this.convertFrom), 'utf8') : line)
      return
    }
    for (const line of lines) this.put(line)
    this.out.push(crlf)
    for (const line of body) this.put(line)
  }
}
