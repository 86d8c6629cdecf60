import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { envSchema } from 'env-schema'

const schema = {
  type: 'object',
  properties: {
    PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 },
    HOST: { type: 'string', default: '127.0.0.1' },
    DATA_DIR: { type: 'string', minLength: 1, default: './data' },
    DATABASE_URL: { type: 'string', default: '' },
    BASE_URL: { type: 'string', default: '' },
    SESSION_SECRET: { type: 'string', default: '' },
    LOG_LEVEL: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    TICKET_RATE_LIMIT: { type: 'integer', minimum: 1, default: 10 },
    REOPEN_WINDOW_DAYS: { type: 'integer', minimum: 0, default: 14 },
    BASE_PATH: { type: 'string', pattern: '^(/[A-Za-z0-9._~-]+)*$', default: '' },
    TRUST_PROXY: { type: 'string', default: '' },
    SMTP_URL: { type: 'string', default: '' },
    MAIL_FROM: { type: 'string', default: 'Tessera Help Desk <help@localhost>' },
    OUTBOX_INTERVAL_SECONDS: { type: 'number', minimum: 0.05, default: 5 },
    // imap:// or imaps://, user (and password) percent-encoded, a host, an optional port; nothing after.
    IMAP_URL: { type: 'string', pattern: '^(imaps?://[^\\s/@]+@[^\\s/@]+/?)?$', default: '' },
    IMAP_FOLDER: { type: 'string', minLength: 1, default: 'INBOX' },
    IMAP_PROCESSED_FOLDER: { type: 'string', minLength: 1, default: 'Tessera/Processed' },
    IMAP_FAILED_FOLDER: { type: 'string', minLength: 1, default: 'Tessera/Failed' },
    IMAP_INTERVAL_SECONDS: { type: 'number', minimum: 0.05, default: 60 }
  }
} as const

interface RawEnv {
  PORT: number
  HOST: string
  DATA_DIR: string
  DATABASE_URL: string
  BASE_URL: string
  SESSION_SECRET: string
  LOG_LEVEL: string
  TICKET_RATE_LIMIT: number
  REOPEN_WINDOW_DAYS: number
  BASE_PATH: string
  TRUST_PROXY: string
  SMTP_URL: string
  MAIL_FROM: string
  OUTBOX_INTERVAL_SECONDS: number
  IMAP_URL: string
  IMAP_FOLDER: string
  IMAP_PROCESSED_FOLDER: string
  IMAP_FAILED_FOLDER: string
  IMAP_INTERVAL_SECONDS: number
}

export interface Config {
  port: number
  host: string
  dataDir: string
  /** Empty means the embedded SQLite file under dataDir. */
  databaseUrl: string
  /** Absolute origin used in links that leave the browser (e-mails). */
  baseUrl: string
  sessionSecret: string
  logLevel: string
  /** Tickets one address may open per hour. */
  ticketRateLimit: number
  /** How long after closing a client reply reopens a ticket (REOPEN_WINDOW_DAYS). */
  reopenWindowMs: number
  /** The sub-path the app is served under behind a proxy ('' or e.g. '/support'). */
  basePath: string
  /** Fastify's trustProxy: false, true, a hop count, or a list of addresses/CIDRs. */
  trustProxy: boolean | number | string[]
  /** Empty: outgoing mail is written as .eml files under dataDir/outbox. */
  smtpUrl: string
  mailFrom: string
  /** The bare address of MAIL_FROM: mail arriving from it is our own (a loop). */
  mailFromAddress: string
  outboxIntervalMs: number
  /** Empty: no mailbox is polled. Else imap(s)://user:pass@host[:port]. */
  imapUrl: string
  /** Folder names use '/' between levels whatever the server's separator. */
  imapFolder: string
  imapProcessedFolder: string
  imapFailedFolder: string
  imapIntervalMs: number
}

/** Reads and validates the environment once; nothing else reads process.env. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const raw = envSchema<RawEnv>({ schema, data: env, dotenv: false })
  const dataDir = resolve(raw.DATA_DIR)
  return {
    port: raw.PORT,
    host: raw.HOST,
    dataDir,
    databaseUrl: raw.DATABASE_URL,
    baseUrl: (raw.BASE_URL || `http://localhost:${raw.PORT}`).replace(/\/+$/, ''),
    sessionSecret: raw.SESSION_SECRET || persistentSecret(dataDir),
    logLevel: raw.LOG_LEVEL,
    ticketRateLimit: raw.TICKET_RATE_LIMIT,
    reopenWindowMs: raw.REOPEN_WINDOW_DAYS * 86400_000,
    basePath: raw.BASE_PATH,
    trustProxy: parseTrustProxy(raw.TRUST_PROXY),
    smtpUrl: raw.SMTP_URL,
    mailFrom: raw.MAIL_FROM,
    mailFromAddress: (/<([^>]+)>/.exec(raw.MAIL_FROM)?.[1] ?? raw.MAIL_FROM).trim(),
    outboxIntervalMs: Math.round(raw.OUTBOX_INTERVAL_SECONDS * 1000),
    imapUrl: raw.IMAP_URL,
    imapFolder: raw.IMAP_FOLDER,
    imapProcessedFolder: raw.IMAP_PROCESSED_FOLDER,
    imapFailedFolder: raw.IMAP_FAILED_FOLDER,
    imapIntervalMs: Math.round(raw.IMAP_INTERVAL_SECONDS * 1000)
  }
}

/** '' or 'false': trust nothing; 'true': trust every hop; '2': two hops; else a list of addresses. */
function parseTrustProxy (value: string): boolean | number | string[] {
  const trimmed = value.trim()
  if (trimmed === '' || trimmed === 'false') return false
  if (trimmed === 'true') return true
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed)
  return trimmed.split(',').map((part) => part.trim()).filter(Boolean)
}

/**
 * A secret generated on first run and kept in the data folder, so signed cookies
 * survive restarts without anyone having to invent a secret (and without a default
 * that would be the same on every install).
 */
function persistentSecret (dataDir: string): string {
  const file = join(dataDir, 'session-secret')
  try {
    const existing = readFileSync(file, 'utf8').trim()
    if (existing.length >= 32) return existing
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(file, secret + '\n', { mode: 0o600 })
  return secret
}
