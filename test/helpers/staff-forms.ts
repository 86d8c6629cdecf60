import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { loadAgentAccess } from '../../src/data/agents.js'
import { testApp } from './app.js'
import { assertSafe, send, shorten, type Answer } from './answers.js'
import { openTicket, password, seedDesk, signIn, type Desk } from './fixtures.js'
import { Visitor } from './visitor.js'

// Every staff form, signed in where the form needs it. Staff forms answer in several ways
// (the form again with 422, a redirect with a notice, a 404 for a ticket out of reach), so
// the corpus asks only what every answer must be: no server error, no internals, nothing
// typed turned into markup, no redirect off the site, and no prototype polluted.

export interface StaffForm {
  /** What the form does, for test names. */
  name: string
  /** Which test file runs it. */
  group: 'signed-out' | 'ticket' | 'ticket-changes' | 'around-ticket' | 'desk' | 'departments' | 'topics-teams' | 'preferences' | 'signatures' | 'desk-tools'
  /** Who is signed in; undefined for the forms used before signing in. */
  as?: 'ada' | 'bob'
  /** A desk with no agent yet (first-run setup). */
  emptyDesk?: boolean
  /** The page with the form (for the CSRF token), the URL it posts to and values it accepts. */
  prepare: (desk: StaffDesk) => Promise<{ page: string, action: string, valid: Record<string, string> }>
}

interface StaffDesk {
  app: FastifyInstance
  desk: Desk | undefined
  /** A fresh ticket in Support, so each form works on one of its own. */
  ticket: (subject?: string) => Promise<string>
}

/**
 * The staff POST routes, in one list: when a URL changes (status changes becoming
 * /resolution, /closure, …), change it here.
 */
