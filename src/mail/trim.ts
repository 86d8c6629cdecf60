import { replyMarker } from './compose.js'
import {
  beginsAttribution, completesAttribution, isAttribution, isDateLine, isForwardLine, isForwardSubject, isFromLine, isOriginalMessageLine,
  isOutlookRule, isSignatureStart, markerLineLimit
} from './trim-patterns.js'

export { trimQuotedHtml } from './trim-html.js'

export interface TrimOptions {
  /** The message's subject: a forward ("Fwd:", "WG:", …) keeps the header blocks it carries. */
  subject?: string
}

/**
 * What each line is: blank, quoted with ">", an attribution ("On … wrote:"), the start of
 * history that runs to the end (header block, "-----Original Message-----", our marker), the
 * start of a forwarded message, the start of a signature, or text.
 */
type Mark = 'blank' | 'quoted' | 'attribution' | 'history' | 'forward' | 'signature' | 'text'

const quoted = (line: string): boolean => /^[ \t]*>/.test(line)

/** A header block: a "From:" line with a "Sent:"/"Date:" line close by, in either order. */
function startsHeaderBlock (lines: string[], i: number): boolean {
  const near = lines.slice(i + 1, i + 4)
  return (isFromLine(lines[i]!) && near.some(isDateLine)) || (isDateLine(lines[i]!) && near.some(isFromLine))
}

function startsHistory (lines: string[], i: number, forwarded: boolean): boolean {
  const line = lines[i]!
  if (line.includes(replyMarker) || isOriginalMessageLine(line)) return true
  if (forwarded) return false
  if (isOutlookRule(line)) return lines.slice(i + 1, i + 3).some(isFromLine)
  return startsHeaderBlock(lines, i)
}

function nextNonBlank (lines: string[], from: number): string | undefined {
  for (let i = from; i < lines.length && i < from + 3; i++) if (lines[i]!.trim() !== '') return lines[i]
  return undefined
}

function markLines (lines: string[], options: TrimOptions): Mark[] {
  const forwarded = options.subject !== undefined && isForwardSubject(options.subject)
  const marks: Mark[] = []
  let paragraphStart = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === '') { marks.push('blank'); paragraphStart = i + 1; continue }
    if (quoted(line)) { marks.push('quoted'); paragraphStart = i + 1; continue }
    if (line.length > markerLineLimit) { marks.push('text'); continue }
    if (isForwardLine(line)) { marks.push('forward'); continue }
    if (startsHistory(lines, i, forwarded)) { marks.push('history'); continue }
    if (!/[:：]\s*$/.test(line)) { marks.push(isSignatureStart(line.trim()) ? 'signature' : 'text'); continue }
    const follower = nextNonBlank(lines, i + 1)
    const quoteFollows = follower === undefined || quoted(follower)
    // An attribution wrapped over two or three lines, read as one line: from a line that
    // surely begins one, else the line itself, else from a line that may begin one or from
    // where its paragraph begins.
    const wrapsFrom = (k: number): boolean => i - k >= paragraphStart && !/[.!?。]\s*$/.test(lines[i - k]!) &&
      isAttribution(lines.slice(i - k, i + 1).join(' '), quoteFollows)
    const single = isAttribution(line, quoteFollows)
    const wrapped = [2, 1].find((k) => beginsAttribution(lines[i - k] ?? '', true) && wrapsFrom(k)) ??
      (single && completesAttribution(line) ? 0 : undefined) ??
      [2, 1].find((k) => beginsAttribution(lines[i - k] ?? '', false) && wrapsFrom(k)) ??
      (i - paragraphStart >= 1 && i - paragraphStart <= 2 && wrapsFrom(i - paragraphStart) ? i - paragraphStart : undefined)
    if (wrapped !== undefined) {
      for (let j = i - wrapped; j < i; j++) marks[j] = 'attribution'
      marks.push('attribution')
      continue
    }
    if (single) { marks.push('attribution'); continue }
    marks.push(isSignatureStart(line.trim()) ? 'signature' : 'text')
  }
  return marks
}

/** The lines joined, without blank lines above and white space at the end (no regex: linear on any input). */
function tidy (lines: string[]): string {
  let first = 0
  while (first < lines.length && lines[first]!.trim() === '') first++
  return lines.slice(first).join('\n').trimEnd()
}

/** A run of the sender's own words after the first quote. */
interface Answer { start: number, end: number }

/**
 * The new part of a reply. Quoted history, our notice below the marker, header blocks and
 * signatures are cut; answers written under the quote (bottom posting) are kept, and when
 * answers sit between quoted lines the whole exchange is kept. A forwarded message is
 * content. If nothing would be left, the whole text is kept rather than lose the message.
 */
export function trimReply (text: string, options: TrimOptions = {}): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  const whole = lines.join('\n').trim()
  const marks = markLines(lines, options)

  const first = marks.findIndex((mark) => mark === 'quoted' || mark === 'attribution' || mark === 'history' || mark === 'forward')
  if (first >= 0 && marks[first] === 'forward') return whole
  const signature = marks.indexOf('signature')
  const topEnd = first < 0 ? (signature < 0 ? lines.length : signature) : (signature >= 0 && signature < first ? signature : first)
  const top = tidy(lines.slice(0, topEnd))
  if (first < 0 || marks[first] === 'history') return top || whole

  // Quoted history begins here: find the sender's own words among and after the quotes.
  const attributed = marks[first] === 'attribution'
  let quoteStart = first
  while (quoteStart < lines.length && (marks[quoteStart] === 'attribution' || marks[quoteStart] === 'blank')) quoteStart++
  if (quoteStart >= lines.length || marks[quoteStart] !== 'quoted') return top || whole

  const answers: Answer[] = []
  let sandwiched = false
  let open: Answer | undefined
  let inSignature = false
  let quotesOurNotice = false
  for (let i = quoteStart; i < lines.length; i++) {
    const mark = marks[i]!
    if (mark === 'history') break
    if (mark === 'quoted') {
      if (lines[i]!.includes(replyMarker)) quotesOurNotice = true
      if (open) { answers.push(open); open = undefined }
      if (answers.length > 0) sandwiched = true
      inSignature = false
      continue
    }
    if (mark === 'signature') { if (open) { answers.push(open); open = undefined } inSignature = true; continue }
    if (inSignature || mark === 'blank' || mark === 'attribution') continue
    if (open) open.end = i + 1
    else open = { start: i, end: i + 1 }
  }
  if (open) answers.push(open)
  const last = answers.at(-1)
  if (!last) return top || whole

  if (!sandwiched) {
    const answer = tidy(lines.slice(answers[0]!.start, last.end))
    if (top === '') return answer
    if (quotesOurNotice) return top
    if (attributed || topEnd < first) return `${top}\n\n${answer}`
    // A quotation in the middle of the sender's own text, introduced by no attribution.
    return tidy(lines.slice(0, last.end))
  }
  const exchange = tidy(lines.slice(quoteStart, last.end))
  if (top === '') return exchange
  return attributed || topEnd < first ? `${top}\n\n${exchange}` : tidy(lines.slice(0, last.end))
}
