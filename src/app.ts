import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify'
import fastifyCompress from '@fastify/compress'
import type { Knex } from 'knex'
import { join } from 'node:path'
import type { Config } from './config.js'
import { createOutboxWorker, type OutboxWorker } from './jobs/outbox-worker.js'
import { createTrashPurge, type TrashPurge } from './jobs/trash-purge.js'
import { createScheduler, newLeaseOwner, type Scheduler } from './jobs/scheduler.js'
import { scheduledJobs } from './jobs/scheduled-jobs.js'
import { createInboundMail, type InboundMail } from './mail/inbound.js'
import { createImapPoller, type ImapPoller } from './mail/imap-poller.js'
import apiRoutes from './web/api/routes.js'
import healthRoutes from './web/health-routes.js'
import { checkConnection, createDatabase, migrateToLatest } from './data/database.js'
import { hasMailIntake } from './data/mail.js'
import { createAccounts, usePasswordHashCost, type Accounts } from './domain/accounts.js'
import { createLifecycle, type Lifecycle } from './domain/lifecycle.js'
import { createOutboxAdmin, type OutboxAdmin } from './domain/outbox.js'
import { createRequesterDirectory, type RequesterDirectory } from './domain/requesters.js'
import { createSavedSearches, type SavedSearches } from './domain/saved-searches.js'
import { attachmentCeilings, attachmentLimitsOf, createDeskSettings, defaultDeskName, deskDefaults, type DeskSettingsStore } from './domain/desk-settings.js'
import { createApiKeys, type ApiKeys } from './domain/api-keys.js'
import { createSurveys, type Surveys } from './domain/survey.js'
import { createTicketLinks, type TicketLinks } from './domain/ticket-links.js'
import surveyRoutes from './web/portal/survey-routes.js'
import { createBlockedSenders, type BlockedSenders } from './domain/blocked-senders.js'
import { createTwoFactor, type TwoFactor } from './domain/two-factor.js'
import { sourceLabel } from './domain/tickets-on-behalf.js'
import assets, { assetUrls } from './web/plugins/assets.js'
import errors, { renderFrameworkError } from './web/plugins/errors.js'
import security from './web/plugins/security.js'
import uploads, { uploadLimitsShown } from './web/uploads.js'
import { createFileStore } from './attachments/store.js'
import { fileSizeLabel } from './attachments/names.js'
import { inlineBodyParts } from './web/inline-images.js'
import { unusedFiles } from './data/attachments.js'
import views from './web/plugins/views.js'
import portalRoutes from './web/portal/routes.js'
import staffPlugin from './web/staff/plugin.js'
import { actorName, clientStatusLabel, priorityLabel, statusLabel } from './web/format.js'
import { readerLocals, readerOf } from './web/reader-time.js'
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
    /** Time-based jobs: auto-close, reminders, auto-resolve (src/jobs/scheduled-jobs.ts). */
    scheduler: Scheduler
    outboxAdmin: OutboxAdmin
    requesters: RequesterDirectory
    savedSearches: SavedSearches
    /** The desk's name, portal text and limits as an administrator set them. */
    deskSettings: DeskSettingsStore
    apiKeys: ApiKeys
    /** The satisfaction survey after closing (follow-up step). */
    surveys: Surveys
    ticketLinks: TicketLinks
    blockedSenders: BlockedSenders
    twoFactor: TwoFactor
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
  /** scrypt's N for new password hashes instead of the default 2^15 (tests: a cheap one). */
  passwordHashCost?: number
}

