import { isUtf8 } from 'node:buffer'
import chardet from 'chardet'
import iconv from 'iconv-lite'

/**
 * Reading bytes that came without a charset. UTF-8 when they are valid UTF-8; otherwise
 * chardet's guess when it is sure, and when it is not (short texts, a header line), the
 * candidate whose decoding reads most like text: letters with accents inside Latin words,
 * Chinese characters, Japanese kana, Korean syllables, and no replacement characters,
 * control characters or half-width katakana (what Chinese bytes look like read as Shift_JIS).
 */

/** What unlabelled 8-bit mail is in practice; each is a superset of the label usually sent. */
const candidates = ['windows-1252', 'gb18030', 'shift_jis', 'big5', 'euc-kr'] as const

/** chardet's names for the candidates' subsets, read by the superset. */
const supersets: Record<string, string> = {
  'iso-8859-1': 'windows-1252',
  gb2312: 'gb18030',
  gbk: 'gb18030',
  shift_jis: 'shift_jis',
  'euc-jp': 'euc-jp',
  big5: 'big5',
  'euc-kr': 'euc-kr',
  'utf-8': 'utf-8'
}

function score (text: string): number {
  let total = 0
  const chars = [...text]
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!.codePointAt(0)!
    if (c < 0x80) continue
    if (c === 0xfffd || (c >= 0x80 && c < 0xa0) || (c >= 0xe000 && c <= 0xf8ff)) total -= 5
    else if (c >= 0xc0 && c <= 0x24f && c !== 0xd7 && c !== 0xf7) {
      // A Latin letter with an accent sits in a word of ASCII letters; long runs of them are
      // what Chinese or Japanese bytes look like read as Windows-1252.
      let run = 1
      for (let j = i - 1; j >= 0 && chars[j]!.codePointAt(0)! >= 0x80; j--) run++
      for (let j = i + 1; j < chars.length && chars[j]!.codePointAt(0)! >= 0x80; j++) run++
      const touchesAscii = /[A-Za-z]/.test(chars[i - 1] ?? '') || /[A-Za-z]/.test(chars[i + 1] ?? '')
      total += run <= 2 && touchesAscii ? 2 : -1
    } else if (c >= 0x3040 && c <= 0x30ff) total += 3
    else if (c >= 0x4e00 && c <= 0x9fff) total += 2
    else if (c >= 0xac00 && c <= 0xd7a3) total += 2
    else if ((c >= 0x3000 && c <= 0x303f) || (c >= 0xff01 && c <= 0xff5e)) total += 1
    else if (c >= 0xff61 && c <= 0xff9f) total -= 1
    else if (c >= 0xa0 && c <= 0xbf) total += 0
    else total -= 1
  }
  return total
}

/** The charset to read these unlabelled bytes with. */
export function guessCharset (bytes: Buffer): string {
  if (isUtf8(bytes)) return 'utf-8'
  const sure = chardet.analyse(bytes)[0]
  const named = sure ? supersets[sure.name.toLowerCase()] : undefined
  if (sure && named && sure.confidence >= 60) return named
  let best: string = candidates[0]
  let bestScore = -Infinity
  for (const charset of candidates) {
    const value = score(iconv.decode(bytes, charset))
    if (value > bestScore) { best = charset; bestScore = value }
  }
  return best
}

/** Unlabelled bytes as text, by the guess above; never throws. */
export function decodeUnlabelled (bytes: Buffer): string {
  try {
    return iconv.decode(bytes, guessCharset(bytes))
  } catch {
    return iconv.decode(bytes, 'windows-1252')
  }
}
