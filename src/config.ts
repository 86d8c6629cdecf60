import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { envSchema } from 'env-schema'
import { projectRoot } from './paths.js'

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
    LOG_FORMAT: { type: 'string', enum: ['auto', 'text', 'json'], default: 'auto' },
    NODE_ENV: { type: 'string', default: '' },
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
    IMAP_INTERVAL_SECONDS: { type: 'number', minimum: 0.05, default: 60 },
    ATTACHMENTS_DIR: { type: 'string', default: '' },
    ATTACHMENT_FILE_MB: { type: 'number', exclusiveMinimum: 0, maximum: 10240, default: 10 },
    ATTACHMENT_MESSAGE_MB: { type: 'number', exclusiveMinimum: 0, maximum: 10240, default: 25 },
    ATTACHMENT_FILES: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
    MAIL_ATTACHMENTS_MB: { type: 'number', minimum: 0, maximum: 10240, default: 10 }
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
  LOG_FORMAT: 'auto' | 'text' | 'json'
  NODE_ENV: string
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
  ATTACHMENTS_DIR: string
  ATTACHMENT_FILE_MB: number
  ATTACHMENT_MESSAGE_MB: number
  ATTACHMENT_FILES: number
  MAIL_ATTACHMENTS_MB: number
}

export interface Config {
  port: number
  host: string
  dataDir: string
  /** Empty means the embedded SQLite file under dataDir. */
  databaseUrl: string
  /** Absolute origin used in links that leave the browser (e-mails). */
  baseUrl: string
  /** False when BASE_URL is unset and baseUrl was made from HOST and PORT. */
  baseUrlGiven: boolean
  sessionSecret: string
  logLevel: string
  /** 'auto': text on a terminal, JSON when piped; always JSON when NODE_ENV=production. */
  logFormat: 'auto' | 'text' | 'json'
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
  /** Where attached files are kept (dataDir/attachments unless ATTACHMENTS_DIR names a shared folder). */
  attachmentsDir: string
  /** Upload limits: bytes per file, bytes per message, files per message. */
  attachmentFileBytes: number
  attachmentMessageBytes: number
  attachmentFiles: number
  /** An agent's files go out with the notice up to this many bytes in all; past it, a link. */
  mailAttachmentBytes: number
}

/** A right value for each variable, shown when the given one is wrong. */
const examples: Record<keyof RawEnv, string> = {
  PORT: '3000',
  HOST: '127.0.0.1',
  DATA_DIR: './data',
  DATABASE_URL: 'postgres://tessera:secret@db.example.com:5432/tessera (or empty for SQLite)',
  BASE_URL: 'https://help.example.com',
  SESSION_SECRET: 'the output of: openssl rand -base64 48',
  LOG_LEVEL: 'info',
  LOG_FORMAT: 'auto (or text, json)',
  NODE_ENV: 'production',
  TICKET_RATE_LIMIT: '10',
  REOPEN_WINDOW_DAYS: '14',
  BASE_PATH: '/support',
  TRUST_PROXY: '127.0.0.1,10.0.0.0/8 (or true, false, a hop count like 1)',
  SMTP_URL: 'smtp://user:password@mail.example.com:587',
  MAIL_FROM: 'Help Desk <help@example.com>',
  OUTBOX_INTERVAL_SECONDS: '5',
  IMAP_URL: 'imaps://desk%40example.com:password@mail.example.com',
  IMAP_FOLDER: 'INBOX',
  IMAP_PROCESSED_FOLDER: 'Tessera/Processed',
  IMAP_FAILED_FOLDER: 'Tessera/Failed',
  IMAP_INTERVAL_SECONDS: '60',
  ATTACHMENTS_DIR: '/srv/tessera-files (a folder every instance mounts)',
  ATTACHMENT_FILE_MB: '10',
  ATTACHMENT_MESSAGE_MB: '25',
  ATTACHMENT_FILES: '20',
  MAIL_ATTACHMENTS_MB: '10'
}

/** Secrets are never echoed back, even when wrong. */
const secretVariables = new Set<string>(['SESSION_SECRET', 'DATABASE_URL', 'SMTP_URL', 'IMAP_URL'])

/** A configuration mistake: which variable, what was given, what would be right. */
export class ConfigError extends Error {
  readonly code = 'TESSERA_CONFIG'
  constructor (readonly variable: keyof RawEnv, given: string | undefined, problem: string) {
    const shown = given === undefined ? '' : secretVariables.has(variable) ? ' (value not shown)' : ` ${JSON.stringify(given)}`
    super(`Configuration error: ${variable}${shown} ${problem}; for example ${variable}=${examples[variable]}`)
    this.name = 'ConfigError'
  }
}

