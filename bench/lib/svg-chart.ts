// A small grouped bar chart as a standalone SVG document (no dependencies, viewable in any browser): one group
// of bars per category (a model), one bar per series (e.g. measured vs ceiling), a y axis with round ticks, the
// value above each bar, and a legend. A missing value (null: the measurement failed) is drawn as "n/a".
export interface BarGroup {
  readonly label: string;
  /** One value per series, in the chart's series order; null where there is none. */
  readonly values: readonly (number | null)[];
}

export interface BarChart {
  readonly title: string;
  /** The y axis' label (the unit). */
  readonly yLabel: string;
  readonly series: readonly string[];
  readonly groups: readonly BarGroup[];
  readonly width?: number;
  readonly height?: number;
}

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];
const MARGIN = { top: 48, right: 16, bottom: 56, left: 64 };

export const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** A round tick step (1, 2 or 5 times a power of ten) giving about `count` ticks up to `max`. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/** A value as a short label: at most three significant digits, no trailing zeros (0.2, 0.398, 123). */
export function shortNumber(x: number): string {
  return String(Number(x.toPrecision(3)));
}

export function barChartSvg(chart: BarChart): string {
  const width = chart.width ?? 640;
  const height = chart.height ?? 360;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const values = chart.groups.flatMap((g) => g.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const step = niceStep(Math.max(0, ...values));
  const top = Math.max(step, Math.ceil(Math.max(0, ...values) / step) * step);
  const y = (v: number): number => MARGIN.top + plotH - (Math.max(0, v) / top) * plotH;
  const out: string[] = [];
  const text = (x: number, yy: number, s: string, attrs = ''): void => {
    out.push(`<text x="${x.toFixed(1)}" y="${yy.toFixed(1)}" ${attrs}>${escapeXml(s)}</text>`);
  };

  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  text(width / 2, 22, chart.title, 'text-anchor="middle" font-size="15" font-weight="bold"');
  // Grid lines and tick labels.
  for (let k = 0; k * step <= top + step / 2; k++) {
    const v = k * step;
    out.push(`<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    text(MARGIN.left - 6, y(v) + 4, shortNumber(v), 'text-anchor="end" font-size="11"');
  }
  text(16, MARGIN.top + plotH / 2, chart.yLabel, `text-anchor="middle" font-size="12" transform="rotate(-90 16 ${(MARGIN.top + plotH / 2).toFixed(1)})"`);

  // Bars: each group takes an equal slot; bars fill 80% of it.
  const slot = plotW / Math.max(1, chart.groups.length);
  const barW = (slot * 0.8) / Math.max(1, chart.series.length);
  chart.groups.forEach((g, gi) => {
    const x0 = MARGIN.left + gi * slot + slot * 0.1;
    chart.series.forEach((_, si) => {
      const v = g.values[si] ?? null;
      const x = x0 + si * barW;
      if (v === null || !Number.isFinite(v)) {
        text(x + barW / 2, y(0) - 4, 'n/a', 'text-anchor="middle" font-size="11" fill="#888"');
        return;
      }
      out.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`);
      text(x + barW / 2, y(v) - 4, shortNumber(v), 'text-anchor="middle" font-size="11"');
    });
    text(MARGIN.left + gi * slot + slot / 2, y(0) + 18, g.label, 'text-anchor="middle" font-size="12"');
  });
  out.push(`<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);

  // Legend along the bottom.
  let lx = MARGIN.left;
  chart.series.forEach((s, si) => {
    out.push(`<rect x="${lx}" y="${height - 22}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/>`);
    text(lx + 16, height - 12, s, 'font-size="12"');
    lx += 28 + s.length * 7;
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    ...out.map((l) => `  ${l}`),
    '</svg>',
    '',
  ].join('\n');
}
