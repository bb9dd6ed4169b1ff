// Plain-text tables for benchmark output: a header, a rule, and columns padded to fit (numbers right-aligned).
export type Cell = string | number | null | undefined;

/** Format a number of milliseconds (or any measurement) with 3 significant digits; null/undefined as '-'. */
export function fmt(x: Cell, digits = 3): string {
  if (x === null || x === undefined) return '-';
  if (typeof x === 'string') return x;
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return Math.abs(x) >= 10 ** digits || Math.abs(x) < 1e-3 ? x.toExponential(digits - 1) : x.toPrecision(digits);
}

export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => headers.map((_, i) => fmt(r[i])));
  const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] !== 'string'));
  const width = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [line(headers), line(width.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}
