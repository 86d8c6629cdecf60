import { mkdtempSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { mib, startProductionServer } from './production-server.js'

/**
 * Resident memory of the production server (`node dist/src/server.js`; run `npm run build`
 * first) while N clients upload files through the portal's new-ticket form at once. Each
 * client sends its megabytes as two files of half the size (the default limits are 10 MB a
 * file, 25 MB a message), generated as it streams, so only the server holds anything.
 *
 *   npx tsx bench/uploads.ts --clients 10 --mb 20
 */

/** `size` bytes of data, made 64 KiB at a time. */
function generated (size: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  let left = size
  return new Readable({
    read () {
      if (left <= 0) { this.push(null); return }
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left)
      left -= part.length
      this.push(part)
    }
  })
}

async function * multipart (boundary: string, fields: Record<string, string>, files: Array<{ name: string, size: number }>): AsyncGenerator<Buffer> {
  for (const [name, value] of Object.entries(fields)) yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
  for (const file of files) {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`)
    for await (const chunk of generated(file.size)) yield chunk as Buffer
    yield Buffer.from('\r\n')
  }
  yield Buffer.from(`--${boundary}--\r\n`)
}

async function upload (base: string, client: number, bytes: number): Promise<number> {
  const form = await fetch(`${base}/tickets/new`)
  const cookies = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const html = await form.text()
  const value = (name: string): string => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? ''
  const topic = /<option value="(\d+)"/.exec(html)?.[1] ?? ''
  const boundary = `----bench${client}${Date.now()}`
  const fields = { _csrf: value('_csrf'), submission: value('submission'), topic, name: `Client ${client}`, email: `client${client}@example.com`, subject: 'Upload', message: 'Files attached.' }
  const half = Math.floor(bytes / 2)
  const body = Readable.from(multipart(boundary, fields, [{ name: 'a.bin', size: half }, { name: 'b.bin', size: bytes - half }]))
  return await new Promise<number>((resolve, reject) => {
    const url = new URL(`${base}/tickets`)
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie: cookies } }, (res) => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode ?? 0) })
    })
    req.on('error', reject)
    body.pipe(req)
  })
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { clients: { type: 'string', default: '10' }, mb: { type: 'string', default: '20' } } })
  const clients = Number(values.clients)
  const bytes = Number(values.mb) * 1024 * 1024
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-uploads-'))
  const server = await startProductionServer(dataDir, { sampleMs: 50, waitMs: 60_000 })
  try {
    const base = server.url
    const started = Date.now()
    const statuses = await Promise.all(Array.from({ length: clients }, async (_, i) => await upload(base, i, bytes)))
    const peak = server.peak()
    const idle = server.idle
    const seconds = (Date.now() - started) / 1000
    const ok = statuses.filter((s) => s === 303).length
    console.log(`${clients} clients × ${values.mb} MB at once: ${ok} tickets opened (statuses ${[...new Set(statuses)].join(', ')}) in ${seconds.toFixed(1)} s; ` +
      `RSS idle ${mib(idle)}, peak ${mib(peak)}, growth ${mib(peak - idle)} for ${mib(clients * bytes)} uploaded`)
  } finally {
    await server.stop()
  }
}

await main()
