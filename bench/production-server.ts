import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { projectRoot } from '../src/paths.js'

export interface ProductionServer {
  url: string
  /** Resident memory once it answered /healthz, in bytes. */
  idle: number
  /** The highest resident memory seen since the start (sampled every `sampleMs`). */
  peak: () => number
  /** Stops the server and removes its data folder. */
  stop: () => Promise<void>
}

function rssOf (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}

/**
 * `node dist/src/server.js` (run `npm run build` first) with the Node flags `npm start` uses
 * (they bound the heap; see README, "Memory"), on `dataDir`, watched for resident memory.
 */
export async function startProductionServer (dataDir: string, options: { sampleMs: number, waitMs: number }): Promise<ProductionServer> {
  const port = 3900 + Math.floor(Math.random() * 90)
  const startScript = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  const nodeFlags = /node ((?:--\S+ )*)dist\/src\/server\.js/.exec(startScript)?.[1]?.trim().split(' ').filter(Boolean) ?? []
  const server = spawn(process.execPath, [...nodeFlags, join(projectRoot, 'dist/src/server.js')], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', TICKET_RATE_LIMIT: '100000000' },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const url = `http://127.0.0.1:${port}`
  for (let waited = 0; waited < options.waitMs && !await fetch(`${url}/healthz`).then((r) => r.ok, () => false); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const idle = rssOf(server.pid!)
  let peak = idle
  const sampler = setInterval(() => { peak = Math.max(peak, rssOf(server.pid!)) }, options.sampleMs)
  return {
    url,
    idle,
    peak: () => Math.max(peak, rssOf(server.pid!)),
    async stop () {
      clearInterval(sampler)
      server.kill('SIGTERM')
      await new Promise((resolve) => server.once('exit', resolve))
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`
