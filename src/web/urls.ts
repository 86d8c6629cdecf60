export interface Urls {
  /** A path inside the app, with the sub-path the app is served under. */
  url: (path: string) => string
  /** The same, as an absolute URL for links that leave the browser (e-mail). */
  absoluteUrl: (path: string) => string
}

export function createUrls (baseUrl: string, basePath: string): Urls {
  const url = (path: string): string => basePath + (path === '/' && basePath ? '/' : path)
  return { url, absoluteUrl: (path) => baseUrl + url(path) }
}
