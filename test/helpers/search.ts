import type { FastifyInstance } from 'fastify'
import type { Page } from './visitor.js'

/** Opens a ticket with this subject and message (Grace Hopper's unless `who` says) and returns its number. */
export async function openAbout (app: FastifyInstance, topic: number, subject: string, message: string, who = { name: 'Grace Hopper', email: 'grace@example.com' }): Promise<string> {
  const opened = await app.lifecycle.openTicket({ ...who, subject, message, helpTopicId: topic })
  return opened.ticket.number
}

/** The ticket numbers a search page lists, in order. */
export function resultNumbers (page: Page): string[] {
  return page.$('.search-results .number').map((_, el) => page.$(el).text().replace('#', '')).get()
}