export const staffForms: StaffForm[] = [
  { name: 'sign-in', group: 'signed-out', prepare: async ({ desk }) => ({ page: '/staff/login', action: '/staff/login', valid: { email: desk!.agents.bob.email, password, next: '/staff/queues/mine' } }) },
  { name: 'password reset request', group: 'signed-out', prepare: async ({ desk }) => ({ page: '/staff/password-reset', action: '/staff/password-reset', valid: { email: desk!.agents.bob.email } }) },
  {
    name: 'new password from a reset link',
    group: 'signed-out',
    prepare: async ({ app, desk }) => {
      await app.accounts.requestPasswordReset(desk!.agents.bob.email)
      const token = /"token":"([^"]+)"/.exec(JSON.stringify(await app.db('outbox').orderBy('id', 'desc').first()))?.[1] ?? 'no-token-in-the-outbox'
      return { page: `/staff/password-reset/${token}`, action: `/staff/password-reset/${token}`, valid: { password: 'a new long password', confirm: 'a new long password' } }
    }
  },
  {
    name: 'first-run setup',
    group: 'signed-out',
    emptyDesk: true,
    prepare: async ({ app }) => {
      const token = await app.accounts.issueSetupToken()
      return { page: `/staff/setup/${token}`, action: `/staff/setup/${token}`, valid: { name: 'Ada Lovelace', email: 'ada@desk.test', password: 'long enough pass', confirm: 'long enough pass' } }
    }
  },
  { name: 'sign-out', group: 'desk', as: 'bob', prepare: async () => ({ page: '/staff/queues/open', action: '/staff/logout', valid: {} }) },
  ...(['replies', 'notes'] as const).map((kind): StaffForm => ({
    name: kind === 'replies' ? 'reply' : 'internal note',
    group: 'ticket',
    as: 'bob',
    prepare: async ({ ticket }) => { const n = await ticket(); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/${kind}`, valid: { message: 'Please try the rear tray.', seen: '' } } }
  })),
  { name: 'draft with a canned response', group: 'ticket', as: 'bob', prepare: async ({ ticket }) => { const n = await ticket(); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/draft`, valid: { message: 'Hello', canned: '1', seen: '' } } } },
  { name: 'assignment', group: 'ticket', as: 'bob', prepare: async ({ ticket, desk }) => { const n = await ticket(); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/assignment`, valid: { agent: String(desk!.agents.bob.id), team: String(desk!.teams.printers), claim: '' } } } },
  { name: 'claim', group: 'ticket', as: 'bob', prepare: async ({ ticket, desk }) => { const n = await ticket(); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/assignment`, valid: { agent: String(desk!.agents.bob.id), claim: '1' } } } },
  { name: 'status', group: 'ticket-changes', as: 'bob', prepare: async ({ ticket }) => { const n = await ticket(); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/status`, valid: { status: 'resolved' } } } },
  { name: 'priority', group: 'ticket-changes', as: 'bob', prepare: async ({ ticket }) => { const n = await ticket(); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/priority`, valid: { priority: '3' } } } },
  { name: 'transfer', group: 'ticket-changes', as: 'bob', prepare: async ({ ticket, desk }) => { const n = await ticket(); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/department`, valid: { department: String(desk!.departments.billing) } } } },
  { name: 'merge', group: 'ticket-changes', as: 'ada', prepare: async ({ ticket }) => { const n = await ticket(); const into = await ticket('Same printer'); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/merge`, valid: { target: into } } } },
  { name: 'deletion', group: 'ticket-changes', as: 'ada', prepare: async ({ ticket }) => { const n = await ticket(); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/deletion`, valid: {} } } },
  { name: 'ticket link', group: 'around-ticket', as: 'bob', prepare: async ({ ticket }) => { const n = await ticket(); const other = await ticket('Toner streaks'); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/links`, valid: { target: other } } } },
  { name: 'ticket unlink', group: 'around-ticket', as: 'bob', prepare: async ({ ticket }) => { const n = await ticket(); const other = await ticket('Toner streaks'); return { page: `/staff/tickets/${n}`, action: `/staff/tickets/${n}/links/${other}/deletion`, valid: {} } } },
  { name: 'bulk action', group: 'desk', as: 'bob', prepare: async ({ ticket }) => { const n = await ticket(); return { page: '/staff/queues/open', action: '/staff/bulk', valid: { action: 'priority', tickets: n, priority: '1', back: '/staff/queues/open' } } } },
  { name: 'outbox test message', group: 'desk', as: 'ada', prepare: async () => ({ page: '/staff/admin/outbox', action: '/staff/admin/outbox/test', valid: {} }) },
  { name: 'outbox retry', group: 'desk', as: 'ada', prepare: async () => ({ page: '/staff/admin/outbox', action: '/staff/admin/outbox/1/retry', valid: {} }) },
  ...catalogForms(),
  {
    name: 'preferences',
    group: 'preferences',
    as: 'bob',
    prepare: async ({ desk }) => ({
      page: '/staff/preferences',
      action: '/staff/preferences',
      valid: { name: 'Bob Kahn', email: desk!.agents.bob.email, signature: 'Bob\nPrinters', defaultSignature: 'department', defaultQueue: 'mine', rowsPerPage: '20', timeZone: 'Europe/Berlin', dateStyle: 'day-month', awayUntil: '' }
    })
  },
  {
    name: 'department signature',
    group: 'signatures',
    as: 'ada',
    prepare: async ({ desk }) => ({ page: `/staff/admin/departments/${desk!.departments.support}`, action: `/staff/admin/departments/${desk!.departments.support}/signature`, valid: { signature: 'Support team' } })
  },
  { name: 'new ticket for a caller', group: 'desk-tools', as: 'bob', prepare: async ({ desk }) => ({ page: '/staff/tickets/new', action: '/staff/tickets', valid: { name: 'Carl Caller', email: 'carl@example.com', source: 'phone', topic: String(desk!.topics.broken), department: '', priority: '', assignee: '', subject: 'Phone is dead', message: 'It does not ring.', notify: 'yes', firstKind: 'note', firstBody: 'Called back.' } }) },
  { name: 'blocked sender', group: 'desk-tools', as: 'ada', prepare: async () => ({ page: '/staff/admin/blocked-senders', action: '/staff/admin/blocked-senders', valid: { sender: 'spam.example' } }) },
  { name: 'blocked sender removal', group: 'desk-tools', as: 'ada', prepare: async ({ app, desk }) => { const { id } = await app.blockedSenders.block((await loadAgentAccess(app.db, desk!.agents.ada.id))!, 'spam.example'); return { page: '/staff/admin/blocked-senders', action: `/staff/admin/blocked-senders/${id}/removal`, valid: {} } } },
  { name: 'two-factor requirement', group: 'desk-tools', as: 'ada', prepare: async () => ({ page: '/staff/admin/two-factor', action: '/staff/admin/two-factor', valid: { required: 'admins' } }) },
  { name: 'two-factor reset', group: 'desk-tools', as: 'ada', prepare: async ({ desk }) => ({ page: '/staff/admin/two-factor', action: `/staff/admin/two-factor/${desk!.agents.bob.id}/removal`, valid: {} }) },
  { name: 'two-factor confirmation', group: 'desk-tools', as: 'bob', prepare: async () => ({ page: '/staff/account/two-factor', action: '/staff/account/two-factor', valid: { code: '123456' } }) },
  { name: 'two-factor removal', group: 'desk-tools', as: 'bob', prepare: async () => ({ page: '/staff/account/two-factor', action: '/staff/account/two-factor/removal', valid: { password, code: '123456' } }) }
]

