import t from 'tap'
import { staleWhileRevalidate } from '../../src/web/ttl-cache.js'

/** A load the test finishes by hand, counting how often it was started. */
function slowLoads (): { load: () => Promise<number>, started: () => number, finish: (value: number) => void, fail: () => void } {
  const pending: Array<{ resolve: (v: number) => void, reject: (e: Error) => void }> = []
  return {
    load: async () => await new Promise<number>((resolve, reject) => { pending.push({ resolve, reject }) }),
    started: () => pending.length,
    finish: (value) => { pending[pending.length - 1]!.resolve(value) },
    fail: () => { pending[pending.length - 1]!.reject(new Error('database went away')) }
  }
}

const tick = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

t.test('stale counts are served while one reload runs, and replaced when it is done', async (t) => {
  let clock = 0
  const cache = staleWhileRevalidate<string, number>(5_000, () => clock)
  const loads = slowLoads()

  const first = cache('ada', loads.load)
  loads.finish(1)
  t.equal(await first, 1, 'the first caller waits for the first load')

  clock += 4_999
  t.equal(await cache('ada', loads.load), 1, 'within the TTL: the cached value, no load')
  t.equal(loads.started(), 1)

  clock += 1
  t.equal(await cache('ada', loads.load), 1, 'past the TTL: the old value at once, without waiting for the slow load')
  t.equal(await cache('ada', loads.load), 1, 'and again while the reload still runs')
  t.equal(loads.started(), 2, 'only one reload runs at a time')
  loads.finish(2)
  await tick()
  t.equal(await cache('ada', loads.load), 2, 'once the reload is done, its value is served')
  t.equal(loads.started(), 2)

  clock += 5_000
  t.equal(await cache('ada', loads.load), 2, 'a reload that fails…')
  loads.fail()
  await tick()
  t.equal(await cache('ada', loads.load), 2, '…keeps the old value')
  t.equal(loads.started(), 4, 'and the next caller tries again')
})

t.test('a first load that fails is not kept', async (t) => {
  const cache = staleWhileRevalidate<string, number>(5_000, () => 0)
  const loads = slowLoads()
  const first = cache('ada', loads.load)
  loads.fail()
  await t.rejects(first, /database went away/, 'the first caller sees the failure')
  const second = cache('ada', loads.load)
  loads.finish(3)
  t.equal(await second, 3, 'the next caller loads again')
})
