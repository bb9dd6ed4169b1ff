// Shared by the special-values tests (special-values*.gpu.test.ts): the special values of each float storage,
// the comparator and its tolerances, and the check that a compiled graph on the adapter gives what the
// interpreter gives. The comparator is ir/tensor.ts's toleranceExcess: NaN where the interpreter has NaN (any
// payload), the same infinity, the same sign of zero under an exact comparison (atol 0), finite values within
// tolerance.
//
// Subnormals. WGSL lets an implementation flush the subnormal inputs and outputs of the operations in its
// accuracy tables to zero (WGSL spec §15.7.2, "Differences from IEEE-754"). This adapter (lavapipe) was measured
// not to: x * 1, x + 0, x * 0.5 and 1e-10 * 1e-30 keep f32 and f16 subnormals exactly, and comparisons see them
// as nonzero. So subnormals are compared strictly, with no flush-to-zero allowance (special-values.gpu.test.ts's gridTolerance even demands
// relative accuracy where all operands are subnormal); an adapter that flushes fails here, by design.
//
// What no reference can predict is kept out of the generated cases rather than out of the comparison: a sum
// (MatMul, Gemm, Conv, ReduceSum/Mean, AveragePool) whose f32 value depends on the summation order, because its
// partial sums may overflow where float64's do not (3e38 + 3e38 - 3e38 is inf or 3e38) or its large terms cancel
// (1e20 - 1e20 - 89 is -89 or 0). The interpreter sums exactly in float64; kernels sum in f32 in an order of
// their choosing. Such cases are skipped (fc.pre, counted in the log), and the models are checked to hold none
// (unpredictableSums).
import { type Attrs, type Graph, type Tensor, evaluateAll, evaluateNode, isFloat, makeTensor, numel, printGraph, toleranceExcess } from '../../ir/index.js';
import { runGraphOnGpu } from './graph-harness.js';

export const F32_MAX = 3.4028234663852886e38;
const F16_MAX = 65504;
const BF16_MAX = 3.3895313892515355e38;

/**
 * Per float storage: NaN, ±inf, ±0, the smallest subnormal, the largest subnormal (just below the smallest
 * normal), the smallest normal, the largest finite value, values whose square overflows, values whose exp
 * overflows (and whose exp underflows into the subnormals), and a few ordinary values.
 */
export const SPECIALS: Readonly<Record<'f32' | 'f16' | 'bf16', readonly number[]>> = {
  f32: [NaN, Infinity, -Infinity, 0, -0, 2 ** -149, -(2 ** -149), 2 ** -126 - 2 ** -149, -(2 ** -126 - 2 ** -149), 2 ** -126, F32_MAX, -F32_MAX, 1e20, -1e20, 89, -89, 100, -104, 1, -1, 0.5, -2.5],
  f16: [NaN, Infinity, -Infinity, 0, -0, 2 ** -24, -(2 ** -24), 2 ** -14 - 2 ** -24, -(2 ** -14 - 2 ** -24), 2 ** -14, F16_MAX, -F16_MAX, 300, -300, 12, -12, -17, 1, -1, 0.5, -2.5],
  bf16: [NaN, Infinity, -Infinity, 0, -0, 2 ** -133, -(2 ** -133), 2 ** -126 - 2 ** -133, -(2 ** -126 - 2 ** -133), 2 ** -126, BF16_MAX, -BF16_MAX, 1e20, -1e20, 89, -89, 100, -104, 1, -1, 0.5, -2.5],
};

/** Exact comparison: bit-identical values, NaN for NaN, and the sign of every zero. */
export const EXACT = { rtol: 0, atol: 0 } as const;
export const TOL: Readonly<Record<'f32' | 'f16' | 'bf16', { rtol: number; atol: number }>> = {
  f32: { rtol: 1e-5, atol: 1e-6 },
  f16: { rtol: 1e-3, atol: 6e-8 },
  bf16: { rtol: 8e-3, atol: 1e-6 },
};

export const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);

export const fmt = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

/** Whether element i of got passes toleranceExcess against element i of want (the comparator, one element). */
export function elementOk(got: Tensor, want: Tensor, i: number, tol: { rtol: number; atol: number }): boolean {
  const one = (t: Tensor): Tensor => makeTensor(t.dtype, [], [t.data[i]!]);
  return toleranceExcess(one(got), one(want), tol.rtol, tol.atol) <= 0;
}

/** The first elements that fail the comparison, printed with zero signs. */
function mismatches(got: Tensor, want: Tensor, tol: { rtol: number; atol: number }, limit = 8): string {
  const lines: string[] = [];
  for (let i = 0; i < want.data.length && lines.length < limit; i++)
    if (!elementOk(got, want, i, tol)) lines.push(`  [${i}] got ${fmt(got.data[i]!)}, want ${fmt(want.data[i]!)}`);
  return lines.join('\n');
}

/**
 * Ops whose result is one of their operands, its negation or magnitude, an integral value or a comparison, or a
 * single exact rounding of an exact result: bit-exact in every storage (Mul of two 16-bit floats is exact in f32,
 * so rounding it to the storage is the one rounding the interpreter does too).
 */
export const EXACT_ANY = new Set(['Neg', 'Abs', 'Relu', 'Clip', 'Min', 'Max', 'Where', 'Floor', 'Ceil', 'Round', 'Cast', 'BitCast', 'Equal', 'Less', 'Greater', 'Mul']);
/** In f32 also the correctly rounded Add and Sub (for 16-bit storage they round twice, to f32 and then to 16 bits). */
export const EXACT_F32 = new Set([...EXACT_ANY, 'Add', 'Sub']);

