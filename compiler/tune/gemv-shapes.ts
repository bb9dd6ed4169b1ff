// The GEMV weight shapes of a compiled model, read from its manifest: what `kiln tune` times candidate kernels on.
// The manifest records no tensor shapes per dispatch, but a matmul's dispatch carries enough to recover them: its
// label names the op and operands ("%y = Gemm(%x, %w)", then any fused epilogue), binding 0 is the activation
// x [rows, K] (f32), binding 1 the weight (a region of a weights buffer), the kernel's last read_write binding the
// output y [rows, M] (an elementwise epilogue keeps its shape), and cost.flops = 2 * rows * M * K (the matmul's).
// So rows = 2 * |x| * |y| / (16 * flops), and K and M follow from |x| and |y|. A dispatch whose numbers do not fit
// that (a split kernel, f16 activations, a sparse or packed weight) is not a plain GEMV and is left out, as are
// matmuls over more than MAX_GEMV_ROWS rows (not GEMVs: the tiled kernel reads them).
import { MAX_GEMV_ROWS } from '../../passes/layout/arrangement.js';
import type { Dispatch, Manifest } from '../../runtime/plan.js';

export interface GemvCase {
  /** MatMul reads W [K, M]; Gemm (transB, as Linear layers export) reads W [M, K]. */
  readonly op: 'MatMul' | 'Gemm';
  readonly m: number;
  readonly k: number;
  readonly rows: number;
  /** Bytes per stored weight element: 4 (f32) or 2 (f16). */
  readonly elemBytes: 4 | 2;
  /** Dispatches of this shape in the model, over every entry point: the weight of its time in the choice. */
  readonly uses: number;
  /** The first weight of this shape, for the table. */
  readonly weight: string;
}

/** The label's first node (a fused epilogue follows after "; "): the matmul, its activation and weight. */
const LABEL = /^%\S+ = (MatMul|Gemm)\(%([^,)]+), %([^,)]+)(?:, %[^,)]+)?\)(?:; |$)/;
const isInt = (n: number): boolean => Number.isInteger(n) && n > 0;

/** One dispatch's GEMV shape, or undefined when it is not a plain GEMV over a dense weight. */
function gemvOf(m: Manifest, d: Dispatch, kernelText: (file: string) => string | undefined): Omit<GemvCase, 'uses'> | undefined {
  const match = LABEL.exec(d.label);
  // Not a matmul, or a kernel choice the label shows ("[tiled-csl direct]": a sparse weight).
  if (!match || d.label.includes('[')) return undefined;
  const kernel = m.kernels[d.kernel];
  const x = d.bindings[0];
  const w = d.bindings[1];
  const outAt = kernel?.bindings.map((b) => b.access).lastIndexOf('read_write') ?? -1;
  const y = d.bindings[outAt];
  const flops = d.cost?.flops ?? 0;
  if (!kernel || !x || !w || outAt < 2 || !y || !flops || m.buffers[w.buffer]?.kind !== 'weights' || m.buffers[x.buffer]?.kind === 'weights') return undefined;
  // f16 activations (an --f16 artifact) would halve |x| and |y| and fool the arithmetic below.
  if (m.requires.features.includes('shader-f16') && /@binding\(0\)[^\n]*\bf16\b/.test(kernelText(kernel.file) ?? 'f16')) return undefined;
  const rows = (2 * x.bytes * y.bytes) / (16 * flops);
  const k = x.bytes / (4 * rows);
  const mOut = y.bytes / (4 * rows);
  if (!isInt(rows) || rows > MAX_GEMV_ROWS || !isInt(k) || !isInt(mOut) || 2 * rows * mOut * k !== flops) return undefined;
  const elemBytes = w.bytes >= 4 * mOut * k ? 4 : w.bytes >= 2 * mOut * k ? 2 : undefined;
  if (!elemBytes) return undefined;
  return { op: match[1] as 'MatMul' | 'Gemm', m: mOut, k, rows, elemBytes, weight: match[3]! };
}

/** The distinct GEMV shapes of every entry point, largest weight first. */
export function gemvCases(m: Manifest, kernelText: (file: string) => string | undefined): GemvCase[] {
  const cases = new Map<string, GemvCase>();
  for (const ep of Object.values(m.entryPoints)) {
    // A matmul lowered to several dispatches (split K plus a reduction) is not one GEMV kernel: leave it out.
    const perLabel = new Map<string, number>();
    for (const d of ep.dispatches) perLabel.set(d.label, (perLabel.get(d.label) ?? 0) + 1);
    for (const d of ep.dispatches) {
      if (perLabel.get(d.label) !== 1) continue;
      const g = gemvOf(m, d, kernelText);
      if (!g) continue;
      const key = `${g.op} ${g.m}x${g.k} rows ${g.rows} e${g.elemBytes}`;
      const seen = cases.get(key);
      cases.set(key, seen ? { ...seen, uses: seen.uses + 1 } : { ...g, uses: 1 });
    }
  }
  return [...cases.values()].sort((a, b) => b.m * b.k * b.elemBytes - a.m * a.k * a.elemBytes || b.uses - a.uses);
}
