import { Signer, type UnsignResult } from '@fastify/cookie'

/** The most signed values a signer remembers; then it starts over. */
const rememberedAtMost = 10_000

/**
 * A cookie signer (for @fastify/cookie and @fastify/session) that remembers the signed
 * values it found genuine. A staff request checks two signatures, its session cookie's and
 * its CSRF cookie's, and the same browser sends the same two values request after request:
 * each check is an HMAC, a tenth of a staff page's time in the CSRF and session hooks.
 * Whether a value is genuine depends on the value and the secrets alone, so the answer
 * can be kept. A forged value is checked afresh every time and never kept, so nobody can
 * fill the memory with values of their own making.
 */
export function rememberingSigner (secrets: string | string[]): { sign: (value: string) => string, unsign: (signed: string) => UnsignResult } {
  const signer = new Signer(secrets)
  const genuine = new Map<string, UnsignResult>()
  return {
    sign: (value) => signer.sign(value),
    unsign (signed) {
      const known = genuine.get(signed)
      if (known !== undefined) return known
      const result = Object.freeze(signer.unsign(signed))
      if (result.valid) {
        if (genuine.size >= rememberedAtMost) genuine.clear()
        genuine.set(signed, result)
      }
      return result
    }
  }
}
