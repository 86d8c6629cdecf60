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
import { createAccounts, type Accounts } from './domain/accounts.js'
import { createLifecycle, type Lifecycle } from './domain/lifecycle.js'
import { createOutboxAdmin, type OutboxAdmin } from './domain/outbox.js'
import assets, { assetUrls } from './web/plugins/assets.js'
import errors, { renderFrameworkError } from './web/plugins/errors.js'
import security from './web/plugins/security.js'
import views from './web/plugins/views.js'
import portalRoutes from './web/portal/routes.js'
import staffPlugin from './web/staff/plugin.js'
import { actorName, age, priorityLabel, statusLabel, timeElement } from './web/format.js'
import { createUrls } from './web/urls.js'
import { redactUrl } from './web/log-redaction.js'

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

const productName = 'Tessera Help Desk'

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
  app.decorate('lifecycle', createLifecycle(db, { reopenWindowMs: config.reopenWindowMs, now: options.now }))
  app.decorate('accounts', createAccounts(db, { now: options.now }))
  app.decorate('outboxAdmin', createOutboxAdmin(db, { now: options.now }))
  app.decorate('inbound', createInboundMail({ db, lifecycle: app.lifecycle, secret: config.sessionSecret, ownAddress: config.mailFromAddress, now: options.now }))
  app.decorate('url', urls.url)
  app.decorate('absoluteUrl', urls.absoluteUrl)

  // gzip only: brotli at its default quality costs more CPU per page than it saves bytes.
  await app.register(fastifyCompress, { encodings: ['gzip', 'deflate'], threshold: 1024 })
  await app.register(security, { cookieSecret: config.sessionSecret, cookiePath: urls.url('/'), https: config.baseUrl.startsWith('https:') })
  await app.register(views, {
    globals: {
      productName,
      asset: assetUrls(config.basePath),
      url: urls.url,
      time: timeElement,
      statusLabel,
      priorityLabel,
      age,
      actorName
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
    compose: { absoluteUrl: urls.absoluteUrl, productName, secret: config.sessionSecret },
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
