import { readFileSync } from 'node:fs'
import t from 'tap'
import type { Page } from 'playwright-core'
import { publicDir } from '../../src/paths.js'
import { launchBrowser, onOrigin, openPage, servedApp } from '../helpers/browser.js'
import { openTicket, password, seedDesk } from '../helpers/fixtures.js'
import { programs, skipWithout } from '../helpers/programs.js'

const skip = skipWithout(programs.chromium)

/**
 * The stylesheet as a browser from 2014 (IE11, Android 4.4, iOS 9) reads it: no custom
 * properties, no flex `gap`, no @supports, and no rule whose selector it does not know
 * (`:has`, `:is`, `:focus-visible`, `:not(…)` with a complex argument). A declaration it
 * cannot parse is dropped; so is a rule with a selector it cannot parse.
 */
export function asOldBrowserReadsIt (css: string): string {
  let out = css.replace(/\/\*[\s\S]*?\*\//g, '')
  // @supports blocks (one level of nesting) vanish whole.
  out = out.replace(/@supports[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}/g, '')
  out = out.replace(/([^{}]+)\{([^{}]*)\}/g, (rule, selector: string, body: string) => {
    if (/:has\(|:is\(|:focus-visible|:not\(:/.test(selector)) return ''
    const kept = body.split(';').filter((d) => !/var\(/.test(d) && !/^\s*(row-|column-)?gap\s*:/.test(d)).join(';')
    return `${selector}{${kept}}`
  })
  return out
}

const css = readFileSync(`${publicDir}/app.css`, 'utf8')

t.test('the stylesheet holds for old browsers by its own shape', async (t) => {
  t.notMatch(css, /var\(/, 'no custom properties to lose')
  const flexGaps = css.replace(/@supports[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}/g, '').match(/[^{}]*\{[^{}]*\bgap\s*:[^{}]*\}/g) ?? []
  t.same(flexGaps, [], 'gap only where grid support was asked for')
  for (const rule of css.match(/[^{}]*\{[^{}]*overflow-wrap\s*:\s*anywhere[^{}]*\}/g) ?? []) {
    t.match(rule, /word-wrap\s*:\s*break-word;[^{}]*overflow-wrap\s*:\s*anywhere/, `${rule.split('{')[0]!.trim()}: word-wrap comes first`)
  }
  t.match(css, /main[^{]*\{display:block\}/, 'main is a block where it is unknown')
})

/** Serves the stylesheet as an old browser would understand it. */
async function withOldCss (page: Page): Promise<void> {
  await page.route(/\/assets\/app\.css/, async (route) => await route.fulfill({ contentType: 'text/css', body: asOldBrowserReadsIt(css) }))
}

t.test('buttons, header and lists in a browser without custom properties, grid, gap or :has', { skip }, async (t) => {
  const { app, origin } = await servedApp(t)
  await seedDesk(app)
  const browser = await launchBrowser(t)
  const { page } = await openPage(t, browser, origin)
  await withOldCss(page)
  await page.goto('/')
  for (const name of ['Open a ticket', 'Check a ticket']) {
    const button = page.getByRole('main').getByRole('link', { name })
    const { color, background } = await button.evaluate((el) => ({ color: getComputedStyle(el).color, background: getComputedStyle(el).backgroundColor }))
    t.not(color, background, `"${name}" text differs from its background (${color} on ${background})`)
  }
  const navLinks = page.getByRole('navigation', { name: 'Main' }).getByRole('link')
  const first = await navLinks.nth(0).boundingBox()
  const second = await navLinks.nth(1).boundingBox()
  t.ok(second!.x - (first!.x + first!.width) >= 8, 'header links do not run together')
  await page.goto('/tickets/new')
  const send = page.getByRole('button', { name: 'Send ticket' })
  const colours = await send.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor])
  t.not(colours[0], colours[1], 'the form button is readable')
})

t.test('at 360 px nothing is wider than the screen, and every target is at least 24 × 24 px', { skip }, async (t) => {
  const { app, origin } = await servedApp(t)
  const desk = await seedDesk(app)
  const ticket = await openTicket(app, desk.topics.broken, 'A subject long enough to need a few words on a narrow phone screen')
  const browser = await launchBrowser(t)
  const { page } = await openPage(t, browser, origin, { viewport: { width: 360, height: 640 } })
  const widthFits = async (label: string): Promise<void> => {
    t.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), `${label}: no sideways scrolling`)
  }
  const targetsFit = async (label: string, selector: string): Promise<void> => {
    const small = await page.locator(selector).evaluateAll((els) => els
      .filter((el) => el.getClientRects().length > 0 && !el.closest('p, li.entry, dd, .hint'))
      .map((el) => ({ el: el.outerHTML.slice(0, 80), box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.width < 24 || box.height < 24)
      .map(({ el, box }) => `${el} ${Math.round(box.width)}×${Math.round(box.height)}`))
    t.same(small, [], `${label}: targets of 24 × 24 px or more`)
  }

  await page.goto('/')
  await widthFits('portal home')
  await targetsFit('portal home', 'main a, main button, header a, header button')

  await page.goto(onOrigin(origin, `http://x/tickets/${ticket.number}/access/${ticket.token}`))
  await widthFits('client ticket page')
  const steps = await page.getByRole('list', { name: 'Progress' }).getByRole('listitem').evaluateAll((items) => items.map((li) => li.getBoundingClientRect().left))
  t.equal(new Set(steps).size, 1, 'the steps stand in one column, none wrapped alone')

  await page.goto('/staff/login')
  t.equal(await page.locator('header.site .brand').innerText(), 'Tessera Help Desk · Staff', 'the sign-in page has the staff header')
  await page.getByLabel('E-mail address').fill(desk.agents.ada.email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { level: 1, name: 'All open' }).waitFor()
  await widthFits('staff queue')
  await targetsFit('staff queue', 'main a, main button, main input[type=checkbox], header a, header button')
  const subjectLines = await page.locator('td.subject').first().evaluate((el) => Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)))
  t.ok(subjectLines <= 3, `a subject takes ${subjectLines} lines, not 4–5`)

  await page.goto('/staff/admin/outbox')
  await widthFits('outbox page')
})

t.test('focus rings stand out 3:1 against the page', { skip }, async (t) => {
  const { app, origin } = await servedApp(t)
  await seedDesk(app)
  const browser = await launchBrowser(t)
  const { page } = await openPage(t, browser, origin)
  await page.goto('/tickets/new')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Tab')
  const ring = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement
    return { outline: getComputedStyle(el).outlineColor, width: getComputedStyle(el).outlineWidth }
  })
  t.equal(ring.width, '3px', 'a 3 px ring')
  const [r, g, b] = ring.outline.match(/\d+/g)!.map(Number)
  const lum = (c: number): number => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4 }
  const l = 0.2126 * lum(r!) + 0.7152 * lum(g!) + 0.0722 * lum(b!)
  t.ok((1 + 0.05) / (l + 0.05) >= 3, `ring ${ring.outline} is at least 3:1 on white`)
})