/** Reads and validates the environment once; nothing else reads process.env. */
export function loadConfig (env: NodeJS.ProcessEnv = process.env): Config {
  const raw = readEnv(env)
  const dataDir = resolve(raw.DATA_DIR)
  if (raw.SESSION_SECRET !== '' && raw.SESSION_SECRET.length < 32) {
    throw new ConfigError('SESSION_SECRET', raw.SESSION_SECRET, `is ${raw.SESSION_SECRET.length} characters long; it must have at least 32`)
  }
  checkDatabaseUrl(raw.DATABASE_URL)
  checkUrl('BASE_URL', raw.BASE_URL, /^https?:$/)
  checkUrl('SMTP_URL', raw.SMTP_URL, /^smtps?:$/)
  return {
    port: raw.PORT,
    host: raw.HOST,
    dataDir,
    databaseUrl: raw.DATABASE_URL,
    baseUrl: (raw.BASE_URL || `http://${browsedHost(raw.HOST).host}:${raw.PORT}`).replace(/\/+$/, ''),
    baseUrlGiven: raw.BASE_URL !== '',
    sessionSecret: raw.SESSION_SECRET || persistentSecret(dataDir),
    logLevel: raw.LOG_LEVEL,
    logFormat: raw.LOG_FORMAT === 'auto' && raw.NODE_ENV === 'production' ? 'json' : raw.LOG_FORMAT,
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
    imapIntervalMs: Math.round(raw.IMAP_INTERVAL_SECONDS * 1000),
    attachmentsDir: raw.ATTACHMENTS_DIR ? resolve(raw.ATTACHMENTS_DIR) : join(dataDir, 'attachments'),
    attachmentFileBytes: Math.round(raw.ATTACHMENT_FILE_MB * 1024 * 1024),
    attachmentMessageBytes: Math.round(raw.ATTACHMENT_MESSAGE_MB * 1024 * 1024),
    attachmentFiles: raw.ATTACHMENT_FILES,
    mailAttachmentBytes: Math.round(raw.MAIL_ATTACHMENTS_MB * 1024 * 1024)
  }
}

const wildcardHosts = new Set(['', '0.0.0.0', '::', '0:0:0:0:0:0:0:0'])

/**
 * The host people browse to reach a server listening on `host`: the address itself (so a
 * cookie set through the link lands where the browser goes next), or, when it listens on
 * every address, this machine's name.
 */
export function browsedHost (host: string, machineName = hostname()): { host: string, isMachineName: boolean } {
  if (wildcardHosts.has(host)) return { host: machineName, isMachineName: true }
  return { host: isIP(host) === 6 ? `[${host}]` : host, isMachineName: false }
}

/** Exit status for a configuration mistake (sysexits' EX_CONFIG), for the server and the CLI. */
export const configExitCode = 78

/**
 * The configuration, after reading the .env file into `env`, or one readable line naming
 * the mistake and exit 78: no stack trace.
 */
export function loadConfigOrExit (env: NodeJS.ProcessEnv = process.env): Config {
  try {
    loadEnvFile(env)
    return loadConfig(env)
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof EnvFileError)) throw err
    console.error(err.message)
    process.exit(configExitCode)
  }
}

/** A line of the .env file that is not NAME=value. */
export class EnvFileError extends Error {
  readonly code = 'TESSERA_ENV_FILE'
  constructor (file: string, line: number | null, problem: string) {
    super(`Configuration error: ${file}${line === null ? '' : ` line ${line}`}: ${problem}; for example PORT=3000`)
    this.name = 'EnvFileError'
  }
}

/**
 * Reads ENV_FILE (default: .env in the project folder), if it exists, into `env`. A
 * variable already set in the environment wins over the file, so a service manager or a
 * shell can override one setting without editing it.
 */
export function loadEnvFile (env: NodeJS.ProcessEnv): void {
  const file = env.ENV_FILE ?? join(projectRoot, '.env')
  if (file === '') return
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && env.ENV_FILE === undefined) return
    throw new EnvFileError(file, null, code === 'ENOENT' ? 'no such file (ENV_FILE names it)' : `cannot be read (${code ?? 'error'})`)
  }
  for (const [name, value] of parseEnvFile(text, file)) {
    if (env[name] === undefined) env[name] = value
  }
}

const envLine = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/

/**
 * NAME=value lines as dotenv writes them: blank lines and # comments skipped; a value in
 * double quotes may span lines and knows \n; in single quotes it is taken as written;
 * unquoted, it ends at " #" and is trimmed.
 */
