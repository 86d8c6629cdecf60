/*
 * The geometry of a bar or line chart drawn as inline SVG on the server (views/staff/
 * _chart.eta draws it). Sized in a 480 × 260 viewBox that the page scales to its width: at
 * 360 px wide the 15-unit labels still read at about 11 px. Every number drawn is also in a
 * table beside the chart, so the chart needs no tooltips and no script.
 */

export interface ChartSeries { name: string, values: ReadonlyArray<number | null> }

export interface ChartInput {
  id: string
  kind: 'bar' | 'line'
  title: string
  description: string
  /** One per position along the x axis. */
  labels: readonly string[]
  series: readonly ChartSeries[]
  /** Said after the y axis numbers, e.g. "h". */
  unit?: string
  /** A fixed y range and step (scores from −100 to 100 by 50); otherwise from 0 to a round number at or above the largest value. */
  range?: readonly [number, number, number]
  /** The smallest step between y axis numbers: 1 for counts, less for hours. */
  minStep?: number
}

export interface Chart {
  id: string
  title: string
  description: string
  width: number
  height: number
  plot: { left: number, right: number, top: number, bottom: number }
  yTicks: Array<{ y: number, label: string }>
  xLabels: Array<{ x: number, label: string }>
  zeroY: number
  bars: Array<{ series: number, x: number, y: number, width: number, height: number }>
  lines: Array<{ series: number, points: string }>
  dots: Array<{ series: number, x: number, y: number }>
  legend: Array<{ series: number, name: string }>
}

const width = 480
const height = 260
const plot = { left: 56, right: width - 12, top: 14, bottom: height - 34 }
/** At most this many x labels are written; the others are left out evenly. */
const maxXLabels = 6

/**
 * The y axis for values up to `max`: a round step (1, 2 or 5 times a power of ten, at least
 * `minStep`) and the first multiple of it at or above `max`, with at most 5 steps.
 */
export function yAxis (max: number, minStep = 1): { top: number, step: number } {
  if (max <= 0) return { top: minStep, step: minStep }
  let power = 10 ** Math.floor(Math.log10(max / 5))
  for (;;) {
    for (const m of [1, 2, 5]) {
      const step = Math.max(minStep, m * power)
      if (Math.ceil(max / step) <= 5) return { top: Math.round(step * Math.ceil(max / step) * 1e6) / 1e6, step }
    }
    power *= 10
  }
}

const round = (n: number): number => Math.round(n * 10) / 10

function tickLabel (value: number, unit: string | undefined): string {
  // Five characters at most, to fit left of the plot: 150000 reads 150k.
  const text = Math.abs(value) >= 1e6 ? `${value / 1e6}M` : Math.abs(value) >= 1e4 ? `${value / 1e3}k` : Number.isInteger(value) ? String(value) : value.toFixed(1)
  return unit ? `${text} ${unit}` : text
}

export function buildChart (input: ChartInput): Chart {
  const values = input.series.flatMap((s) => s.values.filter((v): v is number => v !== null))
  const axis = yAxis(Math.max(0, ...values), input.minStep)
  const [min, max, step] = input.range ?? [0, axis.top, axis.step]
  const y = (value: number): number => round(plot.bottom - (value - min) / (max - min) * (plot.bottom - plot.top))
  const yTicks = Array.from({ length: Math.round((max - min) / step) + 1 }, (_, i) => Math.round((min + step * i) * 1e6) / 1e6).map((value) => ({ y: y(value), label: tickLabel(value, input.unit) }))
  const n = Math.max(1, input.labels.length)
  const slot = (plot.right - plot.left) / n
  const center = (i: number): number => round(plot.left + slot * (i + 0.5))
  const every = Math.ceil(n / maxXLabels)
  const xLabels = input.labels.flatMap((label, i) => i % every === 0 ? [{ x: center(i), label }] : [])
  const zeroY = y(Math.min(Math.max(0, min), max))
  const bars: Chart['bars'] = []
  const lines: Chart['lines'] = []
  const dots: Chart['dots'] = []
  input.series.forEach((series, s) => {
    if (input.kind === 'bar') {
      const barWidth = slot * 0.8 / input.series.length
      series.values.forEach((value, i) => {
        if (value === null) return
        const top = y(value)
        bars.push({ series: s, x: round(plot.left + slot * (i + 0.1) + barWidth * s), y: Math.min(top, zeroY), width: round(barWidth), height: round(Math.abs(zeroY - top)) })
      })
      return
    }
    // A line breaks where a period has no value; a lone value is a dot.
    let run: string[] = []
    const flush = (): void => {
      if (run.length > 1) lines.push({ series: s, points: run.join(' ') })
      run = []
    }
    series.values.forEach((value, i) => {
      if (value === null) { flush(); return }
      run.push(`${center(i)},${y(value)}`)
      if (n <= 31 || series.values[i - 1] == null || series.values[i + 1] == null) dots.push({ series: s, x: center(i), y: y(value) })
    })
    flush()
  })
  return {
    id: input.id,
    title: input.title,
    description: input.description,
    width,
    height,
    plot,
    yTicks,
    xLabels,
    zeroY,
    bars,
    lines,
    dots,
    legend: input.series.map((series, s) => ({ series: s, name: series.name }))
  }
}
