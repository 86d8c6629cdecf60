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
  /** How long the server sits on each MAIL FROM before answering: a server that hangs before taking anything. */
  answerDelayMs: number
  /** How long it takes, once a message's data has arrived, to accept it: a slow server. */
  acceptDelayMs: number
  /** MAIL FROM commands received so far, answered or not. */
  mailFromCount: number
}

/** A real SMTP server on 127.0.0.1 that keeps what it receives, as slow as a test asks. */
export async function smtpServer (t: Test): Promise<TestSmtp> {
  let port = 0
  let server: SMTPServer | undefined
  // A client that gives up leaves a delayed answer behind; stop() clears them all.
  const pending = new Set<NodeJS.Timeout>()
  const later = (ms: number, fn: () => void): void => {
    if (ms <= 0) { fn(); return }
    const timer = setTimeout(() => { pending.delete(timer); fn() }, ms)
    pending.add(timer)
  }
  const smtp: TestSmtp = {
    url: '',
    messages: [],
    answerDelayMs: 0,
    acceptDelayMs: 0,
    mailFromCount: 0,
    start: async () => {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        onMailFrom (address, session, callback) {
          smtp.mailFromCount++
          later(smtp.answerDelayMs, () => { callback() })
        },
        onData (stream, session, callback) {
          const chunks: Buffer[] = []
          stream.on('data', (chunk: Buffer) => chunks.push(chunk))
          stream.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8')
            later(smtp.acceptDelayMs, () => {
              simpleParser(raw).then((parsed) => {
                smtp.messages.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), raw, parsed })
                callback()
              }, callback)
            })
          })
        }
      })
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', () => resolve()))
      port = (server.server.address() as AddressInfo).port
      smtp.url = `smtp://127.0.0.1:${port}`
    },
    stop: async () => {
      for (const timer of pending) clearTimeout(timer)
      pending.clear()
      await new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve())
      server = undefined
    }
  }
  await smtp.start()
  t.teardown(smtp.stop)
  return smtp
}
