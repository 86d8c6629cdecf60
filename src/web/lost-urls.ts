/**
 * Where a GET goes when it asks for an address that only takes form posts, or that has a
 * stray trailing slash. A URL left in the address bar after a POST without a redirect
 * (`/tickets`, `/staff/tickets/N/replies`, `/staff/tickets/N/draft`) is reloaded or
 * bookmarked as a GET; it should land on the page the form belongs to, never a 404.
 */
export class LostUrls {
  private readonly pages: RegExp[] = []
  private readonly posts: Array<{ pattern: RegExp, returnTo?: string }> = []

  /** Called for every route as it is registered (Fastify's onRoute hook). */
  add (methods: string | string[], url: string, returnTo?: string): void {
    const pattern = new RegExp('^' + url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*$/, '.*').replace(/:[A-Za-z0-9_]+/g, '[^/]+') + '$')
    const list = [methods].flat()
    if (list.includes('GET')) this.pages.push(pattern)
    if (list.includes('POST')) this.posts.push({ pattern, returnTo })
  }

  private isPage (path: string): boolean {
    return this.pages.some((page) => page.test(path))
  }

  /**
   * The page to send a GET of `path` to instead of a 404, or undefined: the same path
   * without its trailing slash, the page a form post route names, or the nearest page
   * above a post-only path (`/staff/tickets/7/replies` → `/staff/tickets/7`).
   */
  pageFor (path: string, root: string): string | undefined {
    if (path.length > 1 && path.endsWith('/')) {
      const trimmed = path.replace(/\/+$/, '')
      if (this.isPage(trimmed)) return trimmed
    }
    const post = this.posts.find((route) => route.pattern.test(path))
    if (!post) return undefined
    if (post.returnTo !== undefined) return post.returnTo
    for (let up = path.slice(0, path.lastIndexOf('/')); up.length > 0; up = up.slice(0, up.lastIndexOf('/'))) {
      if (this.isPage(up)) return up
    }
    return root
  }
}