/** The admin forms for departments, help topics and teams. */
function catalogForms (): StaffForm[] {
  const department = { name: 'Returns', senderName: 'Returns desk', senderAddress: 'returns@desk.test', defaultPriority: '2', newTicketNotice: 'agents' }
  const topic = (desk: Desk): Record<string, string> => ({ name: 'Returns', visibility: 'public', sortOrder: '1', department: String(desk.departments.support), priority: '', team: String(desk.teams.printers), agent: String(desk.agents.bob.id) })
  const departmentPage = (desk: Desk): string => `/staff/admin/departments/${desk.departments.billing}`
  const topicPage = (desk: Desk): string => `/staff/admin/topics/${desk.topics.billing}`
  const teamPage = (desk: Desk): string => `/staff/admin/teams/${desk.teams.printers}`
  const form = (group: StaffForm['group'], name: string, page: (desk: Desk) => string, action: (desk: Desk) => string, valid: (desk: Desk) => Record<string, string>): StaffForm =>
    ({ name, group, as: 'ada', prepare: async ({ desk }) => ({ page: page(desk!), action: action(desk!), valid: valid(desk!) }) })
  return [
    form('departments', 'new department', () => '/staff/admin/departments', () => '/staff/admin/departments', () => department),
    form('departments', 'department settings', departmentPage, departmentPage, () => ({ ...department, name: 'Billing' })),
    form('departments', 'department address', departmentPage, (d) => `${departmentPage(d)}/addresses`, () => ({ address: 'billing@desk.test' })),
    form('departments', 'department address removal', departmentPage, (d) => `${departmentPage(d)}/addresses/1/deletion`, () => ({})),
    form('departments', 'department archival', departmentPage, (d) => `${departmentPage(d)}/archival`, () => ({})),
    form('departments', 'department reactivation', departmentPage, (d) => `${departmentPage(d)}/reactivation`, () => ({})),
    form('departments', 'department ticket move', departmentPage, (d) => `${departmentPage(d)}/transfer`, (d) => ({ department: String(d.departments.support) })),
    form('departments', 'department deletion', departmentPage, (d) => `${departmentPage(d)}/deletion`, () => ({})),
    form('topics-teams', 'new help topic', () => '/staff/admin/topics', () => '/staff/admin/topics', topic),
    form('topics-teams', 'help topic settings', topicPage, topicPage, (d) => ({ ...topic(d), name: 'Invoices' })),
    form('topics-teams', 'help topic retirement', topicPage, (d) => `${topicPage(d)}/retirement`, () => ({})),
    form('topics-teams', 'help topic reinstatement', topicPage, (d) => `${topicPage(d)}/reinstatement`, () => ({})),
    form('topics-teams', 'new team', () => '/staff/admin/teams', () => '/staff/admin/teams', () => ({ name: 'Network' })),
    form('topics-teams', 'team settings', teamPage, teamPage, (d) => ({ name: 'Printers', lead: String(d.agents.bob.id) })),
    form('topics-teams', 'team member', teamPage, (d) => `${teamPage(d)}/members`, (d) => ({ agent: String(d.agents.ned.id) })),
    form('topics-teams', 'team member removal', teamPage, (d) => `${teamPage(d)}/members/${d.agents.bob.id}/removal`, () => ({})),
    form('topics-teams', 'team deletion', teamPage, (d) => `${teamPage(d)}/deletion`, () => ({}))
  ]
}

export const prototypeKeys = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']

interface StaffCase {
  name: string
  body: (token: string) => string | Buffer
  contentType?: string | null
  headers?: Record<string, string>
  noCsrf?: boolean
}

