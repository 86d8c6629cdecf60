/**
 * Each answer loaded once per key, for the span of one piece of work (a batch of new
 * tickets reads each topic's plan, each team, each department once). Concurrent callers
 * of a key share one load.
 */
export function memo (): <T>(key: string, load: () => Promise<T>) => Promise<T> {
  const answers = new Map<string, Promise<unknown>>()
  return async <T>(key: string, load: () => Promise<T>): Promise<T> => {
    if (!answers.has(key)) answers.set(key, load())
    return await answers.get(key) as T
  }
}
