// What `kiln tune` prints: one row per timed candidate (ms, GB/s of weights, its fraction of the read ceiling), each
// candidate's total over the timed shapes, the device rates, and the choice.
import { describeCandidate } from './candidates.js';
import { TIMED_WEIGHT_BYTES, type TuneResult } from './tune.js';

const table = (rows: readonly (readonly string[])[]): string[] => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
};

export function tuneReport(r: TuneResult, runs: number): string[] {
  const ceilingGBps = r.ceiling.bytesPerMs / 1e6;
  const lines = [`read ceiling ${ceilingGBps.toFixed(2)} GB/s (${r.ceiling.layout} reads); dispatch ${r.dispatch.dispatchMs.toFixed(3)} ms; launch ${r.dispatch.launchMs.toFixed(4)} ms; f32 GEMM ${(r.gemm.flopsPerMs / 1e6).toFixed(2)} Gflop/s (${r.gemm.n}^3)`];
  if (!r.timed.length) return [...lines, 'no GEMV weights (MatMul/Gemm over at most 8 activation rows): kernel choices left to the compiler'];
  const gb = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));
  lines.push('', `GEMV candidates, median of up to ${runs} runs each (GB/s: the timed weight's bytes over its time; weights over ${TIMED_WEIGHT_BYTES / 2 ** 20} MiB are timed with M cut):`);
  const rows = [['weight', 'shape', 'rows', 'uses', 'candidate', 'ms', 'GB/s', 'of ceiling']];
  for (const t of r.times) {
    const s = t.shape;
    const gbps = (t.timed.m * s.k * s.elemBytes) / (t.ms * 1e6);
    const first = t === r.times.find((u) => u.shape === s);
    rows.push([
      first ? s.weight : '',
      first ? `${s.op} ${s.m} x ${s.k} ${s.elemBytes === 4 ? 'f32' : 'f16'}${t.timed.m < s.m ? ` (timed: M ${t.timed.m})` : ''}` : '',
      first ? String(s.rows) : '',
      first ? String(s.uses) : '',
      describeCandidate(t.candidate) + (t.candidate.panel && !t.arranged ? ' (row-major kept)' : ''),
      t.ms.toFixed(3),
      gb(gbps),
      `${((100 * gbps) / ceilingGBps).toFixed(1)} %`,
    ]);
  }
  lines.push(...table(rows));
  lines.push('', 'total over the timed shapes (uses x ms; a shape timed with M cut, scaled back by M):', ...table([['candidate', 'ms'], ...r.totals.map((t) => [describeCandidate(t.candidate), t.ms.toFixed(3)])]));
  if (r.untimed) lines.push(`(${r.untimed} smaller GEMV shape(s) not timed)`);
  if (!r.tuning) return [...lines, '', 'choice: none (the traffic model kept every weight row-major under every candidate; kernel choices left to the compiler)'];
  const rowMajor = r.totals[0]!.ms;
  const chosen = r.totals.find((t) => t.candidate.panel === r.tuning!.gemvPanel && (!t.candidate.panel || t.candidate.unroll === r.tuning!.gemvUnroll))!;
  lines.push('', `choice: gemvPanel ${r.tuning!.gemvPanel}, gemvUnroll ${r.tuning!.gemvUnroll} (${chosen.ms.toFixed(3)} ms; row-major ${rowMajor.toFixed(3)} ms, ${(rowMajor / chosen.ms).toFixed(2)}x)`);
  return lines;
}
