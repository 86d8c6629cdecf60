import type { FastifyInstance } from 'fastify'
import { addTeamMember, insertTeam, setDepartmentRole, type DepartmentRole } from '../../src/data/agents.js'
import { Visitor, type Page } from './visitor.js'

export const password = 'correct horse battery'

export interface Desk {
  departments: { support: number, billing: number }
  teams: { printers: number }
  agents: Record<'ada' | 'bob' | 'vic' | 'mel' | 'ned', { id: number, email: string, name: string }>
  topics: { broken: number, billing: number }
}

/**
 * The desk most staff tests work in:
 * Ada is the administrator; Bob is an agent in Support and on the Printers team; Vic may
 * only view Support; Mel manages Billing; Ned belongs to Billing as a plain agent.
 */
export async function seedDesk (app: FastifyInstance): Promise<Desk> {
  const support = (await app.db('departments').where({ name: 'Support' }).first('id')).id as number
  const [billingRow] = await app.db('departments').insert({ name: 'Billing', created_at: 0 }).returning('id')
  const billing = typeof billingRow === 'object' ? billingRow.id : billingRow
  const [topicRow] = await app.db('help_topics').insert({ name: 'Invoices', department_id: billing, priority: 2, sort_order: 9 }).returning('id')
  const billingTopic = typeof topicRow === 'object' ? topicRow.id : topicRow
  const broken = (await app.db('help_topics').where({ name: 'Something is broken' }).first('id')).id as number
  const printers = await insertTeam(app.db, 'Printers')

  const make = async (key: string, name: string, isAdmin: boolean, roles: Array<[number, DepartmentRole]>): Promise<{ id: number, email: string, name: string }> => {
    const email = `${key}@desk.test`
    const id = await app.accounts.createAgent({ name, email, password, isAdmin })
    for (const [department, role] of roles) await setDepartmentRole(app.db, id, department, role)
    return { id, email, name }
  }
  const agents = {
    ada: await make('ada', 'Ada Lovelace', true, []),
    bob: await make('bob', 'Bob Kahn', false, [[support, 'agent']]),
    vic: await make('vic', 'Vic Viewer', false, [[support, 'view']]),
    mel: await make('mel', 'Mel Manager', false, [[billing, 'manager']]),
    ned: await make('ned', 'Ned Nobody', false, [[billing, 'agent']])
  }
  await addTeamMember(app.db, printers, agents.bob.id)
  return { departments: { support, billing }, teams: { printers }, agents, topics: { broken, billing: billingTopic } }
}

/** Opens a ticket the way the portal does and returns its number and id. */
export async function openTicket (app: FastifyInstance, helpTopicId: number, subject = 'Printer jams on page two'): Promise<{ id: number, number: string, token: string }> {
  const opened = await app.lifecycle.openTicket({ name: 'Grace Hopper', email: 'grace@example.com', subject, message: 'The second page always jams.', helpTopicId })
  return { id: opened.ticket.id, number: opened.ticket.number, token: opened.accessToken }
}

/** An agent at the sign-in form; returns their browser, already on the staff panel. */
export async function signIn (app: FastifyInstance, email: string): Promise<{ visitor: Visitor, page: Page }> {
  const visitor = new Visitor(app)
  const login = await visitor.get('/staff/login')
  const page = await visitor.submit(login, 'form[action="/staff/login"]', { email, password })
  if (page.status !== 200 || !page.url.startsWith('/staff/queues')) throw new Error(`sign-in failed for ${email}: ${page.status} ${page.url} ${page.text.slice(0, 300)}`)
  return { visitor, page }
}

/** Bob (agent in Support) claims a new ticket of Grace's and closes it from the ticket page. */
export async function closedByBob (app: FastifyInstance, desk: Desk): Promise<{ id: number, number: string, token: string }> {
  const ticket = await openTicket(app, desk.topics.broken)
  const { visitor: bob } = await signIn(app, desk.agents.bob.email)
  let page = await bob.get(`/staff/tickets/${ticket.number}`)
  page = await bob.submit(page, `form[action="/staff/tickets/${ticket.number}/claim"]`)
  page = await bob.submit(page, `form[action="/staff/tickets/${ticket.number}/closure"]`)
  if (!page.text.includes('Status changed.')) throw new Error('closing failed')
  return ticket
}
