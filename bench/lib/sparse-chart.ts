// The sparse benchmark's plot: for each weight shape, one grouped bar chart of the sparse kernel's speedup over
// kiln's dense Gemm, a group per sparsity and a bar per N; the charts are stacked into one SVG file.
import { barChartSvg } from './svg-chart.js';

export interface SpeedupPoint {
  readonly shape: string;
  readonly n: number;
  /** Percent. */
  readonly sparsity: number;
  /** dense ms / sparse ms; null where either failed. */
  readonly speedup: number | null;
}

/** Standalone SVG documents one under the other, as nested <svg> elements of one document. */
export function stackSvgs(documents: readonly string[]): string {
  let y = 0;
  let width = 0;
  const parts = documents.map((doc) => {
    const open = /<svg\b[^>]*\bwidth="(\d+(?:\.\d+)?)"[^>]*\bheight="(\d+(?:\.\d+)?)"[^>]*>/.exec(doc);
    if (!open) throw new Error('stackSvgs: a document has no <svg width height> root');
    const [w, h] = [Number(open[1]), Number(open[2])];
    const placed = doc.replace('<svg ', `<svg x="0" y="${y}" `);
    y += h;
    width = Math.max(width, w);
    return placed.trim();
  });
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">`, ...parts, '</svg>', ''].join('\n');
}

export function speedupChartSvg(points: readonly SpeedupPoint[], adapter: string): string {
  const shapes = [...new Set(points.map((p) => p.shape))];
  const ns = [...new Set(points.map((p) => p.n))].sort((a, b) => a - b);
  return stackSvgs(
    shapes.map((shape) => {
      const mine = points.filter((p) => p.shape === shape);
      const sparsities = [...new Set(mine.map((p) => p.sparsity))].sort((a, b) => a - b);
      return barChartSvg({
        title: `kiln sparse (picked variant, Tiled-CSL f16) speedup over kiln dense Gemm, ${shape} (${adapter})`,
        yLabel: 'dense ms / sparse ms',
        series: ns.map((n) => `N=${n}`),
        groups: sparsities.map((s) => ({
          label: `${s}% zeros`,
          values: ns.map((n) => mine.find((p) => p.n === n && p.sparsity === s)?.speedup ?? null),
        })),
        width: 880,
        height: 360,
      });
    }),
  );
}