/** The whole application; server.ts listens with it and tests inject into it. */
export async function buildApp (config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  if (options.passwordHashCost !== undefined) usePasswordHashCost(options.passwordHashCost)
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
  const deskSettings = createDeskSettings(db, { defaults: deskDefaults(config), ceilings: attachmentCeilings(config), now: options.now })
  app.decorate('deskSettings', deskSettings)
  app.decorate('apiKeys', createApiKeys(db, { now: options.now }))
  const fileStore = createFileStore(config.attachmentsDir)
  app.decorate('blockedSenders', createBlockedSenders(db, { now: options.now }))
  app.decorate('twoFactor', createTwoFactor(db, { secret: config.sessionSecret, now: options.now }))
  app.decorate('lifecycle', createLifecycle(db, {
    reopenWindowMs: async () => (await deskSettings.current()).reopenDays * 86400_000,
    now: options.now,
    releaseFiles: async (sha256s) => { await fileStore.remove(await unusedFiles(db, sha256s)) }
  }))
  app.decorate('accounts', createAccounts(db, { now: options.now }))
  app.decorate('surveys', createSurveys(db, { now: options.now }))
  app.decorate('ticketLinks', createTicketLinks(db, { now: options.now }))
  app.decorate('outboxAdmin', createOutboxAdmin(db, { now: options.now }))
  app.decorate('requesters', createRequesterDirectory(db, { now: options.now }))
  app.decorate('savedSearches', createSavedSearches(db, { now: options.now }))
  app.decorate('inbound', createInboundMail({ db, lifecycle: app.lifecycle, secret: config.sessionSecret, ownAddress: config.mailFromAddress, now: options.now, fileStore, attachmentLimits: deskSettings.attachmentLimits }))
  app.decorate('url', urls.url)
  app.decorate('absoluteUrl', urls.absoluteUrl)

  // gzip only: brotli at its default quality costs more CPU per page than it saves bytes.
  await app.register(fastifyCompress, { encodings: ['gzip', 'deflate'], threshold: 1024 })
  await app.register(security, { cookieSecret: config.sessionSecret, cookiePath: urls.url('/'), https: config.baseUrl.startsWith('https:') })
  await app.register(uploads, {
    store: fileStore,
    limits: deskSettings.attachmentLimits
  })
  await app.register(views, {
    globals: {
      productName: defaultDeskName,
      asset: assetUrls(config.basePath),
      url: urls.url,
      statusLabel,
      clientStatusLabel,
      priorityLabel,
      actorName,
      fileSize: fileSizeLabel,
      inlineBodyParts,
      sourceLabel
    },
    pageLocals: async (reply) => {
      // An error page must not wait for (or fail on) the database that may have caused it.
      const desk = reply.statusCode >= 500 ? deskSettings.latest() : await deskSettings.current()
      const uploadLimits = uploadLimitsShown(attachmentLimitsOf(desk, attachmentCeilings(config)))
      return { productName: desk.name, desk, uploadLimits, ...readerLocals(readerOf(reply.request, desk, options.now ?? Date.now)) }
    }
  })
  await app.register(errors)
  // Everything a browser or proxy can reach lives under the configured sub-path.
  await app.register(async function site (site) {
    await site.register(assets)
    await site.register(healthRoutes)
    await site.register(portalRoutes)
    await site.register(surveyRoutes)
    await site.register(staffPlugin)
    await site.register(apiRoutes, { prefix: '/api/v1' })
  }, { prefix: config.basePath })

  const outbox = createOutboxWorker({
    db,
    log: app.log,
    compose: { absoluteUrl: urls.absoluteUrl, productName: defaultDeskName, secret: config.sessionSecret, mailAttachmentBytes: config.mailAttachmentBytes },
    attachmentPath: fileStore.pathOf,
    deskName: async () => (await deskSettings.current()).name,
    deskTimeZone: async () => (await deskSettings.current()).timeZone,
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

  const scheduler = createScheduler({
    db,
    log: app.log,
    // A minute is fine-grained enough for steps counted in days.
    intervalMs: 60_000,
    now: options.now,
    jobs: scheduledJobs({ lifecycle: app.lifecycle, deskSettings, owner: newLeaseOwner() })
  })
  app.decorate('scheduler', scheduler)
  app.addHook('onReady', async () => { if (options.startWorkers !== false) scheduler.start() })
  app.addHook('onClose', async () => { await scheduler.stop() })

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
