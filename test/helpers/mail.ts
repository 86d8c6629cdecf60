import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { simpleParser } from 'mailparser'
import { createApiKey } from '../../src/domain/api-keys.js'
import { addDepartmentAddress } from '../../src/data/mail.js'
import { runCli, type CliResult as PipeResult } from './cli.js'

export const mailFixturesDir = fileURLToPath(new URL('../fixtures/mail/', import.meta.url))

/** The desk's own address in every mail test (fixtures write to it). */
export const deskAddress = 'help@desk.test'
export const mailEnv = { MAIL_FROM: `Tessera Help Desk <${deskAddress}>` }

export type FixtureVars = Partial<Record<'IN_REPLY_TO' | 'REFERENCES' | 'NUMBER' | 'REQUESTER', string>>

/** The fixture's bytes exactly as committed (CRLF line endings, any charset). */
export function rawFixture (name: string): Buffer {
  return readFileSync(`${mailFixturesDir}${name}.eml`)
}

/**
 * A fixture with its {{PLACEHOLDERS}} filled in. A header whose whole value is a placeholder
 * given as '' is left out (a reply without In-Reply-To, say). Every placeholder must be
 * given: a forgotten one would quietly test the wrong thing.
 */
export function fixture (name: string, vars: FixtureVars = {}): Buffer {
  // latin1 maps bytes to characters one to one, so 8-bit bodies pass through untouched.
  const source = rawFixture(name).toString('latin1')
  const lines = source.split('\r\n').filter((line) => {
    const whole = /^[A-Za-z-]+:[ \t]*\{\{([A-Z_]+)\}\}[ \t]*$/.exec(line)
    return !(whole && vars[whole[1] as keyof FixtureVars] === '')
  })
  const filled = lines.join('\r\n').replace(/\{\{([A-Z_]+)\}\}/g, (_match, key: string) => {
    const value = vars[key as keyof FixtureVars]
    if (value === undefined) throw new Error(`fixture ${name}: no value for {{${key}}}`)
    // Header values are ASCII on the wire; anything else would be mangled by latin1 here.
    if (/[^\x20-\x7e\r\n\t]/.test(value)) throw new Error(`fixture ${name}: {{${key}}} must be ASCII`)
    return value
  })
  return Buffer.from(filled, 'latin1')
}

/** Replaces (or with null removes, or adds) a header in the message's top-level header block. */
export function withHeader (raw: Buffer, name: string, value: string | null): Buffer {
  const text = raw.toString('latin1')
  const split = text.indexOf('\r\n\r\n')
  const head = text.slice(0, split + 2)
  const body = text.slice(split + 2)
  // A header runs on over folded lines that start with white space.
  const pattern = new RegExp(`^${name}:[^\\r\\n]*\\r\\n(?:[ \\t][^\\r\\n]*\\r\\n)*`, 'im')
  const line = value === null ? '' : `${name}: ${value}\r\n`
  const newHead = pattern.test(head) ? head.replace(pattern, line) : line + head
  return Buffer.from(newHead + body, 'latin1')
}

/** A minimal message of one person's new request, for variations on the headers. */
export function plainMessage (headers: Record<string, string>, body = 'Hello,\r\n\r\nThe printer jams again.\r\n\r\nGrace\r\n'): Buffer {
  const all: Record<string, string> = {
    From: 'Grace Hopper <grace@example.com>',
    To: `Tessera Help Desk <${deskAddress}>`,
    Subject: 'Printer jams again',
    Date: 'Thu, 26 Nov 2026 09:00:00 +0000',
    'Message-ID': `<plain.${Math.random().toString(36).slice(2)}@example.com>`,
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Transfer-Encoding': '8bit',
    ...headers
  }
  const head = Object.entries(all).filter(([, value]) => value !== '').map(([name, value]) => `${name}: ${value}`).join('\r\n')
  return Buffer.from(`${head}\r\n\r\n${body}`, 'utf8')
}

/**
 * Gives a department an address of its own: mail sent there opens tickets in it. Written
 * for both schemas, the departments.email column and the department_addresses table.
 */
export async function setDepartmentAddress (app: FastifyInstance, departmentId: number, address: string): Promise<void> {
  await addDepartmentAddress(app.db, departmentId, address)
}

export interface ApiAnswer {
  status: number
  body: { outcome?: string, ticketNumber?: string, reason?: string, error?: { code: string, message: string } }
  headers: Record<string, unknown>
}

/** A key for the integration API. */
export async function apiKey (app: FastifyInstance): Promise<string> {
  return await createApiKey(app.db, 'test')
}

/** POST /api/v1/mail/inbound, as an MTA that posts instead of piping would. */
export async function postMail (app: FastifyInstance, raw: Buffer, key: string | null): Promise<ApiAnswer> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/mail/inbound',
    headers: { 'content-type': 'message/rfc822', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    payload: raw
  })
  return { status: response.statusCode, body: response.json(), headers: response.headers }
}

/** `tessera mail-in < message.eml`, as an MTA pipe runs it. */
export async function pipeMail (app: FastifyInstance, raw: Buffer): Promise<PipeResult> {
  return await runCli(app, ['mail-in'], raw)
}

/**
 * The private-link or password token in the mail an outbox row became. Delivers the outbox
 * first (as .eml files: the app has no SMTP_URL), since tokens are minted only when a mail
 * is composed and exist nowhere else.
 */
export async function tokenInSentMail (app: FastifyInstance, outboxId: number): Promise<string> {
  const file = join(app.config.dataDir, 'mail', `${outboxId}.eml`)
  // A pass sends the oldest messages first; a busy outbox may take a few. The app's own
  // loop may be writing this one: it is whole once its row says sent (marked after the file).
  const sent = async (): Promise<boolean> => (await app.db('outbox').where({ id: outboxId }).first('status'))?.status === 'sent'
  for (let pass = 0; pass < 100 && !(await sent()); pass++) {
    if (await app.outbox.runOnce() === 0) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const parsed = await simpleParser(readFileSync(file))
  const token = /\/(?:access|password-reset)\/([A-Za-z0-9_-]{43})\b/.exec(parsed.text ?? '')?.[1]
  if (!token) throw new Error(`outbox message ${outboxId} carries no link`)
  return token
}
