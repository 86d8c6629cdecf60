import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Test } from 'tap'
import type { AxeResults, Result } from 'axe-core'
import type { Page } from 'playwright-core'

declare global {
  interface Window {
    axe?: { run: (context: Document, options: object) => Promise<AxeResults> }
  }
}

const require = createRequire(import.meta.url)
const axeSource = readFileSync(join(dirname(require.resolve('axe-core')), 'axe.min.js'), 'utf8')

/** The serious and critical problems axe finds on the page as it is now. */
export async function seriousViolations (page: Page): Promise<Result[]> {
  await page.addScriptTag({ content: axeSource })
  const results = await page.evaluate(async () => await window.axe!.run(document, { resultTypes: ['violations'] }))
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

export function describeViolations (violations: Result[]): string {
  return violations.map((v) => [
    `${v.impact ?? 'unknown'}: ${v.id}: ${v.help} (${v.helpUrl})`,
    ...v.nodes.map((n) => `  at ${n.target.join(' ')}: ${n.html}\n    ${(n.failureSummary ?? '').replace(/\n/g, '\n    ')}`)
  ].join('\n')).join('\n')
}

/** The page answered as expected and axe finds nothing serious on it. */
export async function checkAccessibility (t: Test, page: Page, name: string, expectedStatus: number | undefined, status: number | undefined): Promise<void> {
  t.equal(status, expectedStatus, `${name}: answered ${String(expectedStatus)}`)
  const violations = await seriousViolations(page)
  t.same(violations.map((v) => v.id), [], `${name}: no serious or critical accessibility violations\n${describeViolations(violations)}`)
}