function staffCorpus (valid: Record<string, string>): StaffCase[] {
  const names = Object.keys(valid)
  // Forms without fields still get the attacks, in a field they do not expect.
  const targets = names.length > 0 ? names : ['extra']
  const form = (token: string | null, values: Record<string, string | string[]>, raw = ''): string => {
    const params = new URLSearchParams()
    if (token !== null) params.append('_csrf', token)
    for (const [name, value] of Object.entries(values)) for (const v of [value].flat()) params.append(name, v)
    return params.toString() + raw
  }
  const every = (value: string | string[]): Record<string, string | string[]> => ({ ...valid, ...Object.fromEntries(targets.map((n) => [n, value])) })
  const rawEvery = (encoded: string): (token: string) => string => (token) =>
    form(token, Object.fromEntries(Object.entries(valid).filter(([n]) => !targets.includes(n)))) + targets.map((n) => `&${n}=${encoded}`).join('')
  const cases: StaffCase[] = [
    { name: 'with every field empty', body: (token) => form(token, every('')) },
    { name: 'with only the token', body: (token) => form(token, {}) },
    { name: 'with every field 100,000 characters long', body: (token) => form(token, every('x'.repeat(100_000))) },
    { name: 'with every field 100,000 digits long', body: (token) => form(token, every('7'.repeat(100_000))) },
    { name: 'with a 2 MB body', body: (token) => form(token, { ...valid, [targets[0]!]: 'x'.repeat(2 * 1024 * 1024) }) },
    { name: 'with every field sent twice', body: (token) => form(token, every(['first', 'second'])) },
    { name: 'with every field sent 1,000 times', body: (token) => form(token, every(Array.from({ length: 1000 }, (_, i) => String(i)))) },
    { name: 'with qs-style names (field[]=, field[x]=)', body: (token) => form(token, {}, targets.map((n) => `&${encodeURIComponent(`${n}[]`)}=a&${encodeURIComponent(`${n}[x]`)}=b`).join('')) },
    { name: 'with prototype keys as field names', body: (token) => form(token, { ...valid, ...Object.fromEntries(prototypeKeys.map((k) => [k, 'x'])) }) },
    { name: 'with nested prototype keys (__proto__[polluted]=1, constructor[prototype][polluted]=1)', body: (token) => form(token, valid, '&__proto__%5Bpolluted%5D=1&constructor%5Bprototype%5D%5Bpolluted%5D=1&__proto__.polluted=1') },
    ...prototypeKeys.map((key): StaffCase => ({ name: `with ${key} as every value`, body: (token) => form(token, every(key)) })),
    ...([['%00 (NUL)', 'before%00after'], ['%1B (ESC)', 'before%1B%5B2Jafter'], ['CR LF', 'before%0D%0ASet-Cookie:%20x=1after'],
      ['%C3%28 (invalid UTF-8)', 'before%C3%28after'], ['%80 (a lone continuation byte)', 'before%80after'], ['%ED%A0%80 (an encoded surrogate)', 'before%ED%A0%80after']] as const)
      .map(([what, encoded]): StaffCase => ({ name: `with ${what} in every field`, body: rawEvery(encoded) })),
    { name: 'with raw byte 0xFF in every field', body: (token) => Buffer.concat([Buffer.from(rawEvery('before')(token)), Buffer.from([0xff]), Buffer.from('after')]) },
    { name: 'with markup in every field', body: (token) => form(token, every('"><script>alert(1)</script><img src=x onerror=alert(1)>')) },
    { name: 'with SQL in every field', body: (token) => form(token, every("'); DROP TABLE tickets;--")) },
    { name: 'with non-ASCII and emoji in every field', body: (token) => form(token, every('Müller € 😀 中文 \u202Eevil')) },
    { name: 'with a forged token', body: () => form('forged-token', valid), noCsrf: true },
    { name: 'without a token', body: () => form(null, valid), noCsrf: true },
    { name: 'with a forged token (htmx)', body: () => form('forged-token', valid), headers: { 'hx-request': 'true' }, noCsrf: true },
    { name: 'as htmx with HX-Target: constructor', body: (token) => form(token, valid), headers: { 'hx-request': 'true', 'hx-target': 'constructor' } },
    { name: 'as htmx with HX-Target: toString', body: (token) => form(token, every('')), headers: { 'hx-request': 'true', 'hx-target': 'toString' } },
    { name: 'with a JSON body whose values are objects and arrays', body: (token) => JSON.stringify({ _csrf: token, ...Object.fromEntries(targets.map((n, i) => [n, [['a', 'b'], { a: 1 }, 7, true, null][i % 5]])) }), contentType: 'application/json' },
    { name: 'with a JSON body carrying __proto__ and constructor', body: (token) => `{"_csrf":${JSON.stringify(token)},"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}${targets.map((n) => `,${JSON.stringify(n)}:{"__proto__":{"polluted":1}}`).join('')}}`, contentType: 'application/json' },
    { name: 'with a JSON body holding half an emoji in every field', body: (token) => `{"_csrf":${JSON.stringify(token)}${targets.map((n) => `,${JSON.stringify(n)}:"\\ud83dx"`).join('')}}`, contentType: 'application/json' },
    { name: 'with malformed JSON', body: () => '{"_csrf": ', contentType: 'application/json' },
    { name: 'as text/plain', body: (token) => form(token, valid), contentType: 'text/plain' },
    { name: 'as multipart garbage', body: () => '--xyz\r\ngarbage without headers\r\n--x', contentType: 'multipart/form-data; boundary=xyz' },
    { name: 'without a content type', body: (token) => form(token, valid), contentType: null },
    // Last, as it may change the ticket (delete it, merge it) the other cases work on.
    { name: 'with valid values', body: (token) => form(token, valid) }
  ]
  return cases
}

