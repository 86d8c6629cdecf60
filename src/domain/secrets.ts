import { createHash, randomFillSync, randomInt, timingSafeEqual } from 'node:crypto'

/**
 * Ticket numbers look random and never reveal volume. Six digits while they are easy to
 * find; each collision retry widens the range so a full space cannot stall creation.
 */
export function randomTicketNumber (attempt = 0): string {
  const digits = 6 + Math.floor(attempt / 3)
  return String(randomInt(10 ** (digits - 1), 10 ** digits))
}

// crypto.randomBytes makes a Buffer and a native job per call: a few microseconds each,
// several times a blank form's rendering. Tokens are cut from a pool filled 4 KB at a
// time instead, as Node does for randomUUID and @fastify/session for session ids.
const randomPool = Buffer.alloc(4096)
let randomPoolUsed = randomPool.length

/** `bytes` random bytes from the operating system's generator, as base64url text. */
export function randomToken (bytes: number): string {
  if (bytes > randomPool.length) throw new RangeError(`randomToken takes at most ${randomPool.length} bytes`)
  if (randomPoolUsed + bytes > randomPool.length) {
    randomFillSync(randomPool)
    randomPoolUsed = 0
  }
  const token = randomPool.toString('base64url', randomPoolUsed, randomPoolUsed + bytes)
  randomPoolUsed += bytes
  return token
}

/** A private-link token: 256 random bits, only ever stored as its hash. */
export function newAccessToken (): { token: string, hash: string } {
  const token = randomToken(32)
  return { token, hash: hashToken(token) }
}

export function hashToken (token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function tokenMatchesAny (token: string, hashes: readonly string[]): boolean {
  const candidate = Buffer.from(hashToken(token), 'hex')
  let found = false
  for (const hash of hashes) {
    const stored = Buffer.from(hash, 'hex')
    // Every stored hash is compared, so timing does not tell which one matched.
    if (stored.length === candidate.length && timingSafeEqual(stored, candidate)) found = true
  }
  return found
}
