import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto'

/**
 * Ticket numbers look random and never reveal volume. Six digits while they are easy to
 * find; each collision retry widens the range so a full space cannot stall creation.
 */
export function randomTicketNumber (attempt = 0): string {
  const digits = 6 + Math.floor(attempt / 3)
  return String(randomInt(10 ** (digits - 1), 10 ** digits))
}

/** A private-link token: 256 random bits, only ever stored as its hash. */
export function newAccessToken (): { token: string, hash: string } {
  const token = randomBytes(32).toString('base64url')
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
