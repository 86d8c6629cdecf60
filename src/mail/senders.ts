import type { AddressObject } from 'mailparser'
import type { InboundParsed } from './parse.js'

export interface Sender { address: string, name: string }

function fromObject (field: AddressObject | AddressObject[] | undefined): Sender | undefined {
  for (const object of [field ?? []].flat()) {
    for (const value of object.value) {
      for (const one of [value, ...(value.group ?? [])]) {
        const address = one.address?.trim().toLowerCase()
        if (address && address.includes('@')) return { address, name: one.name ?? '' }
      }
    }
  }
  return undefined
}

/** An address in a raw header line: `Name <a@b>`, or a bare `a@b`. */
function fromLine (line: string): Sender | undefined {
  const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim()
  const angle = /^(.*?)<\s*([^<>\s@]+@[^<>\s@]+)\s*>/.exec(value)
  if (angle) return { address: angle[2]!.toLowerCase(), name: angle[1]!.replace(/^[\s"']+|[\s"']+$/g, '') }
  const bare = /([^\s<>"(),;:@]+@[^\s<>"(),;:@]+\.[^\s<>"(),;:@]+)/.exec(value)
  return bare ? { address: bare[1]!.toLowerCase(), name: '' } : undefined
}

/**
 * Who wrote the message, when anyone says so: the first From with an address (a message may
 * carry two From headers, or one mailparser could not read), then Sender, then Reply-To.
 */
export function senderOf (mail: Pick<InboundParsed, 'from' | 'headers' | 'headerLines'>): Sender | undefined {
  const parsed = fromObject(mail.from)
  if (parsed) return parsed
  for (const key of ['from', 'sender', 'reply-to']) {
    if (key !== 'from') {
      const structured = fromObject(mail.headers.get(key) as AddressObject | undefined)
      if (structured) return structured
    }
    for (const { line } of mail.headerLines.filter((header) => header.key === key)) {
      const found = fromLine(line)
      if (found) return found
    }
  }
  return undefined
}
