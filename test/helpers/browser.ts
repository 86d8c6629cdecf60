import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import type { AppOptions } from '../../src/app.js'
import { testApp } from './app.js'

/** Debian's own chromium package; CI installs it with apt, nothing downloads a browser. */
export const chromiumPath = '/usr/bin/chromium'

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** A headless Chromium for this test; closed when the test ends. */
export async function launchBrowser (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs })
  t.teardown(async () => { await browser.close() })
  return browser
}

export interface ServedApp {
  app: FastifyInstance
  /** Where the app really listens, e.g. http://127.0.0.1:41234 (no trailing slash). */
  origin: string
}

/**
 * A fresh app (see testApp) listening on a free port of 127.0.0.1, for a real browser.
 * Links meant to leave the browser (the private link) still use the configured BASE_URL,
 * which is not known until the port is; use `onOrigin` to follow them here.
 */
export async function servedApp (t: Test, env: Record<string, string> = {}, options: AppOptions = {}): Promise<ServedApp> {
  const app = await testApp(t, env, options) // closes the app on teardown
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, origin: `http://127.0.0.1:${port}` }
}

/** The same path, query and fragment as `link`, on `origin`. */
export function onOrigin (origin: string, link: string): string {
  const url = new URL(link)
  return origin + url.pathname + url.search + url.hash
}

export interface WatchedPage {
  context: BrowserContext
  page: Page
  /** Uncaught script errors on the page. */
  scriptErrors: string[]
  /** Console messages about Content-Security-Policy violations. */
  cspViolations: string[]
}

/**
 * A page in a fresh context (its own cookies) whose base URL is `origin`, recording script
 * errors and CSP violations so a test can assert the page ran cleanly under the real CSP.
 */
export async function openPage (t: Test, browser: Browser, origin: string, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL: origin, ...options })
  t.teardown(async () => { await context.close() })
  const page = await context.newPage()
  // Fail fast: a missing element means a broken page, not a slow one.
  page.setDefaultTimeout(10_000)
  const scriptErrors: string[] = []
  const cspViolations: string[] = []
  page.on('pageerror', (error) => { scriptErrors.push(String(error)) })
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text())
  })
  return { context, page, scriptErrors, cspViolations }
}
