import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface Received {
  envelopeTo: string[]
  raw: string
  parsed: ParsedMail
}

export interface TestSmtp {
  url: string
  messages: Received[]
  /** Stops accepting connections (the mail server is "down") until `start` again. */
  stop: () => Promise<void>
  start: () => Promise<void>
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives. */
export async function smtpServer (t: Test): Promise<TestSmtp> {
  const messages: Received[] = []
  let port = 0
  let server: SMTPServer | undefined
  const start = async (): Promise<void> => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData (stream, session, callback) {
        const chunks: Buffer[] = []
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8')
          simpleParser(raw).then((parsed) => {
            messages.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), raw, parsed })
            callback()
          }, callback)
        })
      }
    })
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()))
    port = (server.server.address() as AddressInfo).port
  }
  const stop = async (): Promise<void> => {
    await new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve())
    server = undefined
  }
  await start()
  t.teardown(stop)
  return { url: `smtp://127.0.0.1:${port}`, messages, stop, start }
}
