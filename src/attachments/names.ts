export const maxFileNameLength = 1000

/**
 * A file name as people will see it: any characters but control and bidirectional-override
 * ones (which could disguise `evil.exe` as `exe.live`), at most 1,000 of them. The name is
 * only ever shown (escaped) and sent in a header; it never becomes a path.
 */
export function cleanFileName (name: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = [...(name ?? '').normalize('NFC').replace(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\uFFFD]/g, '').trim()]
  return cleaned.slice(0, maxFileNameLength).join('') || 'file'
}

/** A declared MIME type kept as a label only; anything odd becomes application/octet-stream. */
export function cleanContentType (type: string | undefined): string {
  const value = (type ?? '').trim().toLowerCase().split(';')[0]!.trim()
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(value) ? value : 'application/octet-stream'
}

/**
 * `Content-Disposition` for a download (RFC 6266): an ASCII fallback for old clients, and
 * the real name percent-encoded in UTF-8 as `filename*`.
 */
export function contentDisposition (kind: 'attachment' | 'inline', name: string): string {
  const fallback = name.replace(/[^\x20-\x7E]|["\\%;]/g, '_').slice(0, 200) || 'file'
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`
}

/** "2.4 MB", "812 KB", "14 bytes". */
export function fileSizeLabel (bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`
}
