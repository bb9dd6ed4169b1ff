// What `npm run bench:sparse` prints from its measurements: the table, the correctness summary, the acceptance
// lines, the cost-model profile fitted to the device, the chart file and, last, the one-line JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DeviceProfile, MatmulShape } from '../../passes/sparse/cost-model.js';
import { PROFILES } from '../../passes/sparse/profiles.js';
import type { TiledCslParams } from '../../ir/index.js';
import type { Bandwidth } from './bandwidth.js';
import { speedupChartSvg } from './sparse-chart.js';
import { type FitSample, type FittedProfile, type VariantCase, agreement, fitProfile, pickedVariant, profileSource } from './sparse-fit.js';
import type { SparseVariant } from './sparse-programs.js';
import type { CaseTiming, RunPolicy } from './sparse-timing.js';
import { formatTable } from './table.js';

/** One checked output: its error relative to the output scale, and the tolerance it is held to. */
export interface Check {
  readonly what: string;
  /** Groups checks in the summary ("direct f32", "kiln dense f16", ...). */
  readonly kind: string;
  readonly error: number;
  readonly tolerance: number;
  /** Whether exceeding the tolerance is a problem (kiln's outputs), or only reported (ORT's). */
  readonly held: boolean;
}

export interface WeightShape {
  readonly m: number;
  readonly k: number;
  readonly label: string;
}

export interface SparseResult {
  readonly shape: WeightShape;
  readonly n: number;
  /** Percent of zeros. */
  readonly sparsity: number;
  readonly nnz: number;
  /** Bytes of the encoding (items + offsets), as the cost model counts them. */
  readonly sparseBytes: number;
  /** The variant the current lavapipe profile picks. */
  readonly picked: SparseVariant;
  readonly direct: CaseTiming | null;
  readonly scatter: CaseTiming | null;
  /** kiln dense and ORT for the same (shape, N), measured in the same rounds. */
  readonly dense: CaseTiming | null;
  readonly ort: CaseTiming | null;
}

export interface BenchRun {
  readonly adapterInfo: string;
  readonly shapes: readonly WeightShape[];
  readonly tileParams: TiledCslParams;
  readonly policy: RunPolicy;
  readonly bandwidth: readonly { readonly when: string; readonly result: Bandwidth }[];
  /** The one-tile case that gives the model's dispatchMs. */
  readonly smallest: CaseTiming | null;
  readonly results: readonly SparseResult[];
  readonly checks: readonly Check[];
  readonly problems: readonly string[];
  readonly svgPath: string;
  readonly elapsedS: () => number;
}

/** a / b, or null where either is missing (a speedup when a is the slower engine's ms). */
export const ratio = (a: number | null, b: number | null): number | null => (a !== null && b !== null && b > 0 ? a / b : null);
export const fmtMs = (t: CaseTiming | null | undefined): string => (t ? `${t.medianMs.toFixed(1)} ms (${t.runs} runs)` : 'failed');
const fx = (v: number | null): string => (v === null ? '-' : `${v.toFixed(2)}x`);
const ms = (t: CaseTiming | null | undefined): number | null => t?.medianMs ?? null;

interface Row {
  readonly r: SparseResult;
  readonly costed: MatmulShape;
  readonly sparseMs: number | null;
  readonly directMs: number | null;
  readonly scatterMs: number | null;
  readonly denseMs: number | null;
  readonly ortMs: number | null;
  readonly faster: SparseVariant | null;
  readonly fewestRuns: number | null;
}

function toRow(r: SparseResult): Row {
  const directMs = ms(r.direct);
  const scatterMs = ms(r.scatter);
  const runs = [r.direct, r.scatter, r.dense, r.ort].filter((t): t is CaseTiming => !!t).map((t) => t.runs);
  return {
    r,
    costed: { m: r.shape.m, k: r.shape.k, n: r.n, nnz: r.nnz, denseElementBytes: 2, sparseBytes: r.sparseBytes },
    sparseMs: ms(r[r.picked]),
    directMs,
    scatterMs,
    denseMs: ms(r.dense),
    ortMs: ms(r.ort),
    faster: directMs === null || scatterMs === null ? null : directMs <= scatterMs ? 'direct' : 'scatter',
    fewestRuns: runs.length ? Math.min(...runs) : null,
  };
}

