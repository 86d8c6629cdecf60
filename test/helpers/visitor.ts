import * as cheerio from 'cheerio'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { CookieJar } from './cookie-jar.js'
import { multipartBody, type FileToSend } from './multipart.js'

export interface Page {
  status: number
  url: string
  headers: LightMyRequestResponse['headers']
  html: string
  $: cheerio.CheerioAPI
  /** Visible text with whitespace collapsed, for "the person sees …" checks. */
  text: string
}

export interface RequestOptions {
  headers?: Record<string, string>
  /** Follow 3xx answers like a browser does (default true). */
  follow?: boolean
}

/**
 * Someone with a browser: keeps cookies (honouring their paths), reads HTML, fills in the
 * forms it finds on a page and follows redirects. Drives the app through inject().
 */
export class Visitor {
  private readonly jar = new CookieJar()
  /** Every Set-Cookie header received, as sent, for checks on cookie attributes. */
  readonly setCookieHeaders: string[] = []

  /** Talks to `app` through inject(), or over real HTTP to `origin` (a proxy in front of it). */
  constructor (readonly app: FastifyInstance, readonly origin?: string) {}

  async get (url: string, options: RequestOptions = {}): Promise<Page> {
    return await this.request('GET', url, undefined, options)
  }

  /** Submits the form matched by `selector` on `page`, with `fields` typed over its current values. */
  async submit (page: Page, selector: string, fields: Record<string, string> = {}, options: RequestOptions = {}): Promise<Page> {
    const form = page.$(selector).first()
    if (form.length === 0) throw new Error(`No form ${selector} on ${page.url}`)
    const values = formFields(page.$, form)
    for (const [name, value] of Object.entries(fields)) values.set(name, value)
    const method = (form.attr('method') ?? 'get').toUpperCase()
    const action = form.attr('action') ?? page.url
    const body = new URLSearchParams([...values]).toString()
    if (method === 'GET') return await this.get(`${action}?${body}`, options)
    return await this.request('POST', action, body, {
      ...options,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers }
    })
  }

  /** Submits a multipart form (enctype="multipart/form-data") with files chosen in its file input. */
  async upload (page: Page, selector: string, fields: Record<string, string>, files: readonly FileToSend[], options: RequestOptions = {}): Promise<Page> {
    const form = page.$(selector).first()
    if (form.length === 0) throw new Error(`No form ${selector} on ${page.url}`)
    if (form.attr('enctype') !== 'multipart/form-data') throw new Error(`The form ${selector} cannot send files`)
    const values = formFields(page.$, form)
    for (const [name, value] of Object.entries(fields)) values.set(name, value)
    const fileField = form.find('input[type=file]').attr('name') ?? 'files'
    const { body, contentType } = multipartBody(values, files, fileField)
    return await this.request('POST', form.attr('action') ?? page.url, body, {
      ...options,
      headers: { 'content-type': contentType, ...options.headers }
    })
  }

  async post (url: string, body: string, options: RequestOptions = {}): Promise<Page> {
    return await this.request('POST', url, body, options)
  }

  cookie (name: string, path?: string): string | undefined {
    return this.jar.get(name, path)
  }

  forget (): void {
    this.jar.clear()
  }

  private async fetch (method: string, url: string, body: string | Buffer | undefined, headers: Record<string, string>): Promise<{ statusCode: number, headers: LightMyRequestResponse['headers'], body: string }> {
    const res = await fetch(this.origin! + url, { method, body: Buffer.isBuffer(body) ? new Uint8Array(body) : body, headers, redirect: 'manual' })
    const setCookies = res.headers.getSetCookie()
    const responseHeaders: Record<string, string | string[]> = Object.fromEntries(res.headers.entries())
    responseHeaders['set-cookie'] = setCookies
    return { statusCode: res.status, headers: responseHeaders, body: await res.text() }
  }

  private async request (method: 'GET' | 'POST', url: string, body: string | Buffer | undefined, options: RequestOptions): Promise<Page> {
    const cookie = this.jar.header(url)
    const headers = { ...(cookie ? { cookie } : {}), ...options.headers }
    const res = this.origin ? await this.fetch(method, url, body, headers) : await this.app.inject({ method, url, payload: body, headers })
    // Cookies are kept exactly as sent (still URL-encoded), the way a browser keeps them.
    const setCookies = [res.headers['set-cookie'] ?? []].flat().map(String)
    this.setCookieHeaders.push(...setCookies)
    this.jar.store(setCookies, url)
    if ((options.follow ?? true) && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      return await this.get(String(res.headers.location), { headers: options.headers })
    }
    const $ = cheerio.load(res.body)
    return {
      status: res.statusCode,
      url,
      headers: res.headers,
      html: res.body,
      $,
      text: $('body').text().replace(/\s+/g, ' ').trim()
    }
  }
}

function formFields ($: cheerio.CheerioAPI, form: cheerio.Cheerio<any>): Map<string, string> {
  const values = new Map<string, string>()
  form.find('input[name], textarea[name], select[name]').each((_, el) => {
    const field = $(el)
    const name = field.attr('name')!
    if (field.is('[disabled]')) return
    if (field.is('input')) {
      const type = (field.attr('type') ?? 'text').toLowerCase()
      if ((type === 'checkbox' || type === 'radio') && !field.is('[checked]')) return
      if (type === 'submit' || type === 'button') return
      values.set(name, field.attr('value') ?? (type === 'checkbox' ? 'on' : ''))
    } else if (field.is('textarea')) {
      values.set(name, field.text())
    } else {
      const selected = field.find('option[selected]').first()
      const option = selected.length > 0 ? selected : field.find('option').first()
      values.set(name, option.attr('value') ?? option.text())
    }
  })
  return values
}
