/**
 * Cookies by name and path, kept exactly as sent (still URL-encoded) and sent back the way
 * a browser does: only under their path, longest path first. One jar for the tests'
 * Visitor and the bench's HTTP client.
 */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string, value: string, path: string }>()

  /** Takes the Set-Cookie headers of an answer to `requestUrl` (absolute, or a path). */
  store (setCookieHeaders: readonly string[], requestUrl: string, now = Date.now()): void {
    // RFC 6265 5.1.4: without a Path attribute, the directory of the request's path.
    const defaultPath = pathOf(requestUrl).replace(/\/[^/]*$/, '') || '/'
    for (const line of setCookieHeaders) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const name = pair.slice(0, eq)
      const value = pair.slice(eq + 1)
      let path = defaultPath
      let expired = value === ''
      for (const attribute of attributes) {
        const at = attribute.indexOf('=')
        const key = (at === -1 ? attribute : attribute.slice(0, at)).toLowerCase()
        const val = at === -1 ? '' : attribute.slice(at + 1)
        if (key === 'path') path = val || '/'
        if (key === 'max-age' && Number(val) <= 0) expired = true
        if (key === 'expires' && Date.parse(val) <= now) expired = true
      }
      const key = `${name}\u0000${path}`
      if (expired) this.cookies.delete(key)
      else this.cookies.set(key, { name, value, path })
    }
  }

  /** The value of the cookie `name` (on `path` exactly, when given). */
  get (name: string, path?: string): string | undefined {
    for (const cookie of this.cookies.values()) {
      if (cookie.name === name && (path === undefined || cookie.path === path)) return cookie.value
    }
    return undefined
  }

  /** The Cookie header a browser sends with a request to `url` ('' when none applies). */
  header (url: string): string {
    const path = pathOf(url)
    return [...this.cookies.values()]
      .filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : c.path + '/'))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ')
  }

  clear (): void {
    this.cookies.clear()
  }
}

function pathOf (url: string): string {
  return new URL(url, 'http://jar.invalid').pathname
}
