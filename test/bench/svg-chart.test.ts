// bench/lib/svg-chart.ts: the chart is a well-formed standalone SVG whose bars scale with their values, labels
// are escaped, missing values show as "n/a", and the axis ticks are round numbers covering the largest value.
import { describe, expect, it } from 'vitest';
import { barChartSvg, escapeXml, niceStep, shortNumber } from '../../bench/lib/svg-chart.js';

/** Heights of the bars (rects with a fill other than white and not the 12 px legend swatches), in order. */
function barHeights(svg: string): number[] {
  return [...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill="#/g)].map((m) => Number(m[1]));
}

describe('svg bar chart', () => {
  const chart = {
    title: 'decode <GB/s> & roofline',
    yLabel: 'GB/s',
    series: ['decode', 'roofline'],
    groups: [
      { label: 'gpt2', values: [1, 4] },
      { label: 'llama', values: [2, null] },
    ],
  };

  it('is one standalone svg document with escaped text', () => {
    const svg = barChartSvg(chart);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('decode &lt;GB/s&gt; &amp; roofline');
    expect(svg).not.toContain('<GB/s>');
  });

  it('draws bars proportional to their values and n/a for a missing one', () => {
    const svg = barChartSvg(chart);
    const heights = barHeights(svg).filter((h) => h !== 12); // the legend swatches are 12 px squares
    expect(heights).toHaveLength(3);
    const [gpt2Decode, gpt2Roofline, llamaDecode] = heights as [number, number, number];
    expect(gpt2Roofline / gpt2Decode).toBeCloseTo(4, 1);
    expect(llamaDecode / gpt2Decode).toBeCloseTo(2, 1);
    expect(svg).toContain('>n/a</text>');
    for (const label of ['gpt2', 'llama', 'decode', 'roofline']) expect(svg).toContain(`>${label}</text>`);
  });

  it('draws an empty chart when nothing was measured', () => {
    const svg = barChartSvg({ ...chart, groups: [{ label: 'x', values: [null, null] }] });
    expect(barHeights(svg).filter((h) => h !== 12)).toHaveLength(0);
    expect(svg.match(/>n\/a</g)).toHaveLength(2);
  });

  it('picks round tick steps', () => {
    expect(niceStep(10)).toBe(2);
    expect(niceStep(1.44)).toBeCloseTo(0.5);
    expect(niceStep(0.7)).toBeCloseTo(0.2);
    expect(niceStep(0)).toBe(1);
    expect(niceStep(NaN)).toBe(1);
  });

  it('labels values with three significant digits', () => {
    expect(shortNumber(1.4413)).toBe('1.44');
    expect(shortNumber(123.4)).toBe('123');
    expect(shortNumber(0.0123)).toBe('0.0123');
    expect(shortNumber(0)).toBe('0');
    expect(escapeXml(`a"b'c`)).toBe('a&quot;b&apos;c');
  });
});
