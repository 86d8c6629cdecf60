import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify'
import fastifyCompress from '@fastify/compress'
import type { Knex } from 'knex'
import { join } from 'node:path'
import type { Config } from './config.js'
import { createOutboxWorker, type OutboxWorker } from './jobs/outbox-worker.js'
import { createTrashPurge, type TrashPurge } from './jobs/trash-purge.js'
import { createInboundMail, type InboundMail } from './mail/inbound.js'
import { createImapPoller, type ImapPoller } from './mail/imap-poller.js'
import apiRoutes from './web/api/routes.js'
import healthRoutes from './web/health-routes.js'
import { checkConnection, createDatabase, migrateToLatest } from './data/database.js'
import { hasMailIntake } from './data/mail.js'
import { createAccounts, type Accounts } from './domain/accounts.js'
import { createLifecycle, type Lifecycle } from './domain/lifecycle.js'
import { createOutboxAdmin, type OutboxAdmin } from './domain/outbox.js'
import { createRequesterDirectory, type RequesterDirectory } from './domain/requesters.js'
import { createDeskSettings, defaultDeskName, deskDefaults, type DeskSettingsStore } from './domain/desk-settings.js'
import { createApiKeys, type ApiKeys } from './domain/api-keys.js'
import assets, { assetUrls } from './web/plugins/assets.js'
import errors, { renderFrameworkError } from './web/plugins/errors.js'
import security from './web/plugins/security.js'
import views from './web/plugins/views.js'
import portalRoutes from './web/portal/routes.js'
import staffPlugin from './web/staff/plugin.js'
import { actorName, age, clientStatusLabel, priorityLabel, statusLabel, timeElement } from './web/format.js'
import { createUrls } from './web/urls.js'
import { redactUrl } from './web/log-redaction.js'
import { proxyRewrite } from './web/proxy.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    db: Knex
    lifecycle: Lifecycle
    accounts: Accounts
    url: (path: string) => string
    absoluteUrl: (path: string) => string
    outbox: OutboxWorker
    trashPurge: TrashPurge
    outboxAdmin: OutboxAdmin
    requesters: RequesterDirectory
    /** The desk's name, portal text and limits as an administrator set them. */
    deskSettings: DeskSettingsStore
    apiKeys: ApiKeys
    inbound: InboundMail
    /** Null when IMAP_URL is empty. */
    imap: ImapPoller | null
  }
}

export interface AppOptions {
  /** Replaces the clock, so tests can move time (reopen windows, auto-close). */
  now?: () => number
  /** Background jobs (outbox delivery, IMAP polling) start with the app unless this is false. */
  startWorkers?: boolean
  /** Where the log goes instead of standard output (tests read it, the bench writes it to a file). */
  logStream?: { write: (line: string) => void }
}

