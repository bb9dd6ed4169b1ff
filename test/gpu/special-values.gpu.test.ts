// Numerics at the edges: NaN, ±inf, -0, subnormals, the largest finite value and values whose square or exp
// overflows, through kernels on the adapter, against the interpreter. The comparator is ir/tensor.ts's
// toleranceExcess: NaN where the interpreter has NaN (any payload), the same infinity, the same sign of zero
// under an exact comparison (atol 0), finite values within tolerance. Three parts:
//   1. every float elementwise op on every pair (triple, for Min/Max/Where) of special values, in each float
//      storage the elementwise tests use (f32, f16 as array<f16> and packed two per u32, bf16);
//   2. fast-check properties: random graphs from arbGraphCase (the pass tests' op menu: elementwise ops, MatMul,
//      Gemm, Softmax, ReduceSum/Mean/Max, movement) with f32 inputs drawn mostly from the special values,
//      compiled and run through the runtime; and single ops the menu lacks (MaxPool, AveragePool, Conv,
//      ReduceMin, ArgMax, LogSoftmax; reductions, Softmax and MatMul again) in f32 and f16 storage;
//   3. mnist-8 and tiny-distilbert-sst2 with special values planted in their float inputs.
//
// Subnormals. WGSL lets an implementation flush the subnormal inputs and outputs of the operations in its
// accuracy tables to zero (WGSL spec §15.7.2, "Differences from IEEE-754"). This adapter (lavapipe) was measured
// not to: x * 1, x + 0, x * 0.5 and 1e-10 * 1e-30 keep f32 and f16 subnormals exactly, and comparisons see them
// as nonzero. So subnormals are compared strictly, with no flush-to-zero allowance (gridTolerance even demands
// relative accuracy where all operands are subnormal); an adapter that flushes fails here, by design.
//
// What no reference can predict is kept out of the generated cases rather than out of the comparison: a sum
// (MatMul, Gemm, Conv, ReduceSum/Mean, AveragePool) whose f32 value depends on the summation order, because its
// partial sums may overflow where float64's do not (3e38 + 3e38 - 3e38 is inf or 3e38) or its large terms cancel
// (1e20 - 1e20 - 89 is -89 or 0). The interpreter sums exactly in float64; kernels sum in f32 in an order of
// their choosing. Such cases are skipped (fc.pre, counted in the log), and the models are checked to hold none
// (unpredictableSums).
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileKernel } from '../../compiler/kernel-spec.js';
import { elementwise, elementwiseSpec } from '../../compiler/kernels/elementwise.js';
import {
  type Attrs,
  type DType,
  type Graph,
  GraphBuilder,
  type Tensor,
  evaluateAll,
  evaluateNode,
  importOnnx,
  makeTensor,
  isFloat,
  numel,
  printGraph,
  readTensorProtoFile,
  tensorType,
  toleranceExcess,
  updateGraph,
} from '../../ir/index.js';
import { ELEMENTWISE_OPS } from '../../ir/ops/elementwise-table.js';
import { arbGraphCase } from '../arbitraries.js';
import { haveShared, sharedDir } from '../shared.js';
import { oracle } from './data.js';
import { runGraphOnGpu } from './graph-harness.js';
import { runKernel, testGpu } from './harness.js';

const F32_MAX = 3.4028234663852886e38;
const F16_MAX = 65504;
const BF16_MAX = 3.3895313892515355e38;

/**
 * Per float storage: NaN, ±inf, ±0, the smallest subnormal, the largest subnormal (just below the smallest
 * normal), the smallest normal, the largest finite value, values whose square overflows, values whose exp
 * overflows (and whose exp underflows into the subnormals), and a few ordinary values.
 */
const SPECIALS: Readonly<Record<'f32' | 'f16' | 'bf16', readonly number[]>> = {
  f32: [NaN, Infinity, -Infinity, 0, -0, 2 ** -149, -(2 ** -149), 2 ** -126 - 2 ** -149, -(2 ** -126 - 2 ** -149), 2 ** -126, F32_MAX, -F32_MAX, 1e20, -1e20, 89, -89, 100, -104, 1, -1, 0.5, -2.5],
  f16: [NaN, Infinity, -Infinity, 0, -0, 2 ** -24, -(2 ** -24), 2 ** -14 - 2 ** -24, -(2 ** -14 - 2 ** -24), 2 ** -14, F16_MAX, -F16_MAX, 300, -300, 12, -12, -17, 1, -1, 0.5, -2.5],
  bf16: [NaN, Infinity, -Infinity, 0, -0, 2 ** -133, -(2 ** -133), 2 ** -126 - 2 ** -133, -(2 ** -126 - 2 ** -133), 2 ** -126, BF16_MAX, -BF16_MAX, 1e20, -1e20, 89, -89, 100, -104, 1, -1, 0.5, -2.5],
};

