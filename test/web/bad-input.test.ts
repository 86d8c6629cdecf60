import t, { type Test } from 'tap'
import type * as cheerio from 'cheerio'
import type { FastifyInstance } from 'fastify'
import { findTicketView, listEntries } from '../../src/data/tickets.js'
import { testApp } from '../helpers/app.js'
import { assertSafe, fromPage, mainText, send, shorten, urlencoded, type Answer } from '../helpers/answers.js'
import { Visitor } from '../helpers/visitor.js'

/*
 * Bad input driven through the real forms: fetch the page, take the CSRF token from the
 * form, send something a browser (or someone with curl) could send. Whatever arrives, the
 * answer is an HTML page, never a 5xx, never JSON or a stack trace; mistakes in a form come
 * back as 422 with every typed word kept and the error beside its field; and nothing typed
 * ever becomes live markup.
 */

// ---------------------------------------------------------------------------------------
// The forms under test.

interface FieldUnderTest {
  maxLength: number
  /** What the form says when the field is empty. */
  missing?: string
  kind: 'input' | 'textarea' | 'select'
  /** Free text: anything printable is fine, so bad bytes are the only reason to refuse it. */
  text?: boolean
  /** The error for a value over maxLength, when it is not the usual one. */
  tooLong?: RegExp
}

interface FormUnderTest {
  /** The prefix of the form's field ids: `#<id>-<field>`, `#<id>-<field>-error`. */
  id: string
  page: string
  action: string
  valid: Record<string, string>
  fields: Record<string, FieldUnderTest>
  /** The cookies a browser would send with the form, as [name, path]. */
  cookies: Array<[string, string | undefined]>
  /** A multipart/form-data form (it takes files). */
  takesFiles?: boolean
}

interface Opened { token: string, cookie: string }

/** Fetches the page like a browser and reads the CSRF token from the form on it. */
async function open (t: Test, visitor: Visitor, form: FormUnderTest): Promise<Opened> {
  const page = await visitor.get(form.page)
  t.equal(page.status, 200, `${form.page} shows the form`)
  const token = page.$(`form[action="${form.action}"] input[name=_csrf]`).attr('value')
  if (!token) throw new Error(`no CSRF token in form ${form.action} on ${form.page}`)
  const cookie = form.cookies
    .map(([name, path]) => [name, visitor.cookie(name, path)] as const)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${value!}`)
    .join('; ')
  return { token, cookie }
}

type Overrides = Record<string, string | string[] | undefined>

/** The form's valid values with some replaced (an array repeats the field, undefined leaves it out), url-encoded. */
function fill (form: FormUnderTest, token: string | null, overrides: Overrides = {}, raw = ''): string {
  const params = new URLSearchParams()
  if (token !== null) params.append('_csrf', token)
  const values: Overrides = { ...form.valid, ...overrides }
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) params.append(name, v)
  }
  return params.toString() + raw
}

/** The form with one field's value written in raw url-encoding (or raw bytes), exactly as given. */
function fillRaw (form: FormUnderTest, token: string, name: string, encoded: string | Buffer): string | Buffer {
  const rest = fill(form, token, { [name]: undefined })
  if (typeof encoded === 'string') return `${rest}&${name}=${encoded}`
  return Buffer.concat([Buffer.from(`${rest}&${name}=`), encoded])
}

type Expectation =
  /** 422: the form again, with an error beside each named field (and only those), and text kept. */
  | { kind: 'invalid', errors: Record<string, RegExp>, kept?: Record<string, string | RegExp> }
  /** 403: the form again with a message at the top, and text kept. */
  | { kind: 'refused', kept?: Record<string, string | RegExp> }
  /** An error page with one of these statuses. */
  | { kind: 'page', status: number[], shows: RegExp }
  /** Any of these statuses will do, as long as the answer is safe. */
  | { kind: 'any', status: number[] }

interface Case {
  name: string
  body: (token: string) => string | Buffer
  contentType?: string | null
  headers?: Record<string, string>
  /** Send without the cookies the page set (a browser that lost them). */
  noCookies?: boolean
  expect: Expectation
  fragment?: boolean
}

function fieldValue ($: cheerio.CheerioAPI, id: string): string | undefined {
  const field = $(`#${id}`)
  if (field.length === 0) return undefined
  if (field.is('textarea')) return field.text()
  if (field.is('select')) return field.find('option[selected]').attr('value') ?? ''
  return field.attr('value') ?? ''
}

