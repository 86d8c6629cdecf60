import type { FastifyInstance } from 'fastify'
import { asAgent, ticketRow } from './actors.js'
import { openTicket, signIn, type Desk } from './fixtures.js'

/* Shared steps of the scheduler's automation tests (test/jobs/automation-*.test.ts). */

export const day = 86_400_000

/** Ada saves these fields on the settings page; what she then sees. */
export async function saveAutomation (app: FastifyInstance, desk: Desk, fields: Record<string, string>): Promise<{ status: number, text: string, error: (name: string) => string }> {
  const { visitor: ada } = await signIn(app, desk.agents.ada.email)
  const page = await ada.get('/staff/admin/settings')
  const saved = await ada.submit(page, 'form[action="/staff/admin/settings"]', fields)
  return { status: saved.status, text: saved.text, error: (name) => saved.$(`#settings-${name}-error`).text() }
}

export async function resolvedTicket (app: FastifyInstance, desk: Desk): Promise<number> {
  const { id } = await openTicket(app, desk.topics.broken)
  await app.lifecycle.resolveTicket(await ticketRow(app, id), await asAgent(app, desk.agents.bob.id))
  return id
}

export async function pendingTicket (app: FastifyInstance, desk: Desk): Promise<number> {
  const { id } = await openTicket(app, desk.topics.broken)
  await app.lifecycle.setPending(await ticketRow(app, id), await asAgent(app, desk.agents.bob.id))
  return id
}

export const count = async (app: FastifyInstance, table: string, where: Record<string, unknown>): Promise<number> =>
  Number((await app.db(table).where(where).count({ n: '*' }).first() as { n: number | string }).n)

export const status = async (app: FastifyInstance, id: number): Promise<string> => (await ticketRow(app, id)).status
