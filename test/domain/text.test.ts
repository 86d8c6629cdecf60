import t from 'tap'
import { sanitizeLine, sanitizeText, truncateCodePoints } from '../../src/domain/text.js'

t.test('control characters go, tab and newline stay, every line ending becomes \\n', async (t) => {
  t.equal(sanitizeText('a\u0000b\u0007c\u001bd\u007fe\u0090f', 100), 'abcdef')
  t.equal(sanitizeText('one\r\ntwo\rthree\nfour\u0085five\u2028six', 100), 'one\ntwo\nthree\nfour\nfive\nsix')
  t.equal(sanitizeText('col1\tcol2', 100), 'col1\tcol2')
})

t.test('a limit counts code points and never splits a surrogate pair', async (t) => {
  t.equal(truncateCodePoints('😀😀😀', 2), '😀😀')
  t.equal(truncateCodePoints('ab😀', 3), 'ab😀')
  t.equal(truncateCodePoints('ab😀c', 3), 'ab😀')
  t.equal(sanitizeText(`${'x'.repeat(9)}😀😀`, 10), `${'x'.repeat(9)}😀`)
  t.notMatch(sanitizeText('😀'.repeat(50), 7), '\uFFFD')
  // Cut early for speed, a huge input still ends on a whole emoji.
  t.equal(sanitizeText('😀'.repeat(100_000), 3), '😀😀😀')
  t.equal(sanitizeText(`x${'😀'.repeat(100_000)}`, 4), 'x😀😀😀')
})

t.test('a surrogate half without its partner becomes U+FFFD rather than stored broken', async (t) => {
  t.equal(sanitizeText('a\uD83Db', 10), 'a\uFFFDb')
  t.equal(sanitizeText('a\uDE00b', 10), 'a\uFFFDb')
})

t.test('a line (a name, a subject) is one line of single spaces', async (t) => {
  t.equal(sanitizeLine('  Grace\r\n\tHopper \u0000 ', 120), 'Grace Hopper')
  t.equal(sanitizeLine(`${'s'.repeat(199)}😀😀`, 200), `${'s'.repeat(199)}😀`)
  t.equal(sanitizeLine('abc   def', 4), 'abc')
})
