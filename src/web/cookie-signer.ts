import { Signer, type UnsignResult } from '@fastify/cookie'

/** The most signed values a signer remembers; then it starts over. */
const rememberedAtMost = 10_000

/**
 * A cookie signer (for @fastify/cookie and @fastify/session) that remembers the signed
 * values it found genuine. A staff request checks two signatures, its session cookie's
 * and its CSRF cookie's, and signs its session id again (@fastify/session does, restoring
 * a session), and the same browser sends the same two values request after request: each
 * is an HMAC, the largest part of a staff page's time in the CSRF and session hooks. A
 * signature depends on the value and the secrets alone, so it can be kept.
 *
 * Only values that came back are kept. A value signed for the first time (a visitor's new
 * CSRF secret) is often never seen again, and keeping each one would churn the memory for
 * every first visit. A forged value is checked afresh every time and never kept, so nobody
 * can fill the memory with values of their own making.
 */
export function rememberingSigner (secrets: string | string[]): { sign: (value: string) => string, unsign: (signed: string) => UnsignResult } {
  const signer = new Signer(secrets)
  const genuine = new Map<string, UnsignResult>()
  const signatures = new Map<string, string>()
  const remember = (value: string, signed: string, result: UnsignResult): void => {
    if (genuine.size >= rememberedAtMost) { genuine.clear(); signatures.clear() }
    genuine.set(signed, result)
    // A value signed with an older secret is signed anew with the current one.
    if (!result.renew) signatures.set(value, signed)
  }
  return {
    sign (value) {
      return signatures.get(value) ?? signer.sign(value)
    },
    unsign (signed) {
      const known = genuine.get(signed)
      if (known !== undefined) return known
      const result = Object.freeze(signer.unsign(signed))
      if (result.valid) remember(result.value, signed, result)
      return result
    }
  }
}
