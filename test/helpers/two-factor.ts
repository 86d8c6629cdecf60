import type { FastifyInstance } from 'fastify'
import { Secret, TOTP } from 'otpauth'
import { password } from './fixtures.js'
import { Visitor, type Page } from './visitor.js'

/** The code an authenticator app shows for `secret` at `at` (ms). */
export const codeAt = (secret: string, at: number): string =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: at })

/** The password step; answers the page it leads to (the code form for an agent with two-factor sign-in). */
export async function passwordStep (app: FastifyInstance, email: string): Promise<{ visitor: Visitor, page: Page }> {
  const visitor = new Visitor(app)
  const page = await visitor.submit(await visitor.get('/staff/login'), 'form[action="/staff/login"]', { email, password })
  return { visitor, page }
}