/** Print everything; the last line is the JSON object. */
export function printReport(run: BenchRun): void {
  const rows = run.results.map(toRow);
  const gbps = run.bandwidth.length ? Math.max(...run.bandwidth.map((b) => b.result.gbps)) : null;
  const fitted = gbps === null || run.smallest === null ? null : fitCostModel(run, rows, gbps, run.smallest.medianMs);
  const current = PROFILES.lavapipe!;
  const { policy } = run;

  console.log(`adapter: ${run.adapterInfo}`);
  const probes = run.bandwidth.map((b) => `${b.result.gbps.toFixed(2)} GB/s (${b.result.layout}, ${b.when})`);
  const probeMiB = run.bandwidth[0] ? (run.bandwidth[0].result.bytes / 2 ** 20).toFixed(0) : '-';
  console.log(`read bandwidth (bench/lib/bandwidth.ts, ${probeMiB} MiB): ${probes.join(', ') || 'not measured'}; the fit uses the higher`);
  console.log(
    `weights: f16, normal(0, 1/sqrt(K)), pruned by magnitude; Tiled-CSL ${JSON.stringify(run.tileParams)}; x f16 uniform [-1, 1).\n` +
      `ms = median of ${policy.runs} timed runs (upload x, run, read back y) after ${Math.max(2, policy.warmup)} warm-ups; a case whose second run takes over ` +
      `${policy.slowMs} ms gets 1 warm-up and ${policy.slowRuns} timed runs (${policy.verySlowRuns} over ${policy.verySlowMs} ms), the second run being the first of them.\n` +
      `pick = the sparse variant the cost model picks with the current '${current.name}' profile (${current.source}); sparse ms is that variant's; ` +
      `faster = the measured faster variant; fit pick = the pick with the profile fitted below.\n`,
  );
  console.log(
    formatTable(
      ['shape', 'N', 'zeros %', 'pick', 'faster', 'fit pick', 'sparse ms', 'direct ms', 'scatter ms', 'dense ms', 'ORT ms', 'x vs dense', 'x vs ORT', 'runs'],
      rows.map((row) => [
        row.r.shape.label,
        String(row.r.n),
        String(row.r.sparsity),
        row.r.picked,
        row.faster ?? '-',
        fitted ? pickedVariant(fitted.profile, row.costed) : '-',
        row.sparseMs,
        row.directMs,
        row.scatterMs,
        row.denseMs,
        row.ortMs,
        ratio(row.denseMs, row.sparseMs),
        ratio(row.ortMs, row.sparseMs),
        String(row.fewestRuns ?? '-'),
      ]),
    ),
  );
  const reduced = rows.filter((row) => row.fewestRuns !== null && row.fewestRuns < policy.runs).length;
  if (reduced) console.log(`(runs: the fewest timed runs among the row's four timings; ${reduced} rows include a slow case timed fewer than ${policy.runs} times)`);
  if (rows.length && rows.every((row) => row.ortMs === null)) console.log('ORT WebGPU: no timings (see problems: the session failed or needed CPU fallback)');

  printCorrectness(run.checks);
  printAcceptance(run.shapes, rows);
  if (fitted) printFit(run, fitted, rows);

  mkdirSync(dirname(run.svgPath), { recursive: true });
  const adapter = run.adapterInfo.split(' / ')[2] ?? run.adapterInfo;
  const points = rows.map((row) => ({ shape: row.r.shape.label, n: row.r.n, sparsity: row.r.sparsity, speedup: ratio(row.denseMs, row.sparseMs) }));
  writeFileSync(run.svgPath, speedupChartSvg(points, adapter));

  if (run.problems.length) console.log(`\nproblems:\n${run.problems.map((p) => `  ${p}`).join('\n')}`);
  console.log(`\nchart: ${run.svgPath}`);
  console.log(`total time: ${run.elapsedS().toFixed(0)} s`);
  const round = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(4)));
  const json = rows.map((row) => ({
    m: row.r.shape.m,
    k: row.r.shape.k,
    n: row.r.n,
    sparsity: row.r.sparsity / 100, // a fraction of zeros: 0.8 = 80 %
    sparseMs: round(row.sparseMs),
    denseMs: round(row.denseMs),
    ortMs: round(row.ortMs),
  }));
  console.log(JSON.stringify({ rows: json }));
}

/** Fit the cost model to every sparse timing and each (shape, N)'s dense timing (once: rows repeat it). */
function fitCostModel(run: BenchRun, rows: readonly Row[], gbps: number, dispatchMs: number): FittedProfile {
  const samples: FitSample[] = [];
  const denseSeen = new Set<string>();
  for (const row of rows) {
    if (row.directMs !== null) samples.push({ kernel: 'direct', shape: row.costed, ms: row.directMs });
    if (row.scatterMs !== null) samples.push({ kernel: 'scatter', shape: row.costed, ms: row.scatterMs });
    const key = `${row.r.shape.label} ${row.r.n}`;
    if (row.denseMs === null || denseSeen.has(key)) continue;
    denseSeen.add(key);
    samples.push({ kernel: 'dense', shape: { ...row.costed, nnz: row.costed.m * row.costed.k, sparseBytes: 0 }, ms: row.denseMs });
  }
  const source = `npm run bench:sparse on ${run.adapterInfo.split(' / ').slice(-1)[0]}, ${new Date().toISOString().slice(0, 10)}`;
  return fitProfile(samples, gbps * 1e6, dispatchMs, 'lavapipe', source);
}

