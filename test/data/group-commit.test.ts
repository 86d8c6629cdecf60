import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { groupCommit } from '../../src/data/group-commit.js'

/** A batch runner that takes a moment, as a transaction does, and notes each batch's size. */
function recording (): { sizes: number[], run: (items: number[]) => Promise<Array<number | Error>> } {
  const sizes: number[] = []
  return {
    sizes,
    run: async (items) => {
      sizes.push(items.length)
      await sleep(2)
      return items.map((item) => item === 3 ? new Error(`item ${item} fails alone`) : item * 2)
    }
  }
}

t.test('each caller gets its own answer: its value, or the error its item alone got', async (t) => {
  const { run } = recording()
  const submit = groupCommit(run)
  const results = await Promise.allSettled([1, 2, 3, 4].map(submit))
  t.same(results.map((r) => r.status === 'fulfilled' ? r.value : (r.reason as Error).message), [2, 4, 'item 3 fails alone', 8])
})

t.test('callers that come straight back after their answer keep sharing whole batches', async (t) => {
  const { sizes, run } = recording()
  const submit = groupCommit(run, 50, 1000)
  // Ten clients, each sending its next item as soon as the last is answered, after a few
  // turns of the event loop (as a browser's next request arrives).
  await Promise.all(Array.from({ length: 10 }, async (_, client) => {
    for (let round = 0; round < 30; round++) {
      await submit(client * 100 + round * 7 + 1)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }))
  const inWhole = sizes.filter((size) => size === 10).length
  t.equal(sizes.reduce((a, b) => a + b, 0), 300, 'every item ran once')
  // The first caller runs alone before the others wait; after that, whole batches.
  t.ok(inWhole >= sizes.length - 3, `batches of ten, not turns of nine and one: ${sizes.join(' ')}`)
})

t.test('a caller alone waits for nobody, and items that wait are not held for callers who do not come back', async (t) => {
  const { sizes, run } = recording()
  // With an hour to gather, any wait that was not cut short would time the test out.
  const submit = groupCommit(run, 50, 3600_000)
  for (let i = 0; i < 5; i++) await submit(1)
  t.same(sizes, [1, 1, 1, 1, 1], 'one after the other: each its own batch at once')

  const quick = groupCommit(run, 50, 20)
  await Promise.all([1, 2, 4].map(quick))
  // Three were in flight; one comes back, the others are gone: it runs after the short gather.
  t.equal(await quick(5), 10)
  t.same(sizes.slice(5), [1, 2, 1])
})
