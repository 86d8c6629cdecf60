import t from 'tap'
import { randomToken } from '../../src/domain/secrets.js'

t.test('random tokens carry the bytes asked for and never repeat, across refills of the pool', async (t) => {
  const seen = new Set<string>()
  const counts = new Array<number>(256).fill(0)
  let wrongLength = 0
  // 40,000 × 18 bytes crosses the 4 KB pool's refill many times, at odd offsets.
  for (let i = 0; i < 40_000; i++) {
    const token = randomToken(18)
    if (!/^[A-Za-z0-9_-]{24}$/.test(token)) wrongLength++
    seen.add(token)
    for (const byte of Buffer.from(token, 'base64url')) counts[byte]!++
  }
  t.equal(wrongLength, 0, 'each is 18 bytes as 24 base64url characters')
  t.equal(seen.size, 40_000, 'every token is new')
  // 720,000 bytes: each value expected 2,812 times; a stuck or zeroed pool would be far off.
  const expected = 40_000 * 18 / 256
  t.ok(counts.every((n) => Math.abs(n - expected) < expected * 0.15), 'every byte value turns up about equally often')
})

t.test('a token of 32 bytes, as private links use, and one of a whole pool', async (t) => {
  t.match(randomToken(32), /^[A-Za-z0-9_-]{43}$/)
  t.equal(Buffer.from(randomToken(4096), 'base64url').length, 4096)
  t.throws(() => randomToken(4097), RangeError)
})