/** Exact comparison: bit-identical values, NaN for NaN, and the sign of every zero. */
const EXACT = { rtol: 0, atol: 0 } as const;
const TOL: Readonly<Record<'f32' | 'f16' | 'bf16', { rtol: number; atol: number }>> = {
  f32: { rtol: 1e-5, atol: 1e-6 },
  f16: { rtol: 1e-3, atol: 6e-8 },
  bf16: { rtol: 8e-3, atol: 1e-6 },
};

const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);

const fmt = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

/** Whether element i of got passes toleranceExcess against element i of want (the comparator, one element). */
function elementOk(got: Tensor, want: Tensor, i: number, tol: { rtol: number; atol: number }): boolean {
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

// ---- 1. every float elementwise op on the special values --------------------------------------------------------

type Storage = { readonly dtype: 'f32' | 'f16' | 'bf16'; readonly packed: boolean };
const STORAGES: readonly Storage[] = [
  { dtype: 'f32', packed: false },
  { dtype: 'f16', packed: false },
  { dtype: 'f16', packed: true },
  { dtype: 'bf16', packed: false },
];

/**
 * Ops whose result is one of their operands, its negation or magnitude, an integral value or a comparison, or a
 * single exact rounding of an exact result: bit-exact in every storage (Mul of two 16-bit floats is exact in f32,
 * so rounding it to the storage is the one rounding the interpreter does too).
 */
const EXACT_ANY = new Set(['Neg', 'Abs', 'Relu', 'Clip', 'Min', 'Max', 'Where', 'Floor', 'Ceil', 'Round', 'Cast', 'Equal', 'Less', 'Greater', 'Mul']);
/** In f32 also the correctly rounded Add and Sub (for 16-bit storage they round twice, to f32 and then to 16 bits). */
const EXACT_F32 = new Set([...EXACT_ANY, 'Add', 'Sub']);

const ATTR_VARIANTS: Readonly<Record<string, readonly Attrs[]>> = {
  LeakyRelu: [{}, { alpha: 0.25 }],
  Gelu: [{ approximate: 'none' }, { approximate: 'tanh' }],
  Clip: [{ min: 0 }, { min: -2.5, max: 3.7 }, { max: -100.5 }, { min: 5, max: 2 }],
};
const CAST_TO: readonly DType[] = ['f32', 'f16', 'bf16', 'i32', 'u32', 'i8', 'u4', 'i1', 'bool'];

interface GridCase {
  readonly op: string;
  readonly attrs: Attrs;
  readonly arity: number;
  readonly storage: Storage;
}

const gridCases: GridCase[] = ELEMENTWISE_OPS.filter((r) => r.kinds.includes('float')).flatMap((row) =>
  STORAGES.flatMap((storage) => {
    if (row.name === 'Cast') return CAST_TO.map((to) => ({ op: 'Cast', attrs: { to }, arity: 1, storage }));
    const arity = typeof row.arity === 'number' ? row.arity : 3; // variadic Min/Max: three operands
    return (ATTR_VARIANTS[row.name] ?? [{}]).map((attrs) => ({ op: row.name, attrs, arity, storage }));
  }),
);

const gridName = (c: GridCase): string =>
  `${c.op}${Object.keys(c.attrs).length ? ` ${JSON.stringify(c.attrs)}` : ''} ${c.storage.dtype}${c.storage.packed ? ' (packed)' : ''}`;

/** Operands that broadcast to every combination of special values: shapes [n,1,1], [1,n,1], [1,1,n]. */
function gridInputs(c: GridCase): Tensor[] {
  const values = SPECIALS[c.storage.dtype];
  const n = values.length;
  const axisShape = (k: number, count: number): number[] => Array.from({ length: count }, (_, i) => (i === k ? n : 1));
  if (c.op === 'Where') return [makeTensor('bool', [2, 1, 1], [1, 0]), makeTensor(c.storage.dtype, [1, n, 1], values), makeTensor(c.storage.dtype, [1, 1, n], values)];
  return Array.from({ length: c.arity }, (_, k) => makeTensor(c.storage.dtype, axisShape(k, c.arity), values));
}

/** The smallest subnormal of each float storage: one unit in the last place of a subnormal result. */
const MIN_SUBNORMAL: Readonly<Record<'f32' | 'f16' | 'bf16', number>> = { f32: 2 ** -149, f16: 2 ** -24, bf16: 2 ** -133 };
const SMALLEST_NORMAL: Readonly<Record<'f32' | 'f16' | 'bf16', number>> = { f32: 2 ** -126, f16: 2 ** -14, bf16: 2 ** -126 };

/**
 * The tolerance for one element of a grid case, from its operands. Exact ops: exact everywhere. Other ops:
 *   - all operands ±0: exact (every op's value at zero is representable: tanh(-0) = -0, log(0) = -inf, ...);
 *   - all operands ±0 or subnormal: relative only, up to one unit in the last subnormal place, so a result
 *     computed as if a subnormal operand were 0 (or were the smallest normal) fails: subnormals are not flushed;
 *   - otherwise the storage's usual tolerance (its atol hides relative error in tiny results, hence the above).
 */
function gridTolerance(c: GridCase, operands: readonly number[]): { rtol: number; atol: number } {
  const dt = c.storage.dtype;
  const exact = dt === 'f32' ? EXACT_F32 : EXACT_ANY;
  if (exact.has(c.op)) return EXACT;
  if (operands.every((v) => v === 0)) return EXACT;
  if (operands.every((v) => Math.abs(v) < SMALLEST_NORMAL[dt])) return { rtol: TOL[dt].rtol, atol: MIN_SUBNORMAL[dt] };
  return TOL[dt];
}

/** For each element of `want` (the broadcast result of `inputs`), the operand values that produced it. */
function operandsOf(want: Tensor, inputs: readonly Tensor[]): number[][] {
  const shape = want.shape;
  return Array.from({ length: want.data.length }, (_, i) => {
    const coord: number[] = [];
    let rest = i;
    for (let a = shape.length - 1; a >= 0; a--) {
      coord.unshift(rest % shape[a]!);
      rest = Math.floor(rest / shape[a]!);
    }
    return inputs.map((t) => {
      const off = shape.length - t.shape.length;
      let flat = 0;
      t.shape.forEach((d, a) => (flat = flat * d + (d === 1 ? 0 : coord[a + off]!)));
      return t.data[flat]!;
    });
  });
}

describe('every float elementwise op on special values, in every float storage', () => {
  it.each(gridCases.map((c) => [gridName(c), c] as const))('%s', async (_name, c) => {
    const gpu = await testGpu();
    const inputs = gridInputs(c);
    const want = oracle(c.op, inputs, c.attrs);
    const b = new GraphBuilder();
    b.op(c.op, inputs.map((t, i) => b.input(`x${i}`, tensorType(t.dtype, t.shape))), c.attrs);
    const g = b.build();
    const spec = elementwiseSpec(g.nodes[0]!, (v) => g.types.get(v)!, { shaderF16: gpu.shaderF16 && !c.storage.packed });
    const [got] = await runKernel(gpu, compileKernel(elementwise, spec), inputs);
    expect(got!.dtype).toBe(want.dtype);
    expect(got!.shape).toEqual(want.shape);
    const bad: string[] = [];
    operandsOf(want, inputs).forEach((operands, i) => {
      const tol = isFloat(want.dtype) ? gridTolerance(c, operands) : EXACT;
      if (!elementOk(got!, want, i, tol) && bad.length < 12)
        bad.push(`  (${operands.map(fmt).join(', ')}): got ${fmt(got!.data[i]!)}, want ${fmt(want.data[i]!)}${tol === EXACT ? ' (exact)' : ''}`);
    });
    if (bad.length) throw new Error(`${gridName(c)}\n${bad.join('\n')}`);
  });
});

// ---- shared by the graph properties and the models ---------------------------------------------------------------

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
function unpredictableSums(g: Graph, env: ReadonlyMap<string, Tensor>, tolFor: (t: Tensor) => { rtol: number; atol: number }): string[] {
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
const GRAPH_TOL = { rtol: 1e-4, atol: 1e-5 };
const F16_GRAPH_TOL = { rtol: 2e-3, atol: 1e-3 };

/** Whether every node `value` depends on is in EXACT_GRAPH_OPS. */
function exactlyComputed(g: Graph, value: string): boolean {
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
async function expectAsInterpreter(
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

// ---- 2. properties: random graphs and single ops on special values --------------------------------------------------

/** One element: a special value of the dtype three times in four, else an ordinary value in [-3, 3]. */
const arbElement = (dtype: 'f32' | 'f16' | 'bf16', specialWeight = 3): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: specialWeight, arbitrary: fc.constantFrom(...SPECIALS[dtype]) },
    { weight: 1, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }) },
  );