function assertKept (t: Test, answer: Answer, form: FormUnderTest, kept: Record<string, string | RegExp>, label: string): void {
  for (const [name, want] of Object.entries(kept)) {
    const value = fieldValue(answer.$, `${form.id}-${name}`)
    if (typeof want === 'string') t.equal(value, want, `${label}: ${name} keeps the typed text`)
    else t.match(value, want, `${label}: ${name} keeps the typed text`)
  }
}

/** Runs one case; returns the status, so the caller can tell what may have been saved. */
async function runCase (t: Test, app: FastifyInstance, visitor: Visitor, form: FormUnderTest, c: Case): Promise<number> {
  const label = `${form.action} ${c.name}`
  const { token, cookie } = await open(t, visitor, form)
  const answer = await send(app, 'POST', form.action, {
    payload: c.body(token),
    contentType: c.contentType,
    cookie: c.noCookies ? undefined : cookie,
    headers: c.headers
  })
  if (!assertSafe(t, answer, label, { fragment: c.fragment })) return answer.status
  const { $ } = answer
  const expect = c.expect
  const unexpected = (status: number): boolean => {
    if (answer.status === status) return false
    t.fail(`${label}: answered ${status}`, {
      status: answer.status,
      ...(answer.location ? { location: answer.location } : { errors: $('.error-summary li').map((_, li) => $(li).text()).get() })
    })
    return true
  }
  switch (expect.kind) {
    case 'invalid': {
      if (unexpected(422)) break
      for (const [name, message] of Object.entries(expect.errors)) {
        const id = `${form.id}-${name}`
        t.match($(`#${id}-error`).text(), message, `${label}: the error is beside ${name}`)
        t.match($(`#${id}`).attr('aria-describedby') ?? '', new RegExp(`(^| )${id}-error( |$)`), `${label}: ${name} is described by its error`)
        t.equal($(`#${id}`).attr('aria-invalid'), 'true', `${label}: ${name} is marked invalid`)
        t.equal($(`.error-summary a[href="#${id}"]`).length, 1, `${label}: the summary links to ${name}`)
      }
      const shown = $('.field .error').map((_, el) => $(el).attr('id')).get().sort()
      t.strictSame(shown, Object.keys(expect.errors).map((name) => `${form.id}-${name}-error`).sort(), `${label}: errors on exactly the expected fields`)
      if (expect.kept) assertKept(t, answer, form, expect.kept, label)
      break
    }
    case 'refused': {
      if (unexpected(403)) break
      t.match($('.error-summary').text(), /expired|nothing was saved/, `${label}: says the form was not accepted`)
      t.equal($(`form[action="${form.action}"]`).length, 1, `${label}: the form is there to send again`)
      t.ok($(`form[action="${form.action}"] input[name=_csrf]`).attr('value'), `${label}: with a fresh token`)
      if (expect.kept) assertKept(t, answer, form, expect.kept, label)
      break
    }
    case 'page': {
      t.ok(expect.status.includes(answer.status), `${label}: status ${answer.status} is one of ${expect.status.join(', ')}`)
      t.match(mainText(answer.$), expect.shows, `${label}: says what happened`)
      break
    }
    case 'any':
      t.ok(expect.status.includes(answer.status), `${label}: status ${answer.status} is one of ${expect.status.join(', ')}`)
      break
  }
  return answer.status
}

async function countRows (app: FastifyInstance, table: string): Promise<number> {
  const row = await app.db(table).count({ n: '*' }).first() as { n: number | string } | undefined
  return Number(row?.n ?? 0)
}

// ---------------------------------------------------------------------------------------
// The corpus, built for any form from its fields.

const scripts = [
  '<script>alert(1)</script>',
  '"><script>alert(1)</script>',
  "'><script>alert(1)</script>",
  '</textarea><script>alert(1)</script>',
  '</option></select><script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)>',
  // eslint-disable-next-line no-template-curly-in-string
  '<%= it.csrfToken() %>{{7*7}}${7*7}',
  '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#x3C;b&#x3E;'
]

const sqlFragments = [
  "' OR '1'='1",
  "'); DROP TABLE tickets;--",
  '1; DELETE FROM requesters; --',
  '" OR ""="',
  "Robert'); DROP TABLE thread_entries;-- \\' \\\" %' _"
]

/** A value one character too long, of the right shape for the field. */
function tooLong (name: string, max: number): string {
  if (name === 'email') return 'a'.repeat(max + 1 - '@example.com'.length) + '@example.com'
  if (name === 'number' || name === 'topic') return '1'.repeat(max + 1)
  return 'x'.repeat(max + 1)
}

function requiredFields (form: FormUnderTest): string[] {
  return Object.entries(form.fields).filter(([, f]) => f.missing !== undefined).map(([name]) => name)
}

