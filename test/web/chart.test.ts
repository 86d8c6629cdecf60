import t from 'tap'
import { buildChart, yAxis } from '../../src/web/chart.js'
import { percentile } from '../../src/domain/reports.js'
import { bucketEdges, bucketOf } from '../../src/domain/report-counts.js'
import { formatMinutes } from '../../src/web/report-sections.js'

t.test('the y axis ends on a round number at or above the largest value, in at most five round steps', async (t) => {
  t.same([0, 1, 3, 7, 19, 24, 26, 180, 4100].map((max) => yAxis(max).top), [1, 1, 3, 8, 20, 25, 30, 200, 5000])
  t.same([0, 1, 3, 7, 19, 24, 26, 180, 4100].map((max) => yAxis(max).step), [1, 1, 1, 2, 5, 5, 10, 50, 1000])
  t.same(yAxis(0.6, 0.1), { top: 0.6, step: 0.2 }, 'hours step by tenths at least')
})

t.test('a line breaks where a period has no value, and a lone value is a dot', async (t) => {
  const chart = buildChart({ id: 'x', kind: 'line', title: 'Score', description: 'd', labels: ['a', 'b', 'c', 'd', 'e'], series: [{ name: 'Score', values: [50, -50, null, 100, null] }], range: [-100, 100, 50] })
  t.equal(chart.lines.length, 1, 'one run of two points')
  t.equal(chart.lines[0]!.points.split(' ').length, 2)
  t.equal(chart.dots.length, 3, 'every value is a dot')
  t.equal(chart.zeroY, (chart.plot.top + chart.plot.bottom) / 2, 'zero is in the middle of −100 to 100')
  t.ok(chart.dots[1]!.y > chart.zeroY && chart.dots[0]!.y < chart.zeroY, 'negative values below zero, positive above')
})

t.test('bars stand on zero, one per series in each period', async (t) => {
  const chart = buildChart({ id: 'x', kind: 'bar', title: 'T', description: 'd', labels: ['a', 'b'], series: [{ name: 'A', values: [4, 0] }, { name: 'B', values: [2, 1] }] })
  t.equal(chart.bars.length, 4)
  t.same(chart.bars.map((bar) => Math.round(bar.y + bar.height)), [chart.plot.bottom, chart.plot.bottom, chart.plot.bottom, chart.plot.bottom])
  t.same(chart.yTicks.map((tick) => tick.label), ['0', '1', '2', '3', '4'])
  t.same(chart.legend.map((item) => item.name), ['A', 'B'])
  const big = buildChart({ id: 'y', kind: 'line', title: 'T', description: 'd', labels: ['a'], series: [{ name: 'A', values: [140_000] }] })
  t.same(big.yTicks.map((tick) => tick.label), ['0', '50k', '100k', '150k'], 'large numbers are shortened to fit')
})

t.test('percentiles come from the middle of each value’s share of its bucket', async (t) => {
  const buckets = new Array<number>(bucketEdges.length + 1).fill(0)
  t.equal(percentile(buckets, 0.5), null, 'nothing counted, no median')
  buckets[bucketOf(95)]! += 2 // two values in [90, 120)
  buckets[bucketOf(200)]! += 1 // one in [180, 240)
  t.equal(percentile(buckets, 0.5), 90 + 30 * 1.5 / 2, 'the 2nd of 3 is the second of two in [90, 120): 112.5')
  t.equal(percentile(buckets, 0.9), 210, 'the 3rd of 3, alone in [180, 240)')
  buckets[bucketEdges.length]! += 10
  t.equal(percentile(buckets, 0.9), 129_600, 'the open-ended bucket reads as its lower edge, 90 days')
  t.equal(bucketOf(0), 0)
  t.equal(bucketOf(129_600), bucketEdges.length)
})

t.test('durations read as people write them', async (t) => {
  t.same([null, 0.4, 35, 60, 105, 1680, 3240, 2880].map(formatMinutes), ['—', '0 min', '35 min', '1 h', '1 h 45 min', '28 h', '2 d 6 h', '2 d'])
})