/** What every staff answer must be; the parts of assertSafe that hold for redirects and empty htmx answers too. */
function assertStaffSafe (t: Test, answer: Answer, label: string, htmx: boolean): void {
  if (answer.status >= 300 && answer.status < 400) {
    t.ok(answer.status < 500, `${label}: not a server error (got ${answer.status})`)
    t.match(answer.location ?? '', /^\/(?![/\\])[\x21-\x7e]*$/, `${label}: redirected inside the site (${shorten(answer.location ?? '')})`)
    return
  }
  if (answer.body === '' && answer.status < 500) {
    t.pass(`${label}: an empty ${answer.status} answer`)
    return
  }
  assertSafe(t, answer, label, { fragment: htmx })
  t.not(answer.body.trim(), '[object Object]', `${label}: not an object printed as text`)
}

/**
 * Runs the corpus against every staff form of `group`, each on a desk of its own. The
 * forms are split in groups only so that each test file stays within tap's time limit.
 */
export function staffCorpusTests (group: StaffForm['group']): void {
  for (const staffForm of staffForms.filter((form) => form.group === group)) {
    t.test(`POST for the staff ${staffForm.name} form survives bad input`, async (t) => {
      const app = await testApp(t, { TICKET_RATE_LIMIT: '100000' })
      const desk = staffForm.emptyDesk ? undefined : await seedDesk(app)
      const ticket = async (subject = 'Printer jams on page two'): Promise<string> => (await openTicket(app, desk!.topics.broken, subject)).number
      const { page, action, valid } = await staffForm.prepare({ app, desk, ticket })
      const agent = staffForm.as === undefined ? undefined : desk!.agents[staffForm.as]
      let visitor = agent ? (await signIn(app, agent.email)).visitor : new Visitor(app)
      let token: string | undefined
      for (const c of staffCorpus(valid)) {
        const label = `${staffForm.name}: POST ${shorten(action)} ${c.name}`
        // Signed in again after a case that signed out.
        if (agent && !visitor.cookie('tessera_staff')) {
          visitor = (await signIn(app, agent.email)).visitor
          token = undefined
        }
        // The form's page as a browser has it: its token and cookies.
        token ??= (await visitor.get(page)).$('input[name=_csrf]').first().attr('value') ?? ''
        const cookie = ['tessera_csrf', 'tessera_staff'].map((name) => [name, visitor.cookie(name)] as const)
          .filter(([, value]) => value !== undefined).map(([name, value]) => `${name}=${value!}`).join('; ')
        const answer = await send(app, 'POST', action, { payload: c.body(token), contentType: c.contentType, cookie, headers: c.headers })
        assertStaffSafe(t, answer, label, c.headers?.['hx-request'] === 'true')
        if (c.noCsrf) t.ok([303, 403, 404].includes(answer.status), `${label}: refused (${answer.status})`)
        t.equal(({} as Record<string, unknown>).polluted, undefined, `${label}: Object.prototype is untouched`)
      }
    })
  }
}