const arbSpecialTensor = (dtype: 'f32' | 'f16', shape: readonly number[], specialWeight = 3): fc.Arbitrary<Tensor> =>
  fc.array(arbElement(dtype, specialWeight), { minLength: numel(shape), maxLength: numel(shape) }).map((v) => makeTensor(dtype, shape, v));

/** arbGraphCase's graphs with every f32 input redrawn from the special values (i32 and bool inputs as generated). */
const arbSpecialGraph = arbGraphCase({ maxSteps: 8 }).chain(({ graph, inputs }) =>
  fc
    .tuple(...Object.entries(inputs).map(([name, t]) => (t.dtype === 'f32' ? arbSpecialTensor('f32', t.shape) : fc.constant(t)).map((v) => [name, v] as const)))
    .map((entries) => ({ graph, inputs: Object.fromEntries(entries) as Record<string, Tensor> })),
);

/** Single ops the graph menu lacks, or f16 storage: shapes [2, c, h, w] (even sizes: f16 regions bind in words). */
interface SingleCase {
  readonly op: string;
  readonly dtype: 'f32' | 'f16';
  readonly shaderF16: boolean;
  readonly shape: readonly number[];
  readonly attrs: Attrs;
}

const SINGLE_OPS = ['MaxPool', 'AveragePool', 'Conv', 'ReduceMin', 'ReduceMax', 'ReduceSum', 'ReduceMean', 'ArgMax', 'Softmax', 'LogSoftmax', 'MatMul'] as const;