function missingErrors (form: FormUnderTest, names: string[]): Record<string, RegExp> {
  return Object.fromEntries(names.map((name) => [name, new RegExp(escapeRegExp(form.fields[name]!.missing!))]))
}

function escapeRegExp (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * A field of `form` to spoil so the form comes back without saving, for cases that want to
 * see a value kept in another field; undefined when the form has no such second field.
 */
function spoiler (form: FormUnderTest, except: string): { name: string, value: string, error: RegExp } | undefined {
  if (except !== 'email' && form.fields.email) return { name: 'email', value: 'not-an-address', error: /like name@example\.com/ }
  if (except !== 'number' && form.fields.number) return { name: 'number', value: 'abc', error: /6 to 12 digits/ }
  return undefined
}

function corpus (form: FormUnderTest): Case[] {
  const cases: Case[] = []
  const required = requiredFields(form)
  const textFields = Object.entries(form.fields).filter(([, f]) => f.text).map(([name]) => name)
  const keptAll = (overrides: Overrides = {}): Record<string, string> => Object.fromEntries(
    Object.entries({ ...form.valid, ...overrides })
      .filter(([name, v]) => typeof v === 'string' && form.fields[name] !== undefined)
      .map(([name, v]) => [name, v as string]))

  // Empty, blank and missing.
  cases.push({
    name: 'with every field empty',
    body: (token) => fill(form, token, Object.fromEntries(Object.keys(form.fields).map((n) => [n, '']))),
    expect: { kind: 'invalid', errors: missingErrors(form, required) }
  })
  const blanks = Object.fromEntries(required.filter((n) => form.fields[n]!.kind !== 'select').map((n) => [n, '  \t ']))
  cases.push({
    name: 'with every field only white space',
    body: (token) => fill(form, token, { ...blanks, ...(form.fields.topic ? { topic: ' ' } : {}) }),
    expect: { kind: 'invalid', errors: missingErrors(form, required), kept: blanks }
  })
  cases.push({
    name: 'with only the token (every field missing)',
    body: (token) => `_csrf=${encodeURIComponent(token)}`,
    expect: { kind: 'invalid', errors: missingErrors(form, required) }
  })
  for (const name of required) {
    cases.push({
      name: `without the ${name} field`,
      body: (token) => fill(form, token, { [name]: undefined }),
      expect: { kind: 'invalid', errors: missingErrors(form, [name]), kept: keptAll({ [name]: undefined }) }
    })
  }

  // Too long, and too large for the server.
  for (const [name, field] of Object.entries(form.fields)) {
    const value = tooLong(name, field.maxLength)
    cases.push({
      name: `with ${name} one character over its maxlength (${field.maxLength})`,
      body: (token) => fill(form, token, { [name]: value }),
      expect: {
        kind: 'invalid',
        errors: { [name]: field.tooLong ?? new RegExp(`must be ${field.maxLength} characters or fewer`) },
        kept: field.kind === 'select' ? keptAll({ [name]: undefined }) : keptAll({ [name]: value })
      }
    })
  }
  const biggest = Object.entries(form.fields).find(([, f]) => f.kind === 'textarea')?.[0] ?? 'email'
  const almostMegabyte = biggest === 'email' ? 'a'.repeat(1000 * 1000) + '@example.com' : 'x'.repeat(1000 * 1000)
  cases.push({
    name: `with a ${biggest} of 1,000,000 characters (under the 1 MB body limit)`,
    body: (token) => fill(form, token, { [biggest]: almostMegabyte }),
    expect: { kind: 'invalid', errors: { [biggest]: new RegExp(`must be ${form.fields[biggest]!.maxLength} characters or fewer`) }, kept: keptAll({ [biggest]: almostMegabyte }) }
  })
  for (const hx of [false, true]) {
    cases.push({
      name: `with a 2 MB body${hx ? ' (htmx)' : ''}`,
      body: (token) => fill(form, token, { [biggest]: 'x'.repeat(2 * 1024 * 1024) }),
      headers: hx ? { 'hx-request': 'true' } : undefined,
      fragment: hx,
      expect: { kind: 'page', status: [413], shows: /too large/ }
    })
  }

  // E-mail addresses that are not.
  if (form.fields.email) {
    for (const email of ['not-an-address', 'ann@', '@example.com', 'ann@example..com', 'ann@exa mple.com', 'ann@@example.com', 'ann@example.com\r\nBcc: eve@example.com']) {
      cases.push({
        name: `with the e-mail address ${JSON.stringify(email)}`,
        body: (token) => fill(form, token, { email }),
        expect: { kind: 'invalid', errors: { email: /like name@example\.com/ }, kept: keptAll({ email: email.replace(/\r\n?/g, '\n') }) }
      })
    }
  }

  // Bytes that are not text: invalid UTF-8, percent-encoded (the usual way a urlencoded body carries bytes)
  // and raw, and control characters.
  const badBytes: Array<[string, string | Buffer]> = [
    ['%C3%28 (percent-encoded invalid UTF-8)', 'before%C3%28after'],
    ['raw bytes 0xC3 0x28 (invalid UTF-8)', Buffer.from([...Buffer.from('before'), 0xc3, 0x28, ...Buffer.from('after')])]
  ]
  const moreBadBytes: Array<[string, string | Buffer]> = [
    ['%80 (a lone continuation byte)', 'before%80after'],
    ['%C0%AF (an overlong /)', 'before%C0%AFafter'],
    ['%ED%A0%80 (an encoded surrogate)', 'before%ED%A0%80after'],
    ['raw byte 0xFF', Buffer.from([...Buffer.from('before'), 0xff, ...Buffer.from('after')])]
  ]
  const controls: Array<[string, string]> = [['%00 (NUL)', 'before%00after'], ['%07 (BEL)', 'before%07after'], ['%1B (ESC)', 'before%1B%5B2Jafter'], ['%7F (DEL)', 'before%7Fafter']]
  for (const name of textFields) {
    const field = form.fields[name]!
    const many = field.kind === 'textarea'
    for (const [what, encoded] of [...badBytes, ...(many ? moreBadBytes : [])]) {
      cases.push({
        name: `with ${what} in ${name}`,
        body: (token) => fillRaw(form, token, name, encoded),
        expect: { kind: 'invalid', errors: { [name]: /could not be read/ }, kept: { ...keptAll({ [name]: undefined }), [name]: /before[\s\S]*after/ } }
      })
    }
    for (const [what, encoded] of many ? controls : controls.slice(0, 1)) {
      cases.push({
        name: `with ${what} in ${name}`,
        body: (token) => fillRaw(form, token, name, encoded),
        expect: { kind: 'invalid', errors: { [name]: /control characters/ }, kept: { ...keptAll({ [name]: undefined }), [name]: /before[\s\S]*after/ } }
      })
    }
  }
  for (const name of Object.keys(form.fields).filter((n) => !form.fields[n]!.text && form.fields[n]!.kind !== 'select')) {
    cases.push({
      name: `with %C3%28 and %00 in ${name}`,
      body: (token) => fillRaw(form, token, name, 'before%C3%28%00after'),
      expect: { kind: 'invalid', errors: { [name]: /\S/ }, kept: { [name]: /before[\s\S]*after/ } }
    })
  }
  cases.push({
    name: 'with percent signs that are not escapes',
    body: (token) => fillRaw(form, token, Object.keys(form.fields).find((n) => form.fields[n]!.text) ?? 'email', '100%25+sure%ZZ%'),
    expect: { kind: 'any', status: [303, 422] }
  })

  // Markup and SQL: kept as typed, shown as text.
  for (const name of Object.keys(form.fields).filter((n) => n !== 'website')) {
    const spoil = spoiler(form, name)
    for (const payload of [...scripts, ...sqlFragments]) {
      const isSql = sqlFragments.includes(payload)
      if (!spoil && form.fields[name]!.kind !== 'select') {
        // The only field: make it too long so the form comes back, and check the text survives.
        const value = payload + 'x'.repeat(form.fields[name]!.maxLength)
        cases.push({
          name: `with ${isSql ? 'SQL' : 'markup'} ${JSON.stringify(payload)} in an over-long ${name}`,
          body: (token) => fill(form, token, { [name]: value }),
          expect: { kind: 'invalid', errors: { [name]: /characters or fewer/ }, kept: { [name]: value } }
        })
        continue
      }
      const errors: Record<string, RegExp> = {}
      if (spoil) errors[spoil.name] = spoil.error
      const field = form.fields[name]!
      if (field.kind === 'select') errors[name] = /Choose one of the help topics|characters or fewer/
      else if (name === 'email') errors[name] = /like name@example\.com/
      else if (name === 'number') errors[name] = /6 to 12 digits|12 characters or fewer/
      const overrides: Overrides = { [name]: payload, ...(spoil ? { [spoil.name]: spoil.value } : {}) }
      cases.push({
        name: `with ${isSql ? 'SQL' : 'markup'} ${JSON.stringify(payload)} in ${name}`,
        body: (token) => fill(form, token, overrides),
        expect: field.kind === 'select'
          ? { kind: 'invalid', errors, kept: keptAll({ [name]: undefined, ...(spoil ? { [spoil.name]: spoil.value } : {}) }) }
          : { kind: 'invalid', errors, kept: keptAll(overrides) }
      })
    }
  }

  // The same field twice, and qs-style names.
  for (const name of Object.keys(form.fields).filter((n) => form.fields[n]!.kind !== 'select' && n !== 'website')) {
    cases.push({
      name: `with ${name} sent twice (${name}=first&${name}=second)`,
      body: (token) => fill(form, token, { [name]: ['first', 'second'] }),
      expect: { kind: 'invalid', errors: { [name]: /must be text/ }, kept: { [name]: /first[\s\S]*second/ } }
    })
  }
  const first = required[0]!
  cases.push({
    name: `with qs-style names (${first}[]=, ${first}[x]=) instead of ${first}`,
    body: (token) => fill(form, token, { [first]: undefined }, `&${encodeURIComponent(`${first}[]`)}=a&${encodeURIComponent(`${first}[x]`)}=b`),
    expect: { kind: 'invalid', errors: missingErrors(form, [first]) }
  })
  cases.push({
    name: 'with the token sent twice',
    body: (token) => fill(form, token, {}, `&_csrf=${encodeURIComponent(token)}`),
    expect: { kind: 'any', status: [303, 403, 422] }
  })

  // Not a form at all.
  cases.push({
    name: 'with a JSON body carrying the token and valid values',
    body: (token) => JSON.stringify({ _csrf: token, ...form.valid }),
    contentType: 'application/json',
    expect: { kind: 'any', status: [303, 415] }
  })
  cases.push({
    name: 'with a JSON body whose values are not strings',
    body: (token) => JSON.stringify({
      _csrf: token,
      ...form.valid,
      ...Object.fromEntries(Object.keys(form.fields).filter((n) => n !== 'website').map((n, i) => [n, [['a', 'b'], { a: 1 }, true][i % 3]]))
    }),
    contentType: 'application/json',
    expect: { kind: 'any', status: [415, 422] }
  })
  cases.push({
    name: 'with a JSON body without the token',
    body: () => JSON.stringify(form.valid),
    contentType: 'application/json',
    expect: { kind: 'any', status: [403, 415] }
  })
  for (const [what, json] of [['malformed JSON', '{"_csrf": '], ['a JSON array', '[1,2,3]'], ['a JSON string', '"hello"'], ['JSON null', 'null']] as const) {
    cases.push({
      name: `with ${what} as the body`,
      body: () => json,
      contentType: 'application/json',
      expect: { kind: 'any', status: [400, 403, 415] }
    })
  }
  cases.push({
    name: 'as text/plain',
    body: (token) => fill(form, token),
    contentType: 'text/plain',
    expect: { kind: 'any', status: [403, 415] }
  })
  cases.push({
    name: 'as multipart garbage',
    body: () => '--xyz\r\ngarbage without headers\r\n--x',
    contentType: 'multipart/form-data; boundary=xyz',
    // Garbage carries no token either: the form comes back, saying it expired, or is refused.
    expect: { kind: 'page', status: [400, 403, 415], shows: /not accepted|could not be understood|expired/ }
  })
  cases.push({
    name: 'as well-formed multipart/form-data',
    body: (token) => Object.entries({ _csrf: token, ...form.valid })
      .map(([k, v]) => `--b0undary\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') + '--b0undary--\r\n',
    contentType: 'multipart/form-data; boundary=b0undary',
    expect: form.takesFiles === true ? { kind: 'any', status: [303] } : { kind: 'page', status: [415], shows: /not accepted/ }
  })
  cases.push({
    name: 'as application/xml',
    body: () => '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    contentType: 'application/xml',
    expect: { kind: 'page', status: [415], shows: /not accepted/ }
  })
  cases.push({
    name: 'without a content type',
    body: (token) => fill(form, token),
    contentType: null,
    expect: { kind: 'any', status: [403, 415] }
  })
  cases.push({
    name: 'with a malformed content type',
    body: (token) => fill(form, token),
    contentType: 'application/x-www-form-urlencoded; ;;; charset',
    expect: { kind: 'any', status: [303, 400, 415] }
  })
  const latin = Object.keys(form.fields).find((n) => form.fields[n]!.text)
  if (latin) {
    cases.push({
      name: `with a latin-1 body (charset=iso-8859-1, "é" as 0xE9) in ${latin}`,
      body: (token) => fillRaw(form, token, latin, Buffer.from([...Buffer.from('Ren'), 0xe9, ...Buffer.from(' here')])),
      contentType: `${urlencoded}; charset=iso-8859-1`,
      expect: { kind: 'invalid', errors: { [latin]: /could not be read/ }, kept: { [latin]: /Ren[\s\S]* here/ } }
    })
  }

  // CSRF: the form comes back with everything typed, and nothing is saved.
  const typed = keptAll()
  cases.push({ name: 'with a forged token', body: () => fill(form, 'forged-token-1234'), expect: { kind: 'refused', kept: typed } })
  cases.push({ name: 'with an empty token', body: () => fill(form, ''), expect: { kind: 'refused', kept: typed } })
  cases.push({ name: 'without a token', body: () => fill(form, null), expect: { kind: 'refused', kept: typed } })
  cases.push({
    name: 'with a forged token and markup in the text',
    body: () => fill(form, 'forged', Object.fromEntries(Object.keys(form.fields).filter((n) => form.fields[n]!.text).map((n) => [n, '<script>alert(1)</script>']))),
    expect: { kind: 'refused', kept: keptAll(Object.fromEntries(Object.keys(form.fields).filter((n) => form.fields[n]!.text).map((n) => [n, '<script>alert(1)</script>']))) }
  })
  cases.push({ name: 'with a valid token but none of the cookies', body: (token) => fill(form, token), noCookies: true, expect: form.cookies.some(([n]) => n === 'tessera_access') ? { kind: 'page', status: [403, 404], shows: /could not be found|expired/ } : { kind: 'refused', kept: typed } })
  cases.push({
    name: 'with a forged token (htmx)',
    body: () => fill(form, 'forged'),
    headers: { 'hx-request': 'true' },
    fragment: true,
    expect: { kind: 'refused', kept: typed }
  })
  return cases
}

// ---------------------------------------------------------------------------------------

const ticketForm: FormUnderTest = {
  id: 'ticket',
  page: '/tickets/new',
  action: '/tickets',
  valid: { topic: '2', name: 'Ada Lovelace', email: 'ada@example.com', subject: 'The engine stops', message: 'It stops after the second card.', website: '' },
  fields: {
    topic: { maxLength: 12, missing: 'Choose a help topic.', kind: 'select' },
    name: { maxLength: 120, missing: 'Enter your name.', kind: 'input', text: true },
    email: { maxLength: 254, missing: 'Enter your e-mail address.', kind: 'input' },
    subject: { maxLength: 200, missing: 'Enter a subject.', kind: 'input', text: true },
    message: { maxLength: 20000, missing: 'Enter your message.', kind: 'textarea', text: true },
    // The honeypot: whatever it holds, the answer is the same.
    website: { maxLength: 200, kind: 'input', tooLong: /Leave this field empty/ }
  },
  cookies: [['tessera_csrf', '/']],
  takesFiles: true
}

const checkForm: FormUnderTest = {
  id: 'check',
  page: '/check',
  action: '/check',
  valid: { email: 'ada@example.com', number: '123456' },
  fields: {
    email: { maxLength: 254, missing: 'Enter your e-mail address.', kind: 'input' },
    number: { maxLength: 12, missing: 'Enter your ticket number.', kind: 'input' }
  },
  cookies: [['tessera_csrf', '/']]
}

function replyForm (number: string): FormUnderTest {
  return {
    id: 'reply',
    page: `/tickets/${number}`,
    action: `/tickets/${number}/replies`,
    valid: { message: 'A reply that is fine.' },
    fields: { message: { maxLength: 20000, missing: 'Enter your message.', kind: 'textarea', text: true } },
    cookies: [['tessera_csrf', '/'], ['tessera_access', `/tickets/${number}`]],
    takesFiles: true
  }
}

/** Opens a ticket through the form; the visitor keeps the access cookie. */
async function openTicket (t: Test, visitor: Visitor, values: Record<string, string> = {}): Promise<string> {
  const form = await visitor.get('/tickets/new')
  const created = await visitor.submit(form, 'form[action="/tickets"]', { ...ticketForm.valid, ...values })
  t.equal(created.status, 200, 'the ticket was opened')
  const number = /Ticket (\d+) received/.exec(created.text)?.[1]
  if (!number) throw new Error(`no ticket number on the confirmation page: ${created.text.slice(0, 300)}`)
  return number
}

function corpusTest (title: string, make: (t: Test, app: FastifyInstance, visitor: Visitor) => Promise<FormUnderTest>): void {
  t.test(title, async (t) => {
    const app = await testApp(t, { TICKET_RATE_LIMIT: '100000' })
    const visitor = new Visitor(app)
    const form = await make(t, app, visitor)
    const ticketsBefore = await countRows(app, 'tickets')
    const entriesBefore = await countRows(app, 'thread_entries')
    let accepted = 0
    for (const c of corpus(form)) {
      await t.test(c.name, async (t) => {
        const status = await runCase(t, app, visitor, form, c)
        if (status === 303) accepted++
      })
    }
    // Whatever was refused saved nothing: only accepted submissions (303) added rows.
    t.equal(await countRows(app, 'tickets') - ticketsBefore, form.id === 'ticket' ? accepted : 0, 'tickets were opened only by accepted submissions')
    t.equal(await countRows(app, 'thread_entries') - entriesBefore, form.id === 'check' ? 0 : accepted, 'messages were stored only for accepted submissions')
  })
}

corpusTest('POST /tickets refuses bad input with its form, keeping the text', async () => ticketForm)
corpusTest('POST /check refuses bad input with its form, keeping the text', async () => checkForm)
corpusTest('POST /tickets/:number/replies refuses bad input with its form, keeping the text', async (t, app, visitor) => replyForm(await openTicket(t, visitor)))

t.test('help topics that do not exist or are not numbers', async (t) => {
  const app = await testApp(t, { TICKET_RATE_LIMIT: '100000' })
  const visitor = new Visitor(app)
  for (const topic of ['999', '0', '-1', 'abc', '1.5', '1e0', ' 1', '0x1', '+1', '１', '99999999999', '1 OR 1=1']) {
    await t.test(`topic ${JSON.stringify(topic)}`, async (t) => {
      await runCase(t, app, visitor, ticketForm, {
        name: `with topic ${JSON.stringify(topic)}`,
        body: (token) => fill(ticketForm, token, { topic }),
        expect: {
          kind: 'invalid',
          errors: { topic: /Choose one of the help topics listed/ },
          kept: { name: 'Ada Lovelace', email: 'ada@example.com', subject: 'The engine stops', message: 'It stops after the second card.' }
        }
      })
    })
  }
  t.equal(await countRows(app, 'tickets'), 0, 'no ticket was opened')
})

t.test('a reply form for a ticket one cannot open', async (t) => {
  const app = await testApp(t)
  const owner = new Visitor(app)
  const number = await openTicket(t, owner)
  const stranger = new Visitor(app)
  const { token, cookie } = await open(t, stranger, checkForm)
  for (const [what, url] of [['someone else’s ticket', `/tickets/${number}/replies`], ['a ticket that does not exist', '/tickets/000001/replies'], ['a ticket number that is not one', '/tickets/abc/replies']] as const) {
    for (const [how, csrf] of [['a valid token', token], ['a forged token', 'forged']] as const) {
      const answer = await send(app, 'POST', url, { payload: `_csrf=${csrf}&message=Hello`, cookie })
      if (!assertSafe(t, answer, `POST ${url} (${what}) with ${how}`)) continue
      t.equal(answer.status, 404, `POST ${url} (${what}) with ${how}: not found, as a page`)
      t.match(mainText(answer.$), /could not be found/, `POST ${url} (${what}) with ${how}: says so`)
    }
  }
  const entries = await listEntries(app.db, (await findTicketView(app.db, number))!.id, { includeNotes: true })
  t.equal(entries.length, 1, 'nothing was added to the ticket')
})

t.test('malformed and unknown URLs answer with an HTML page', async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)
  const number = await openTicket(t, visitor)
  const gets: Array<[string, number[]]> = [
    ['/tickets/%E0%A4%A', [400, 404]],
    ['/tickets/%E0%A4%A/created', [400, 404]],
    ['/tickets/abc', [404]],
    ['/tickets/abc/created', [404]],
    ['/tickets/123456/access/x', [404]],
    [`/tickets/${number}/access/x`, [404]],
    [`/tickets/${number}/access/%E0%A4%A`, [400, 404]],
    [`/tickets/${number}/access/${'A'.repeat(43)}`, [404]],
    [`/tickets/${number}/access/${'A'.repeat(5000)}`, [400, 404, 414]],
    [`/tickets/${'9'.repeat(200)}`, [400, 404, 414]],
    ['/tickets/%00', [404]],
    ['/tickets/..%2F..%2Fetc%2Fpasswd', [404]],
    ['/%', [400, 404]],
    ['/%%32%65', [400, 404]],
    ['/tickets/new?topic=%E0%A4%A', [200]],
    ['/tickets/new?topic=<script>alert(1)</script>', [200]],
    ['/check?sent=%E0%A4%A', [200]],
    ['/check?sent=1&sent=1', [200]],
    ['/<script>alert(1)</script>', [404]]
  ]
  for (const [url, statuses] of gets) {
    // From a fresh address and without cookies: someone arriving from a link.
    const answer = await send(app, 'GET', url)
    if (!assertSafe(t, answer, `GET ${shorten(url)}`)) continue
    t.ok(statuses.includes(answer.status), `GET ${shorten(url)}: status ${answer.status} is one of ${statuses.join(', ')}`)
  }
  const posts = ['/tickets/%E0%A4%A/replies', '/tickets/abc/replies', '/tickets/123456/replies', '/tickets/%E0%A4%A/closure', '/tickets/123456/closure', '/check/%E0%A4%A', '/tickets/new']
  for (const url of posts) {
    const answer = await send(app, 'POST', url, { payload: 'message=x&_csrf=x' })
    if (!assertSafe(t, answer, `POST ${url}`)) continue
    t.ok([400, 403, 404, 405].includes(answer.status), `POST ${url}: status ${answer.status} is a refusal`)
  }
})

t.test('SQL text is stored and shown verbatim', async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)
  const message = "'); DROP TABLE tickets;--"
  const subject = "' OR '1'='1"
  const name = "Robert'); DROP TABLE requesters;--"
  const number = await openTicket(t, visitor, { subject, name, message })

  const ticket = await findTicketView(app.db, number)
  t.ok(ticket, 'the ticket exists')
  t.equal(ticket?.subject, subject, 'the subject is stored verbatim')
  t.equal(ticket?.requester_name, name, 'the name is stored verbatim')
  const entries = await listEntries(app.db, ticket!.id, { includeNotes: true })
  t.equal(entries[0]?.body, message, 'the message is stored verbatim')
  t.equal(await countRows(app, 'tickets'), 1, 'the tickets table is intact')

  const page = await visitor.get(`/tickets/${number}`)
  t.equal(page.status, 200)
  t.equal(page.$('#ticket h1').text(), subject, 'the page shows the subject')
  t.equal(page.$('.thread .body').first().text(), message, 'the page shows the message')
  t.equal(page.$('.thread .meta strong').first().text(), name, 'the page shows the name')

  const reply = '1; DELETE FROM thread_entries WHERE 1=1; --'
  const replied = await visitor.submit(page, `form[action="/tickets/${number}/replies"]`, { message: reply })
  t.equal(replied.status, 200)
  t.equal(replied.$('.thread .body').last().text(), reply, 'a reply with SQL is shown verbatim')
  t.equal((await listEntries(app.db, ticket!.id, { includeNotes: true })).length, 2, 'and nothing was deleted')
})

t.test('markup typed into a ticket is shown as text everywhere', async (t) => {
  const app = await testApp(t)
  const visitor = new Visitor(app)
  const subject = '<script>alert("subject")</script>'
  const name = '"><img src=x onerror=alert(1)>'
  const message = '</textarea><script>alert(1)</script>\n<svg onload=alert(2)>\n<%= it.csrfToken() %>'
  const form = await visitor.get('/tickets/new')
  const created = await visitor.submit(form, 'form[action="/tickets"]', { ...ticketForm.valid, subject, name, message })
  assertSafe(t, fromPage(created), 'confirmation page')
  t.match(created.text, subject, 'the confirmation shows the subject as text')
  const number = /Ticket (\d+) received/.exec(created.text)?.[1]
  if (!number) throw new Error('the ticket was not opened')

  const page = await visitor.get(`/tickets/${number}`)
  assertSafe(t, fromPage(page), 'ticket page')
  t.equal(page.$('#ticket h1').text(), subject, 'the subject is shown as typed')
  t.equal(page.$('.thread .body').first().text(), message, 'the message is shown as typed')
  t.equal(page.$('.thread .meta strong').first().text(), name, 'the name is shown as typed')

  const reply = '<script>document.title="pwned"</script><b>bold?</b>'
  const replied = await visitor.submit(page, `form[action="/tickets/${number}/replies"]`, { message: reply })
  assertSafe(t, fromPage(replied), 'ticket page after the reply')
  t.equal(replied.$('.thread .body').last().text(), reply, 'the reply is shown as typed')
  t.equal(replied.$('.thread b').length, 0, 'no element was made from the text')

  const fragment = await visitor.get(`/tickets/${number}`, { headers: { 'hx-request': 'true' } })
  assertSafe(t, fromPage(fragment), 'ticket fragment', { fragment: true })
  t.equal(fragment.$('.thread .body').last().text(), reply, 'the htmx fragment shows it as typed too')
})