function printFit(run: BenchRun, fitted: FittedProfile, rows: readonly Row[]): void {
  console.log(`\nfitted cost-model profile (paste into passes/sparse/profiles.ts PROFILES):\n${profileSource(fitted.profile)}`);
  console.log(
    `  bytesPerMs: the read-bandwidth probe (the higher); dispatchMs: the smallest case, a 64x64 sparse Gemm at N=1 (${fmtMs(run.smallest)}); ` +
      `rates per kernel: macs / (ms - dispatchMs), dense ${fitted.basis.dense}, direct ${fitted.basis.direct}, scatter ${fitted.basis.scatter}`,
  );
  const cases: VariantCase[] = rows.flatMap((row) =>
    row.directMs !== null && row.scatterMs !== null ? [{ shape: row.costed, directMs: row.directMs, scatterMs: row.scatterMs, denseMs: row.denseMs }] : [],
  );
  const show = (p: DeviceProfile, what: string): void => {
    const a = agreement(p, cases);
    console.log(
      `  ${what}: variant pick = measured faster variant in ${a.variant.matches}/${a.variant.total} cases; ` +
        `its dense-or-sparse call agrees with the measurements in ${a.sparseOrDense.matches}/${a.sparseOrDense.total}`,
    );
  };
  show(fitted.profile, 'fitted profile');
  show(PROFILES.lavapipe!, `current '${PROFILES.lavapipe!.name}' profile`);
}

function printCorrectness(checks: readonly Check[]): void {
  console.log('\ncorrectness: max|got - ref| / max|ref| against float64 x . A^T of the f16 values');
  const groups = new Map<string, Check[]>();
  for (const c of checks) groups.set(c.kind, [...(groups.get(c.kind) ?? []), c]);
  for (const [kind, cs] of groups) {
    const worst = Math.max(...cs.map((c) => c.error));
    const over = cs.filter((c) => !(c.error <= c.tolerance)).length;
    const verdict = over ? `${over} over` : 'ok';
    const tolerance = cs[0]!.tolerance.toExponential(2);
    console.log(`  ${kind.padEnd(18)} worst ${worst.toExponential(2)} over ${cs.length} cases, tolerance ${tolerance}: ${cs[0]!.held ? verdict : `${verdict} (reported only)`}`);
  }
  console.log(
    '  f16 outputs are held to one f16 ulp of the largest output (2^-10): rounding y to f16 alone moves it by up to 2^-11 of max|ref|, above 1e-4.\n' +
      "  f32 outputs (x in f32, same f16 weights; N <= 16) are held to 1e-4. ORT's f16 MatMul error, far above its output rounding, is consistent with " +
      'accumulating in f16; it is reported, not held.',
  );
}

/** The bar the sparse kernels must clear: the picked variant against kiln dense at N <= 16, >= 2x at 80 % zeros and >= 3x at 90 %. */
function printAcceptance(shapes: readonly WeightShape[], rows: readonly Row[]): void {
  console.log('\nacceptance (sparse = picked variant vs kiln dense; N <= 16):');
  for (const { label } of shapes)
    for (const [sparsity, need] of [
      [80, 2],
      [90, 3],
    ] as const) {
      const mine = rows.filter((row) => row.r.shape.label === label && row.r.sparsity === sparsity && row.r.n <= 16);
      if (!mine.length) continue;
      const speedups = mine.map((row) => ratio(row.denseMs, row.sparseMs));
      const faster = mine.map((row) => ratio(row.denseMs, row.directMs !== null && row.scatterMs !== null ? Math.min(row.directMs, row.scatterMs) : row.sparseMs));
      const worst = speedups.some((v) => v === null) ? null : Math.min(...(speedups as number[]));
      const verdict = worst === null ? 'NO DATA' : worst >= need ? 'PASS' : 'FAIL';
      console.log(
        `  ${label} ${sparsity}% zeros: ${mine.map((row, i) => `N=${row.r.n} ${fx(speedups[i]!)}`).join(', ')}; need >= ${need}x: ${verdict}` +
          (faster.some((f, i) => f !== speedups[i]) ? ` (measured faster variant: ${faster.map(fx).join(', ')})` : ''),
      );
    }
}