const arbSingleCase: fc.Arbitrary<SingleCase> = fc
  .record({
    op: fc.constantFrom(...SINGLE_OPS),
    dtype: fc.constantFrom<'f32' | 'f16'>('f32', 'f16'),
    shaderF16: fc.boolean(),
    c: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 5 }),
    w: fc.integer({ min: 1, max: 5 }),
    kh: fc.integer({ min: 1, max: 3 }),
    kw: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    pad: fc.integer({ min: 0, max: 1 }),
    axes: fc.subarray([1, 2, 3], { minLength: 1 }),
    axis: fc.integer({ min: -4, max: 3 }),
    keepdims: fc.integer({ min: 0, max: 1 }),
  })
  .map((r): SingleCase => {
    const [kh, kw] = [Math.min(r.kh, r.h), Math.min(r.kw, r.w)];
    const pads = [r.pad, r.pad, r.pad, r.pad].map((p, i) => Math.min(p, (i % 2 ? kw : kh) - 1));
    const window = { kernel_shape: [kh, kw], strides: [r.stride, r.stride], pads };
    const attrs: Record<string, Attrs> = {
      MaxPool: window,
      AveragePool: { ...window, count_include_pad: r.keepdims },
      Conv: window,
      ArgMax: { axis: r.axis, keepdims: r.keepdims },
      Softmax: { axis: r.axis },
      LogSoftmax: { axis: r.axis },
      MatMul: {},
    };
    // f16 MatMul and Conv results need shader-f16 (the compiler refuses them without).
    const shaderF16 = r.shaderF16 || (r.dtype === 'f16' && (r.op === 'MatMul' || r.op === 'Conv'));
    return { op: r.op, dtype: r.dtype, shaderF16, shape: [2, r.c, r.h, r.w], attrs: attrs[r.op] ?? { axes: r.axes, keepdims: r.keepdims } };
  });

/** The graph of a single-op case and its inputs: x special-valued; Conv and MatMul weights mostly ordinary. */
function singleGraph(c: SingleCase): { graph: Graph; operands: { name: string; shape: number[]; specialWeight: number }[] } {
  const b = new GraphBuilder('single');
  const [, ch, , w] = c.shape as [number, number, number, number];
  const operands = [{ name: 'x', shape: [...c.shape], specialWeight: 3 }];
  if (c.op === 'Conv') operands.push({ name: 'w', shape: [2, ch, ...(c.attrs.kernel_shape as number[])], specialWeight: 1 }, { name: 'b', shape: [2], specialWeight: 1 });
  if (c.op === 'MatMul') operands.push({ name: 'w', shape: [w, 2], specialWeight: 1 });
  const names = operands.map((o) => b.input(o.name, tensorType(c.dtype, o.shape)));
  b.output(b.op(c.op, names, c.attrs));
  return { graph: b.build(), operands };
}

