/**
 * Work that concurrent callers hand in, done in batches: while a batch runs, new items wait;
 * when it ends, the next batch takes every item that came meanwhile (at most `max`). Under
 * no load each item is a batch of its own and waits for nothing; under load, many requests
 * share one transaction and its commit, and each caller is still answered only once the
 * batch holding its item has committed. `run` answers each item in its place: its value,
 * or the Error that item alone gets.
 *
 * A transaction costs most of its time whatever it holds (on SQLite a batch of one new
 * ticket took 3 ms of CPU, a batch of nine 5–7 ms: the statements, the pages of every index
 * written to the WAL). Under load, the callers just answered come back a moment later; a
 * batch begun at once holds only the few that came meanwhile, and the batches settle into
 * turns of many and few (with ten clients: nine, one, nine, one). So once several items were
 * in flight, the next batch waits up to `gatherMs` for as many, as PostgreSQL's commit_delay
 * waits for siblings; a caller alone never waits.
 */
export function groupCommit<Item, Result> (run: (items: Item[]) => Promise<Array<Result | Error>>, max = 50, gatherMs = 5): (item: Item) => Promise<Result> {
  interface Waiting { item: Item, resolve: (result: Result) => void, reject: (err: Error) => void }
  let waiting: Waiting[] = []
  let running = false
  /** Told of each item that arrives while a batch is being gathered. */
  let arrived: (() => void) | undefined

  /** Resolves once `count` items wait, or after gatherMs. */
  async function gathered (count: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        arrived = undefined
        resolve()
      }
      const timer = setTimeout(done, gatherMs)
      arrived = () => { if (waiting.length >= count) done() }
    })
  }

  async function drain (): Promise<void> {
    running = true
    // Items in flight when the last batch ended: those waiting, and those just answered.
    let inFlight = 0
    for (;;) {
      if (inFlight > 1 && waiting.length < inFlight) await gathered(Math.min(inFlight, max))
      if (waiting.length === 0) break
      const batch = waiting.slice(0, max)
      waiting = waiting.slice(max)
      let results: Array<Result | Error>
      try {
        results = await run(batch.map((entry) => entry.item))
      } catch (err) {
        results = batch.map(() => asError(err))
      }
      inFlight = batch.length + waiting.length
      // The callers hear on the next turn of the event loop: a batch that needs no gathering
      // has sent its first statements by then (what the callers do next, write their replies,
      // runs on this thread and would hold those back); one being gathered waits for them.
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
    else arrived?.()
  })
}

export function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
