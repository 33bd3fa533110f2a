// The ticker of one topic: throughput in and out, and lag, over the last few minutes, drawn with
// uPlot (loaded before this module from the package's own copy).

const colours = {
  in: '#2b7de9',
  out: '#18a058',
  unread: '#d03050',
  committed: '#e08a00',
  buffered: '#8a63d2',
}

function options(title, series, width) {
  return {
    title,
    width,
    height: 170,
    cursor: { drag: { x: false, y: false } },
    // The legend names the lines; values at the cursor would only flicker on a ticker.
    legend: { live: false },
    scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1, min)] } },
    // Clock times only: the date is today's, and uPlot's two-line labels overlap at this width.
    axes: [
      // A label like 3:12:40 PM is ~80 px wide: ask uPlot for splits at least 90 px apart.
      { space: 90, values: (_u, splits) => splits.map((s) => new Date(s * 1000).toLocaleTimeString()) },
      { size: 60 },
    ],
    series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, points: { show: false } }))],
  }
}

export class TopicCharts {
  /** @param {HTMLElement} container */
  constructor(container) {
    const width = Math.max(280, Math.floor((container.clientWidth || 900) / 2) - 16)
    const throughput = document.createElement('div')
    const lag = document.createElement('div')
    throughput.className = 'chart'
    lag.className = 'chart'
    container.append(throughput, lag)
    const Plot = globalThis.uPlot
    this.throughput = new Plot(
      options(
        'records/s',
        [
          ['in', colours.in],
          ['out', colours.out],
        ],
        width,
      ),
      [[], [], []],
      throughput,
    )
    this.lag = new Plot(
      options(
        'lag (records)',
        [
          ['unread', colours.unread],
          ['committed', colours.committed],
          ['buffered', colours.buffered],
        ],
        width,
      ),
      [[], [], [], []],
      lag,
    )
  }

  /** Fits both charts into `container` (after the window was resized). */
  fit(container) {
    const width = Math.max(280, Math.floor((container.clientWidth || 900) / 2) - 16)
    this.throughput.setSize({ width, height: 170 })
    this.lag.setSize({ width, height: 170 })
  }

  /** Redraws both charts from the ticker's points (oldest first). */
  update(points, topic) {
    const x = []
    const series = { in: [], out: [], unread: [], committed: [], buffered: [] }
    for (const point of points) {
      const totals = point.topics[topic]
      x.push(Date.parse(point.at) / 1000)
      series.in.push(totals ? totals.recordsInPerSec : null)
      series.out.push(totals ? totals.recordsOutPerSec : null)
      series.unread.push(totals ? totals.unreadLag : null)
      series.committed.push(totals ? totals.committedLag : null)
      series.buffered.push(totals ? totals.bufferedRecords : null)
    }
    this.throughput.setData([x, series.in, series.out])
    this.lag.setData([x, series.unread, series.committed, series.buffered])
  }

  destroy() {
    this.throughput.destroy()
    this.lag.destroy()
  }
}
