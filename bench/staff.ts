import type { Knex } from 'knex'
import { setAgentPassword } from '../src/data/agents.js'
import { insertedId } from '../src/data/database.js'
import { hashPassword } from '../src/domain/accounts.js'
import { browse, CookieJar, fetchRaw, loadTicketForm } from './page-weight.js'
import type { SeedResult } from './seed.js'

/** What the staff endpoints of run.ts and cpu.ts share: a signed-in agent and pages to open. */

const staffPassword = 'benchmark passphrase'

/** Gives a seeded agent (seeded without one) the benchmarks' password; returns it for the sign-in. */
export async function setBenchPassword (db: Knex, agentId: number): Promise<string> {
  await setAgentPassword(db, agentId, await hashPassword(staffPassword))
  return staffPassword
}

/**
 * Signs in through the login form as the seeded non-admin agent with the most departments,
 * so permission scoping is part of what is measured. Returns the jar holding the session.
 */
export async function signInStaff (db: Knex, appUrl: string, seed: SeedResult): Promise<CookieJar> {
  const agentId = seed.agentIds[1] ?? seed.agentIds[0]!
  const password = await setBenchPassword(db, agentId)
  const email = (await db('agents').where({ id: agentId }).first('email')).email as string
  return await signIn(appUrl, email, password)
}

/** Signs in through the staff login form; returns the jar holding the session. */
export async function signIn (appUrl: string, email: string, password: string): Promise<CookieJar> {
  const jar = new CookieJar()
  const login = await browse(jar, `${appUrl}/staff/login`)
  const csrf = /name="_csrf" value="([^"]*)"/.exec(login.body.toString('utf8'))?.[1] ?? ''
  const signedIn = await browse(jar, `${appUrl}/staff/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, email, password }).toString()
  })
  if (signedIn.status !== 303 || !jar.get('tessera_staff')) throw new Error(`staff sign-in failed: ${signedIn.status}`)
  return jar
}

/** The cookie header a signed-in agent sends under /staff. */
export const staffCookie = (jar: CookieJar, appUrl: string): string => jar.header(`${appUrl}/staff/queues/open`)

/** The All open queue's second page (a keyset cursor). */
export async function secondQueuePage (appUrl: string, cookie: string): Promise<string> {
  const first = await fetchRaw(`${appUrl}/staff/queues/open`, { headers: { cookie } })
  const next = /href="([^"]*after=[^"]*)"/.exec(first.body.toString('utf8'))?.[1]
  if (!next) throw new Error('the All open queue has no second page')
  return next.replaceAll('&amp;', '&')
}

/** A spread of tickets the agent may see, so the page is not one cached row. */
export async function ticketPagePaths (appUrl: string, cookie: string, count = 20): Promise<string[]> {
  const first = await fetchRaw(`${appUrl}/staff/queues/open`, { headers: { cookie } })
  const numbers = [...first.body.toString('utf8').matchAll(/href="\/staff\/tickets\/(\d+)"/g)].map((m) => m[1]!)
  if (numbers.length === 0) throw new Error('no tickets in the queue to open')
  return [...new Set(numbers)].slice(0, count).map((number) => `/staff/tickets/${number}`)
}

const placeholder = 'IDXPLACEHOLDERXID'

/**
 * Valid, varied new-ticket forms; most come from a new address, some from a regular.
 * `[<id>]` in each is for autocannon to replace with a fresh id per request.
 */
export function ticketBodies (csrfToken: string, topicIds: readonly string[]): string[] {
  const paragraphs = [
    'Since the update yesterday the export button produces an empty file.',
    'I tried it in two browsers and on a colleague’s computer, with the same result.',
    'We need the export for our monthly accounts, so this is fairly urgent for us.',
    'The invoice for March shows the old company address; could you correct it and send a new copy?',
    'When I search for an order number, the results page stays empty even though the order exists.',
    'Could you also tell me whether there is a way to be notified when this is fixed?',
    'Thank you for your help, and sorry if this was already reported.'
  ]
  const variants = [
    { subject: 'Export produces an empty file', text: [0, 1, 2, 6], regular: false },
    { subject: 'Wrong address on invoice', text: [3, 6], regular: false },
    { subject: 'Search finds nothing', text: [4, 1, 5], regular: true },
    { subject: 'Question about notifications', text: [5, 6], regular: false },
    { subject: 'Export still broken (again)', text: [0, 1, 2, 4, 5, 6, 0, 1], regular: true },
    { subject: 'Invoice correction', text: [3], regular: false },
    { subject: 'Search results empty after update', text: [4, 2, 6], regular: false },
    { subject: 'Help with exports', text: [0, 5], regular: false }
  ]
  return variants.map((variant, i) => new URLSearchParams({
    _csrf: csrfToken,
    topic: topicIds[i % topicIds.length]!,
    name: variant.regular ? 'Rosa Regular' : `Client ${placeholder}`,
    email: variant.regular ? 'rosa.regular@example.com' : `client-${placeholder}@example.com`,
    subject: variant.subject,
    message: variant.text.map((p) => paragraphs[p]).join('\n\n'),
    website: ''
  }).toString().replaceAll(placeholder, '[<id>]'))
}

/** The new-ticket form's session and token, with the bodies `ticketBodies` writes for it: what each request of a creation benchmark sends. */
export async function newTicketRequests (appUrl: string): Promise<{ headers: Record<string, string>, requests: Array<{ body: string }> }> {
  const form = await loadTicketForm(appUrl)
  return {
    headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    requests: ticketBodies(form.csrfToken, form.topicIds).map((body) => ({ body }))
  }
}

/** The seeded team's members take every topic's tickets in turn, each under office hours (Mon–Fri 9–17 UTC). */
export async function routeAndTimeEveryTopic (db: Knex, seed: SeedResult): Promise<void> {
  const weekdays = Object.fromEntries([1, 2, 3, 4, 5].map((day) => [day, [[540, 1020]]]))
  const [schedule] = await db('sla_schedules').insert({ name: 'Office hours', time_zone: 'UTC', windows: JSON.stringify(weekdays), holidays: '[]', created_at: 0 }).returning('id')
  const [plan] = await db('sla_plans').insert({ name: 'Standard', first_response_hours: 4, resolution_hours: 24, schedule_id: insertedId(schedule), created_at: 0 }).returning('id')
  // Routing picks members who could sign in and work the topic's department.
  await db('agents').whereIn('id', seed.teamMemberIds).whereNull('password_hash').update({ password_hash: 'bench: never signs in' })
  const departments: number[] = await db('help_topics').distinct().pluck('department_id')
  for (const agentId of seed.teamMemberIds) {
    await db('agent_departments').insert(departments.map((departmentId) => ({ agent_id: agentId, department_id: departmentId, role: 'agent' }))).onConflict(['agent_id', 'department_id']).ignore()
  }
  await db('teams').where({ id: seed.teamId }).update({ routing: 'round_robin' })
  await db('help_topics').update({ default_team_id: seed.teamId, sla_plan_id: insertedId(plan) })
}