describe('special values through compiled graphs on the adapter', () => {
  // Found by the random graphs below in CI: lavapipe's exp and exp2 return 0.99999994 for tiny negative
  // arguments, so Cast(Pow(1.5, -2^-149)) read 0. Exp and Pow round results near 1 once (kiln_exp_small).
  it('Exp and Pow of tiny arguments are exactly their correctly rounded values, so a Cast to i32 reads 1', async () => {
    const tiny = [-(2 ** -149), 2 ** -149, -1e-30, -1e-10, -2.9e-8, 2.9e-8, -5e-8, 5e-8, -0, 0];
    const b = new GraphBuilder('tiny');
    const x = b.input('x', tensorType('f32', [tiny.length]));
    const base = b.constant(makeTensor('f32', [], [1.5]), 'base');
    const exp = b.op('Exp', [x]);
    const pow = b.op('Pow', [base, x]);
    for (const v of [exp, pow]) b.output(v, b.op('Cast', [v], { to: 'i32' }));
    const g = b.build();
    await expectAsInterpreter(g, { x: makeTensor('f32', [tiny.length], tiny) }, () => EXACT);
  });

  it('random graphs (arbGraphCase) with special-valued inputs: outputs as the interpreter says', async () => {
    let skipped = 0;
    await fc.assert(
      fc.asyncProperty(arbSpecialGraph, async ({ graph, inputs }) => {
        // The menu may take the mean of i32 values, which has no kernel (the compiler refuses it by name).
        fc.pre(!graph.nodes.some((n) => n.op === 'ReduceMean' && graph.types.get(n.inputs[0]!)!.dtype === 'i32'));
        const unpredictable = unpredictableSums(graph, evaluateAll(graph, inputs), () => GRAPH_TOL).length > 0;
        if (unpredictable) skipped++;
        fc.pre(!unpredictable);
        await expectAsInterpreter(graph, inputs, (name) => (exactlyComputed(graph, name) ? EXACT : GRAPH_TOL));
      }),
      { numRuns: 60 * RUNS },
    );
    console.log(`random graphs: ${skipped} cases skipped for sums whose f32 value depends on the summation order`);
  }, 120_000 * RUNS);

  it('pools, Conv, reductions, ArgMax, Softmax, LogSoftmax and MatMul in f32 and f16 storage', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbSingleCase.chain((c) => {
          let built: ReturnType<typeof singleGraph> | undefined;
          try {
            built = singleGraph(c);
          } catch {
            return fc.constant(undefined); // attributes that do not fit the shape: not a case
          }
          const { graph, operands } = built;
          return fc
            .tuple(...operands.map((o) => arbSpecialTensor(c.dtype, o.shape, o.specialWeight)))
            .map((ts) => ({ c, graph, inputs: Object.fromEntries(operands.map((o, i) => [o.name, ts[i]!])) as Record<string, Tensor> }));
        }),
        async (made) => {
          fc.pre(made !== undefined);
          const { c, graph, inputs } = made!;
          const inexact = c.dtype === 'f16' ? F16_GRAPH_TOL : GRAPH_TOL;
          fc.pre(unpredictableSums(graph, evaluateAll(graph, inputs), () => inexact).length === 0);
          await expectAsInterpreter(graph, inputs, (name) => (exactlyComputed(graph, name) ? EXACT : inexact), { shaderF16: c.shaderF16 });
        },
      ),
      { numRuns: 30 * RUNS },
    );
  }, 120_000 * RUNS);
});

// ---- 3. real models with special values planted in their float inputs --------------------------------------------

const models = haveShared() ? join(sharedDir()!, 'models') : '';

/** `base` with `plant` values written at the given flat positions. */
function planted(base: Tensor, plant: Readonly<Record<number, number>>): Tensor {
  return makeTensor(base.dtype, base.shape, (i) => plant[i] ?? base.data[i]!);
}

