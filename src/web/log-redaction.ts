/**
 * URLs as they may appear in logs: secrets in paths and query strings replaced, so a log
 * file (often readable by more people than the database) never opens a ticket or an account.
 */

// The segment after one of these is a one-time or private-link token.
const tokenBefore = new Set(['access', 'setup', 'password-reset', 'invitation', 'invite', 'token'])
// Anything else that looks like a random token (long, letters and digits mixed) goes too.
const tokenLike = /^(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}$/
// Query values that are safe and useful to read in a log; every other value is redacted.
const harmlessQuery = new Set(['page', 'sort', 'dir', 'status', 'sent', 'after', 'before', 'topic', 'department', 'priority', 'assignee', 'view'])

export const redacted = '[redacted]'

export function redactUrl (url: string): string {
  const queryAt = url.indexOf('?')
  const path = queryAt === -1 ? url : url.slice(0, queryAt)
  const segments = path.split('/')
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!
    if (tokenBefore.has(segments[i - 1]!.toLowerCase()) || tokenLike.test(segment)) segments[i] = segment === '' ? '' : redacted
  }
  if (queryAt === -1) return segments.join('/')
  const query = url.slice(queryAt + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    if (eq === -1) return pair
    const name = pair.slice(0, eq)
    return harmlessQuery.has(name) ? pair : `${name}=${redacted}`
  })
  return `${segments.join('/')}?${query.join('&')}`
}
