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

/**
 * Like ttlCache, but once a key has a value no caller waits for a reload: after `ttlMs` the
 * old value is served while one reload runs in the background, and replaces it when done.
 * For values that are slow to load on a large desk and fine a few seconds stale (queue
 * counts, which read every row of a big queue).
 */
export function staleWhileRevalidate<K, V> (ttlMs: number, now: () => number = Date.now): (key: K, load: () => Promise<V>) => Promise<V> {
  const entries = new Map<K, { at: number, value: Promise<V>, reloading: boolean }>()
  return async (key, load) => {
    const entry = entries.get(key)
    if (!entry) {
      const value = load()
      entries.set(key, { at: now(), value, reloading: false })
      value.catch(() => entries.delete(key))
      return await value
    }
    if (now() - entry.at >= ttlMs && !entry.reloading) {
      entry.reloading = true
      load().then(
        (fresh) => { entries.set(key, { at: now(), value: Promise.resolve(fresh), reloading: false }) },
        // A failed reload keeps the old value; the next request tries again.
        () => { entry.reloading = false }
      )
    }
    return await entry.value
  }
}
