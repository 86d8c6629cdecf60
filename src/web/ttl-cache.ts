/**
 * Remembers a loaded value per key for `ttlMs`. For data that may be a few seconds stale on
 * a busy page (help topics, queue counts); concurrent callers share one load.
 */
export function ttlCache<K, V> (ttlMs: number, now: () => number = Date.now): (key: K, load: () => Promise<V>) => Promise<V> {
  const entries = new Map<K, { at: number, value: Promise<V> }>()
  return async (key, load) => {
    const at = now()
    const entry = entries.get(key)
    if (entry && at - entry.at < ttlMs) return await entry.value
    const value = load()
    entries.set(key, { at, value })
    value.catch(() => entries.delete(key))
    return await value
  }
}