/** The whole application; server.ts listens with it and tests inject into it. */
export async function buildApp (config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      serializers: {
        req: (request: FastifyRequest) => ({ method: request.method, url: redactUrl(request.url), remoteAddress: request.ip })
      }
    },
    // One line per request, written when the answer is known (below), instead of two.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { allErrors: true } },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Fastify accepts a hop count at run time; its types only list the other forms.
    trustProxy: config.trustProxy as boolean | string[],
    routerOptions: { maxParamLength: 200 },
    rewriteUrl: proxyRewrite(config.basePath),
    // Malformed URLs are refused before routing; they still get the HTML error page.
    frameworkErrors: async (error, request, reply) => { await renderFrameworkError(app, reply, error.statusCode ?? 400) }
  })

  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed')
  })

  const db = createDatabase(config)
  try {
    await checkConnection(db, config)
  } catch (err) {
    // A pool still dialling a silent host would keep the process alive; let it go.
    db.destroy().catch(() => undefined)
    throw err
  }
  app.addHook('onClose', async () => { await db.destroy() })
  await migrateToLatest(db)

  const urls = createUrls(config.baseUrl, config.basePath)
  app.decorate('config', config)
  app.decorate('db', db)
  const deskSettings = createDeskSettings(db, { defaults: deskDefaults(config), now: options.now })
  app.decorate('deskSettings', deskSettings)
  app.decorate('apiKeys', createApiKeys(db, { now: options.now }))
  app.decorate('lifecycle', createLifecycle(db, {
    reopenWindowMs: async () => (await deskSettings.current()).reopenDays * 86400_000,
    now: options.now
  }))
  app.decorate('accounts', createAccounts(db, { now: options.now }))
  app.decorate('outboxAdmin', createOutboxAdmin(db, { now: options.now }))
  app.decorate('requesters', createRequesterDirectory(db, { now: options.now }))
  app.decorate('inbound', createInboundMail({ db, lifecycle: app.lifecycle, secret: config.sessionSecret, ownAddress: config.mailFromAddress, now: options.now }))
  app.decorate('url', urls.url)
  app.decorate('absoluteUrl', urls.absoluteUrl)

  // gzip only: brotli at its default quality costs more CPU per page than it saves bytes.
  await app.register(fastifyCompress, { encodings: ['gzip', 'deflate'], threshold: 1024 })
  await app.register(security, { cookieSecret: config.sessionSecret, cookiePath: urls.url('/'), https: config.baseUrl.startsWith('https:') })
  await app.register(views, {
    globals: {
      productName: defaultDeskName,
      asset: assetUrls(config.basePath),
      url: urls.url,
      time: timeElement,
      statusLabel,
      clientStatusLabel,
      priorityLabel,
      age,
      actorName
    },
    pageLocals: async (reply) => {
      // An error page must not wait for (or fail on) the database that may have caused it.
      const desk = reply.statusCode >= 500 ? deskSettings.latest() : await deskSettings.current()
      return { productName: desk.name, desk }
    }
  })
  await app.register(errors)
  // Everything a browser or proxy can reach lives under the configured sub-path.
  await app.register(async function site (site) {
    await site.register(assets)
    await site.register(healthRoutes)
    await site.register(portalRoutes)
    await site.register(staffPlugin)
    await site.register(apiRoutes, { prefix: '/api/v1' })
  }, { prefix: config.basePath })

  const outbox = createOutboxWorker({
    db,
    log: app.log,
    compose: { absoluteUrl: urls.absoluteUrl, productName: defaultDeskName, secret: config.sessionSecret },
    deskName: async () => (await deskSettings.current()).name,
    // A notice invites a reply by mail only when replies can arrive: IMAP polling, mail
    // piped in or posted to the API (which leaves inbound rows), or a key for that API.
    repliesByMail: async () => config.imapUrl !== '' || await hasMailIntake(db),
    smtpUrl: config.smtpUrl,
    mailFrom: config.mailFrom,
    mailDir: join(config.dataDir, 'mail'),
    intervalMs: config.outboxIntervalMs,
    now: options.now
  })
  app.decorate('outbox', outbox)
  app.addHook('onReady', async () => { if (options.startWorkers !== false) outbox.start() })
  // Registered after the database's hook; onClose hooks run in reverse, so leases are
  // handed back while the database is still open.
  app.addHook('onClose', async () => { await outbox.stop() })

  // Hourly is plenty for a 30-day retention; every instance runs it, safely.
  const trashPurge = createTrashPurge({ lifecycle: app.lifecycle, log: app.log, intervalMs: 60 * 60_000 })
  app.decorate('trashPurge', trashPurge)
  app.addHook('onReady', async () => { if (options.startWorkers !== false) trashPurge.start() })
  app.addHook('onClose', async () => { await trashPurge.stop() })

  const imap = config.imapUrl
    ? createImapPoller({
      url: config.imapUrl,
      folder: config.imapFolder,
      processedFolder: config.imapProcessedFolder,
      failedFolder: config.imapFailedFolder,
      intervalMs: config.imapIntervalMs,
      log: app.log,
      receive: app.inbound.receive
    })
    : null
  app.decorate('imap', imap)
  app.addHook('onReady', async () => { if (options.startWorkers !== false) imap?.start() })
  app.addHook('onClose', async () => { await imap?.stop() })
  return app
}