/** Ops whose kernels accumulate in f32 where the interpreter sums exactly in float64. */
const SUMS = new Set(['MatMul', 'Gemm', 'ReduceSum', 'ReduceMean', 'Conv', 'AveragePool']);
const U = 2 ** -24; // f32 unit roundoff

/** Magnitudes of the finite elements (non-finite ones as 0), in f32 whatever the storage: the kernels sum in f32. */
const finiteMagnitudes = (t: Tensor): Tensor => makeTensor('f32', t.shape, (i) => (Number.isFinite(t.data[i]!) ? Math.abs(t.data[i]!) : 0));

/**
 * The sums whose f32 value depends on the summation order beyond the tolerance, which no reference predicts.
 * B, the node applied to the magnitudes of its finite operands, bounds the partial sums. A sum is unpredictable
 *   - where its partial sums may overflow f32: B (for Gemm the accumulator before alpha and C; for the means
 *     B times the count) rounds to inf in f32 (3e38 + 3e38 - 3e38 is inf or 3e38), or
 *   - where a single rounding at the scale of its terms, u·B (u = 2^-24), already exceeds the tolerance at the
 *     interpreter's result: large terms that cancel (1e20 - 1e20 - 89 is -89 or 0 depending on the order).
 * Returns the offending nodes' outputs.
 */
export function unpredictableSums(g: Graph, env: ReadonlyMap<string, Tensor>, tolFor: (t: Tensor) => { rtol: number; atol: number }): string[] {
  const out: string[] = [];
  for (const node of g.nodes) {
    const result = env.get(node.outputs[0]!)!;
    if (!SUMS.has(node.op) || !isFloat(result.dtype)) continue; // integer sums are exact (wrapping) on both sides
    const ins = node.inputs.map((v) => (v === '' ? undefined : finiteMagnitudes(env.get(v)!)));
    const magnitude = (inputs: typeof ins, attrs: Attrs): Tensor => evaluateNode({ ...node, inputs: node.inputs.slice(0, inputs.length), attrs }, inputs)[0]!;
    let bound: Tensor;
    let partial: readonly number[];
    if (node.op === 'Gemm') {
      const abs = (k: string): number => Math.abs(Number(node.attrs[k] ?? 1));
      bound = magnitude(ins, { ...node.attrs, alpha: abs('alpha'), beta: abs('beta') });
      partial = [...magnitude(ins.slice(0, 2), { ...node.attrs, alpha: 1 }).data];
    } else {
      bound = magnitude(ins, node.attrs);
      const count = node.op === 'ReduceMean' ? numel(env.get(node.inputs[0]!)!.shape) / Math.max(1, numel(result.shape)) : 1;
      const taps = node.op === 'AveragePool' ? numel(node.attrs.kernel_shape as number[]) : 1;
      partial = [...bound.data].map((b) => b * count * taps);
    }
    const tol = tolFor(result);
    const bad = bound.data.some((b, i) => {
      if (!Number.isFinite(Math.fround(partial[i]!))) return true;
      const r = result.data[i]!;
      return Number.isFinite(r) && U * b > tol.atol + tol.rtol * Math.abs(r);
    });
    if (bad) out.push(node.outputs[0]!);
  }
  return out;
}

/**
 * Values computed only by ops that round once, select, negate or move (the interpreter rounds at every op
 * boundary, so a chain of them is bit-exact in f32): compared exactly, zero signs included. Anything else
 * (transcendentals, division, sums in another order) within the usual graph tolerance.
 */
const EXACT_GRAPH_OPS = new Set([
  ...EXACT_F32,
  'Transpose', 'Reshape', 'Concat', 'Split', 'Slice', 'Unsqueeze', 'Squeeze', 'Expand', 'Gather', 'ReduceMax', 'ReduceMin', 'MaxPool', 'ArgMax',
]);
export const GRAPH_TOL = { rtol: 1e-4, atol: 1e-5 };
export const F16_GRAPH_TOL = { rtol: 2e-3, atol: 1e-3 };

/** Whether every node `value` depends on is in EXACT_GRAPH_OPS. */
export function exactlyComputed(g: Graph, value: string): boolean {
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const seen = new Set<string>();
  const visit = (v: string): boolean => {
    if (v === '' || seen.has(v)) return true;
    seen.add(v);
    const n = producer.get(v);
    return !n || (EXACT_GRAPH_OPS.has(n.op) && n.inputs.every(visit));
  };
  return visit(value);
}

/** Run on the adapter and compare every output with the interpreter; throws a description of the first mismatch. */
export async function expectAsInterpreter(
  g: Graph,
  inputs: Readonly<Record<string, Tensor>>,
  tolFor: (output: string, t: Tensor) => { rtol: number; atol: number },
  opts: { shaderF16?: boolean } = {},
): Promise<void> {
  const env = evaluateAll(g, inputs);
  const got = await runGraphOnGpu(g, inputs, opts);
  for (const name of g.outputs) {
    const want = env.get(name)!;
    const tol = tolFor(name, want);
    if (!(toleranceExcess(got[name]!, want, tol.rtol, tol.atol) <= 0)) {
      const shown = Object.entries(inputs).map(([k, t]) => `  %${k} = [${[...t.data].slice(0, 64).map(fmt).join(', ')}]`);
      throw new Error(
        `%${name} (${tol === EXACT ? 'exact' : `rtol ${tol.rtol}, atol ${tol.atol}`}): GPU differs from the interpreter\n` +
          `${mismatches(got[name]!, want, tol)}\ninputs:\n${shown.join('\n')}\n${printGraph(g)}`,
      );
    }
  }
}
