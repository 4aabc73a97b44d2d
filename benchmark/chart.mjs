// The benchmark table as an SVG bar chart (run.mjs --svg FILE): per workload, one bar per
// server, its server CPU per operation against the native server's (1.00 = as efficient as
// native; higher is better), or its rate ratio where no CPU was measured. Plain SVG text.

const COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
]
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')

/**
 * @param {{ title: string, bars: { label: string, value: number }[] }[]} groups
 * @param {string} caption
 * @returns {string}
 */
export function barChart(groups, caption) {
  const labels = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.label)))]
  const color = (label) => COLORS[labels.indexOf(label) % COLORS.length]
  const barH = 14
  const gap = 10
  const left = 190
  const width = 760
  const plotW = width - left - 60
  const max = Math.max(1.1, ...groups.flatMap((g) => g.bars.map((b) => b.value)))
  const x = (v) => left + (v / max) * plotW
  let y = 50
  const parts = []
  for (const g of groups) {
    parts.push(`<text x="10" y="${y + 11}" font-weight="bold">${esc(g.title)}</text>`)
    y += 18
    for (const b of g.bars) {
      parts.push(
        `<text x="${left - 6}" y="${y + 11}" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${left}" y="${y}" width="${(x(b.value) - left).toFixed(1)}" height="${barH}" fill="${color(b.label)}"/>`,
        `<text x="${(x(b.value) + 4).toFixed(1)}" y="${y + 11}">${b.value.toFixed(2)}</text>`,
      )
      y += barH + 3
    }
    y += gap
  }
  const one = x(1).toFixed(1)
  parts.push(
    `<line x1="${one}" y1="40" x2="${one}" y2="${y}" stroke="#333" stroke-dasharray="4 3"/>`,
    `<text x="${one}" y="36" text-anchor="middle">native = 1.00</text>`,
  )
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(caption)}</title>`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="10" y="20" font-size="14">${esc(caption)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}