export function parseEnvFile (text: string, file = '.env'): Array<[string, string]> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  const pairs: Array<[string, string]> = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (line.trim() === '' || line.trim().startsWith('#')) continue
    const match = envLine.exec(line)
    if (match === null) {
      const shown = line.length > 40 ? line.slice(0, 40) + '…' : line
      throw new EnvFileError(file, i + 1, `expected NAME=value, found ${JSON.stringify(shown)}`)
    }
    const name = match[1] ?? ''
    let rest = match[2] ?? ''
    const quote = rest[0]
    if (quote !== '"' && quote !== "'") {
      pairs.push([name, rest.replace(/\s+#.*$/, '').trim()])
      continue
    }
    const startLine = i
    let value = rest.slice(1)
    let end = value.indexOf(quote)
    while (end === -1 && i + 1 < lines.length) {
      value += '\n' + (lines[++i] ?? '')
      end = value.indexOf(quote)
    }
    if (end === -1) throw new EnvFileError(file, startLine + 1, `the value of ${name} opens a ${quote} quote that never closes`)
    rest = value.slice(end + 1)
    if (rest.trim() !== '' && !rest.trim().startsWith('#')) {
      throw new EnvFileError(file, i + 1, `unexpected text after the closing quote of ${name}`)
    }
    value = value.slice(0, end)
    pairs.push([name, quote === '"' ? value.replace(/\\n/g, '\n') : value])
  }
  return pairs
}

function readEnv (env: NodeJS.ProcessEnv): RawEnv {
  try {
    return envSchema<RawEnv>({ schema, data: env, dotenv: false })
  } catch (err) {
    const first = (err as { errors?: Array<{ instancePath: string, message?: string }> }).errors?.[0]
    const variable = first?.instancePath.slice(1) as keyof RawEnv | undefined
    if (first === undefined || variable === undefined || !(variable in examples)) throw err
    const problem = first.message?.startsWith('must match pattern') ? 'has the wrong form' : first.message ?? 'is not valid'
    throw new ConfigError(variable, env[variable], problem)
  }
}

function checkDatabaseUrl (value: string): void {
  if (value === '') return
  if (!/^(postgres(ql)?|mysql|mariadb):\/\//.test(value)) {
    throw new ConfigError('DATABASE_URL', value, 'must start with postgres://, postgresql://, mysql:// or mariadb:// (or be empty for SQLite)')
  }
  checkUrl('DATABASE_URL', value, /./)
  if (new URL(value).hostname === '') throw new ConfigError('DATABASE_URL', value, 'names no database host')
}

function checkUrl (variable: keyof RawEnv, value: string, protocol: RegExp): void {
  if (value === '') return
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ConfigError(variable, value, 'is not a URL')
  }
  if (!protocol.test(url.protocol)) throw new ConfigError(variable, value, `may not start with ${url.protocol}//`)
}

// The names proxy-addr accepts besides addresses and CIDR ranges.
const proxyRangeNames = new Set(['loopback', 'linklocal', 'uniquelocal'])

/** '' or 'false': trust nothing; 'true': trust every hop; '2': two hops; else a list of addresses. */
function parseTrustProxy (value: string): boolean | number | string[] {
  const trimmed = value.trim()
  if (trimmed === '' || trimmed === 'false') return false
  if (trimmed === 'true') return true
  if (/^[0-9]+$/.test(trimmed)) return Number(trimmed)
  const parts = trimmed.split(',').map((part) => part.trim()).filter(Boolean)
  for (const part of parts) {
    if (!isProxyAddress(part)) throw new ConfigError('TRUST_PROXY', value, `has ${JSON.stringify(part)}, which is neither an IP address, a CIDR range, loopback, linklocal or uniquelocal`)
  }
  return parts
}

function isProxyAddress (part: string): boolean {
  if (proxyRangeNames.has(part)) return true
  const [address = '', bits, ...rest] = part.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  if (bits === undefined) return true
  if (!/^[0-9]{1,3}$/.test(bits)) return isIP(bits) === 4 && family === 4
  return Number(bits) <= (family === 4 ? 32 : 128)
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
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(file, secret + '\n', { mode: 0o600 })
  // The mode above only applies to a new file, and only as far as the umask allows.
  chmodSync(file, 0o600)
  return secret
}

/** The oldest Node each supported line needs (require(esm), sqlite3, cheerio). */
const minimumNode: Record<number, [number, number]> = { 20: [19, 0], 22: [12, 0] }

/** Null when this Node can run Tessera, else the one line to print before exiting. */
export function nodeVersionProblem (version: string): string | null {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number)
  const floor = minimumNode[major]
  const ok = major > 22 || (major === 21 ? false : floor !== undefined && minor >= floor[0])
  if (ok) return null
  return `Tessera needs Node ^20.19.0 or >=22.12.0 (Node 22 or 24 LTS recommended); this is Node ${version.replace(/^v/, '')}.`
}

// Last day of security fixes for each release line (https://nodejs.org/en/about/previous-releases).
const endOfLife: Record<number, string> = {
  20: '2026-04-30', 21: '2024-06-01', 22: '2027-04-30', 23: '2025-06-01', 24: '2028-04-30', 25: '2026-06-01'
}

/** A warning when this Node line no longer gets security fixes, else null. */
export function nodeEndOfLifeWarning (version: string, today = new Date()): string | null {
  const major = Number(version.replace(/^v/, '').split('.')[0])
  const date = endOfLife[major]
  if (date === undefined || today.getTime() <= Date.parse(date + 'T23:59:59Z')) return null
  return `Node ${major} reached its end of life on ${date} and gets no security fixes: upgrade to Node 22 or 24 LTS.`
}