describe.runIf(haveShared())('real models with special values in their inputs, on the adapter', () => {
  it('mnist-8: -0 and subnormals, NaN, ±inf and 1e20 pixels give the interpreter’s logits', async () => {
    const { graph } = importOnnx(join(models, 'mnist-8', 'model.onnx'));
    const input = graph.inputs[0]!.name;
    const digit = readTensorProtoFile(join(models, 'mnist-8', 'reference', 'test_data_set_0', 'input_0.pb'));
    const at = (row: number, col: number): number => row * 28 + col;
    const variants: Record<string, Record<number, number>> = {
      // The background is 0: make some of it -0, and put subnormals in and next to the stroke.
      'zeros and subnormals': Object.fromEntries(
        Array.from({ length: 28 * 28 }, (_, i) => i).flatMap((i) => (i % 7 === 0 ? [[i, digit.data[i] === 0 ? -0 : 2 ** -149]] : i % 11 === 0 ? [[i, -(2 ** -126 - 2 ** -149)]] : [])),
      ),
      'a NaN pixel': { [at(14, 14)]: NaN },
      'a +inf pixel': { [at(3, 20)]: Infinity },
      'a -inf pixel': { [at(20, 5)]: -Infinity },
      '±inf pixels far apart': { [at(2, 2)]: Infinity, [at(25, 25)]: -Infinity },
      'a 1e20 and a -1e20 pixel': { [at(10, 10)]: 1e20, [at(18, 9)]: -1e20 },
    };
    for (const [what, plant] of Object.entries(variants)) {
      const inputs = { [input]: planted(digit, plant) };
      expect(unpredictableSums(graph, evaluateAll(graph, inputs), () => GRAPH_TOL), what).toEqual([]);
      await expectAsInterpreter(graph, inputs, () => GRAPH_TOL).catch((e: Error) => {
        throw new Error(`mnist-8, ${what}: ${e.message.slice(0, 4000)}`);
      });
    }
  });

  // tiny-distilbert-sst2's inputs are token ids and a mask (integers), so the special values go into its first
  // float tensor instead: %55, the embeddings (word + position) entering the first LayerNorm, made a graph input.
  it('tiny-distilbert-sst2: special values in the embeddings give the interpreter’s logits and intermediates', async () => {
    const dir = join(models, 'tiny-distilbert-sst2');
    const intermediates = ['130', '244', '282', '294', '297'];
    for (const set of [0, 1]) {
      const data = join(dir, 'reference', `test_data_set_${set}`);
      const ids = readTensorProtoFile(join(data, 'input_0.pb'));
      const mask = readTensorProtoFile(join(data, 'input_1.pb'));
      const [batch, sequence] = ids.shape as [number, number];
      const { graph } = importOnnx(join(dir, 'model.onnx'), { symbols: { batch, sequence } });
      const embeddings = evaluateAll(graph, { input_ids: ids, attention_mask: mask }).get('55')!;
      const cut = (outputs: string[]): Graph =>
        updateGraph(
          { ...graph, outputs },
          { inputs: [...graph.inputs, { name: '55', type: graph.types.get('55')! }], nodes: graph.nodes.filter((n) => !n.outputs.includes('55')) },
        );
      const last = embeddings.data.length - 1;
      // %66 is the embeddings' LayerNorm (decomposed: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add).
      const everything = ['logits', ...intermediates, '66'];
      const variants: [string, Record<number, number>, string[]][] = [
        ['-0 and subnormals', { 0: -0, 1: 2 ** -149, 2: -(2 ** -126 - 2 ** -149), 3: 2 ** -126 - 2 ** -149, 4: -0, 5: -0 }, everything],
        ['a NaN', { 3: NaN }, everything],
        ['a NaN in the last token (padding, in set 1)', { [last]: NaN }, everything],
        ['+inf and -inf', { 2: Infinity, [last - 1]: -Infinity }, everything],
        // Squares that overflow: the LayerNorm's Pow gives inf, its variance inf, and the token's row becomes 0
        // on both sides. Compared up to there: downstream, that zero row plus the small attention output
        // is normalised again with a variance far below epsilon (1e-12), which scales last-bit differences of the
        // sums (f32 on the GPU, float64 in the interpreter) by 1/sqrt(1e-12) = 1e6 - ill-conditioned, not a
        // special-value effect.
        ['the largest finite value and 1e20 (squares overflow)', { 0: F32_MAX, 5: -1e20 }, ['59', '60', '63', '64', '66']],
      ];
      for (const [what, plant, outputs] of variants) {
        const g = cut(outputs);
        const inputs = { input_ids: ids, attention_mask: mask, 55: planted(embeddings, plant) };
        expect(unpredictableSums(g, evaluateAll(g, inputs), () => GRAPH_TOL), what).toEqual([]);
        await expectAsInterpreter(g, inputs, () => GRAPH_TOL).catch((e: Error) => {
          throw new Error(`tiny-distilbert-sst2 set ${set}, ${what}: ${e.message.slice(0, 4000)}`);
        });
      }
    }
  });
});
