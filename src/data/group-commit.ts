/**
 * Work that concurrent callers hand in, done in batches: while a batch runs, new items wait;
 * when it ends, the next batch takes every item that came meanwhile (at most `max`). Under
 * no load each item is a batch of its own and waits for nothing; under load, many requests
 * share one transaction and its commit, and each caller is still answered only once the
 * batch holding its item has committed. `run` answers each item in its place: its value,
 * or the Error that item alone gets.
 */
export function groupCommit<Item, Result> (run: (items: Item[]) => Promise<Array<Result | Error>>, max = 50): (item: Item) => Promise<Result> {
  interface Waiting { item: Item, resolve: (result: Result) => void, reject: (err: Error) => void }
  let waiting: Waiting[] = []
  let running = false

  async function drain (): Promise<void> {
    running = true
    while (waiting.length > 0) {
      const batch = waiting.slice(0, max)
      waiting = waiting.slice(max)
      let results: Array<Result | Error>
      try {
        results = await run(batch.map((entry) => entry.item))
      } catch (err) {
        results = batch.map(() => asError(err))
      }
      // The callers hear once the next batch is on its way: what they do next (write their
      // replies) runs on this thread, and would hold back that batch's first statements.
      setImmediate(() => {
        batch.forEach((entry, i) => {
          const result = results[i]
          if (result instanceof Error) entry.reject(result)
          else entry.resolve(result as Result)
        })
      })
    }
    running = false
  }

  return async (item) => await new Promise<Result>((resolve, reject) => {
    waiting.push({ item, resolve, reject })
    if (!running) void drain()
  })
}

export function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
