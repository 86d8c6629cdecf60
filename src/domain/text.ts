/**
 * One sanitiser for text from outside (mail bodies, names, subjects, anything a form or an
 * integration sends), so every way in stores the same kind of text: well-formed Unicode,
 * '\n' line endings, no control characters but tab and newline, and cut by code points so a
 * limit never splits a surrogate pair (an emoji) into a U+FFFD.
 */

// C0 controls but tab and newline, DEL, and the C1 range (which some charsets decode to).
// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g
// A surrogate half without its partner: left over from a bad decoder or a cut elsewhere.
const loneSurrogates = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** At most `max` code points of `text`, never half a surrogate pair. */
export function truncateCodePoints (text: string, max: number): string {
  // Each code point takes one or two UTF-16 units, so a short string needs no counting.
  if (text.length <= max) return text
  let units = 0
  let points = 0
  while (units < text.length && points < max) {
    const code = text.codePointAt(units)!
    units += code > 0xffff ? 2 : 1
    points++
  }
  return text.slice(0, units)
}

/** Text of several lines (a message body): line endings normalised, controls removed, cut to `max` code points. */
export function sanitizeText (text: string, max: number): string {
  // A huge input is cut first (max code points fit in 2 × max units), on a pair boundary.
  let cut = text.length > max * 2 ? text.slice(0, max * 2) : text
  if (cut.length < text.length && /[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  const clean = cut
    .replace(loneSurrogates, '\uFFFD')
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(controls, '')
  return truncateCodePoints(clean, max)
}

/** One line (a name, a subject): every line break and tab becomes a space, runs of space one, trimmed. */
export function sanitizeLine (text: string, max: number): string {
  const clean = sanitizeText(text, text.length).replace(/[\s\u00A0]+/g, ' ').trim()
  return truncateCodePoints(clean, max).trimEnd()
}

/** A database id from a form or query value; anything else (text, huge, negative) is undefined. */
export function parseId (value: unknown): number | undefined {
  return typeof value === 'string' && /^[0-9]{1,9}$/.test(value) ? Number(value) : undefined
}
