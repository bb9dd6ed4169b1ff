// Every elementwise op on the adapter against the interpreter: several dtypes per op (sub-byte ints and bool
// included; f16 both as array<f16> and packed two per u32), random broadcast shapes with ragged sizes, size-1
// axes and rank 0, and inputs mixing edge values (0, -0, ±1, ±large, integer range ends) with ordinary ones.
// Integer and bool results must match exactly; float results within a per-dtype tolerance (tight for f32).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileKernel } from '../../compiler/kernel-spec.js';
import { elementwise, elementwiseSpec, hasElementwiseKernel } from '../../compiler/kernels/elementwise.js';
import { type Attrs, type DType, GraphBuilder, type Tensor, dtypeInfo, makeTensor, tensorType, tensorsIdentical, toleranceExcess } from '../../ir/index.js';
import { BITCAST_DTYPES } from '../../ir/ops/elementwise-bitcast.js';
import { ELEMENTWISE_OPS } from '../../ir/ops/elementwise-table.js';
import { type ValueOptions, arbBroadcastShapes, describeMismatch, oracle, randomTensor } from './data.js';
import { runKernel, testGpu } from './harness.js';

const FLOATS: readonly DType[] = ['f32', 'f16', 'bf16'];
const INTS: readonly DType[] = ['i32', 'u32', 'i8', 'u4', 'i3', 'i1'];

/** Float ops whose f32 result is one correctly rounded operation (or exact): compared exactly (up to FTZ). */
const EXACT_F32 = new Set(['Floor', 'Ceil', 'Round', 'Neg', 'Abs', 'Relu', 'Clip', 'Cast', 'Add', 'Sub', 'Mul', 'Min', 'Max', 'Where', 'Equal', 'Less', 'Greater']);

interface Case {
  readonly op: string;
  readonly attrs: Attrs;
  /** Data operand dtype. */
  readonly dtype: DType;
  readonly arity: number;
  /** Compile for a device without shader-f16 (f16 packed two per u32). */
  readonly packedF16?: boolean;
  readonly values?: (input: number) => ValueOptions;
}

function tolerance(c: Case, out: DType): { rtol: number; atol: number } | 'exact' {
  const info = dtypeInfo(out);
  if (info.kind !== 'float') return 'exact';
  if (out === 'bf16') return { rtol: 8e-3, atol: 1e-6 };
  if (out === 'f16') return { rtol: 1e-3, atol: 6e-8 };
  // Exact, zero signs included (atol 0): the adapter keeps subnormals (measured in special-values.gpu.test.ts),
  // so no flush-to-zero allowance.
  return EXACT_F32.has(c.op) ? { rtol: 0, atol: 0 } : { rtol: 1e-5, atol: 1e-6 };
}

const ATTR_VARIANTS: Readonly<Record<string, readonly Attrs[]>> = {
  LeakyRelu: [{}, { alpha: 0.2 }],
  Gelu: [{ approximate: 'none' }, { approximate: 'tanh' }],
  Clip: [{ min: -2.5, max: 3.7 }, { min: 1 }, { max: -100.5 }, { min: 5, max: 2 }],
};

const CAST_FROM: readonly DType[] = ['f32', 'f16', 'bf16', 'i32', 'u32', 'i8', 'u4', 'i3', 'bool'];
const CAST_TO: readonly DType[] = ['f32', 'f16', 'bf16', 'i32', 'u32', 'i4', 'u8', 'i1', 'u1', 'u3', 'bool'];

function dtypesFor(kinds: readonly string[]): DType[] {
  return [...(kinds.includes('float') ? FLOATS : []), ...(kinds.includes('int') ? INTS : []), ...(kinds.includes('bool') ? ['bool' as const] : [])];
}

function casesFor(row: (typeof ELEMENTWISE_OPS)[number]): Case[] {
  const arities = typeof row.arity === 'number' ? [row.arity] : [1, 3]; // variadic Min/Max
  if (row.name === 'Cast') return CAST_FROM.flatMap((dtype) => CAST_TO.map((to) => ({ op: 'Cast', attrs: { to }, dtype, arity: 1 })));
  // BitCast reinterprets 32-bit words only (f32, i32, u32): every pair, NaN and infinity bit patterns included.
  if (row.name === 'BitCast') return BITCAST_DTYPES.flatMap((dtype) => BITCAST_DTYPES.map((to) => ({ op: 'BitCast', attrs: { to }, dtype, arity: 1 })));
  const out: Case[] = [];
  for (const attrs of ATTR_VARIANTS[row.name] ?? [{}])
    for (const dtype of dtypesFor(row.kinds))
      for (const arity of arities) {
        const values = row.name === 'Pow' ? (k: number): ValueOptions => (k === 1 ? { range: 4, integral: true, edges: 0.05 } : {}) : undefined;
        out.push({ op: row.name, attrs, dtype, arity, ...(values ? { values } : {}) });
        if (dtype === 'f16') out.push({ op: row.name, attrs, dtype, arity, packedF16: true, ...(values ? { values } : {}) });
      }
  // Pow with non-integral exponents too.
  if (row.name === 'Pow') out.push({ op: 'Pow', attrs: {}, dtype: 'f32', arity: 2, values: (k) => (k === 1 ? { range: 3, edges: 0.05 } : {}) });
  return out;
}

const CASES = ELEMENTWISE_OPS.flatMap(casesFor);

/**
 * Random shapes and values per case. Every distinct kernel costs a shader compile (~0.1 s on lavapipe), so one
 * run per case by default; the case matrix gives the breadth. KILN_GPU_RUNS=20 soaks.
 */
const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);

function caseName(c: Case): string {
  const attrs = Object.keys(c.attrs).length ? ` ${JSON.stringify(c.attrs)}` : '';
  return `${c.op}${attrs} ${c.dtype}${c.packedF16 ? ' (packed f16)' : ''} x${c.arity}`;
}

/** Input tensors for a case: Where's condition is bool. */
function inputsFor(c: Case, shapes: readonly number[][], seed: number): Tensor[] {
  return shapes.map((shape, k) => {
    const dtype = c.op === 'Where' && k === 0 ? 'bool' : c.dtype;
    return randomTensor(dtype, shape, seed + 7919 * k, c.values?.(k));
  });
}

async function check(c: Case, shapes: readonly number[][], seed: number): Promise<void> {
  const gpu = await testGpu();
  const inputs = inputsFor(c, shapes, seed);
  const want = oracle(c.op, inputs, c.attrs);
  const b = new GraphBuilder();
  const names = inputs.map((t, i) => b.input(`x${i}`, tensorType(t.dtype, t.shape)));
  const y = b.op(c.op, names, c.attrs);
  const g = b.build();
  const spec = elementwiseSpec(g.nodes[0]!, (v) => g.types.get(v)!, { shaderF16: gpu.shaderF16 && !c.packedF16 });
  expect(spec.output.shape).toEqual(want.shape);
  const [got] = await runKernel(gpu, compileKernel(elementwise, spec), inputs);
  const tol = tolerance(c, want.dtype);
  const ok = tol === 'exact' ? tensorsIdentical(got!, want) : toleranceExcess(got!, want, tol.rtol, tol.atol) <= 0;
  if (!ok) throw new Error(`${caseName(c)} seed ${seed} (%${y})\n${describeMismatch(got!, want, inputs)}`);
}

describe('elementwise kernels on the adapter vs the interpreter', () => {
  it('has a WGSL row for every elementwise op of the IR', () => {
    expect(ELEMENTWISE_OPS.map((r) => r.name).filter((n) => !hasElementwiseKernel(n))).toEqual([]);
  });

  // Random draws hit the IEEE special cases only by chance (a -inf base with a fractional exponent once failed CI),
  // so Pow also runs every pair of special bases and exponents, in every float storage.
  const POW_BASES = [0, -0, 1, -1, 0.5, -0.5, 2, -2, 3, Infinity, -Infinity, NaN, 1e30, -1e30, 1e-30, -1e-30];
  const POW_EXPONENTS = [0, -0, 1, -1, 2, -2, 3, -3, 0.5, -0.5, 2.5, -2.5, 0.0075, -0.0075, 100, -100, 127, Infinity, -Infinity, NaN];
  const POW_STORAGES: readonly Case[] = [
    { op: 'Pow', attrs: {}, dtype: 'f32', arity: 2 },
    { op: 'Pow', attrs: {}, dtype: 'f16', arity: 2 },
    { op: 'Pow', attrs: {}, dtype: 'f16', arity: 2, packedF16: true },
    { op: 'Pow', attrs: {}, dtype: 'bf16', arity: 2 },
  ];
  it.each(POW_STORAGES.map((c) => [caseName(c), c] as const))('%s on every pair of special values', async (_name, c) => {
    const gpu = await testGpu();
    const x = makeTensor(c.dtype, [POW_BASES.length, 1], POW_BASES);
    const y = makeTensor(c.dtype, [1, POW_EXPONENTS.length], POW_EXPONENTS);
    const want = oracle('Pow', [x, y]);
    const b = new GraphBuilder();
    b.op('Pow', [b.input('x0', tensorType(c.dtype, x.shape)), b.input('x1', tensorType(c.dtype, y.shape))]);
    const g = b.build();
    const spec = elementwiseSpec(g.nodes[0]!, (v) => g.types.get(v)!, { shaderF16: gpu.shaderF16 && !c.packedF16 });
    const [got] = await runKernel(gpu, compileKernel(elementwise, spec), [x, y]);
    const tol = tolerance(c, want.dtype) as { rtol: number; atol: number };
    if (toleranceExcess(got!, want, tol.rtol, tol.atol) > 0) throw new Error(`${caseName(c)}\n${describeMismatch(got!, want, [x, y], 20)}`);
  });

  // Cases that once ran wrong on lavapipe (found by special-values.gpu.test.ts), each fixed by a prelude helper:
  // WGSL's max/min leave NaN and ±0 to the driver; its log, tanh and exp lost subnormals and small |x|; and the
  // driver folds x - x, x + (-x) and 0 * x to 0, which WGSL permits (it may assume no NaN or infinity at run time).
  const SUB = 2 ** -149;
  const show = (t: Tensor): string => [...t.data].map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(', ');
  const REGRESSIONS: readonly { name: string; op: string; attrs?: Attrs; inputs: number[][]; tol: { rtol: number; atol: number } }[] = [
    { name: 'Max of ±0 is +0 and of NaN is NaN', op: 'Max', inputs: [[-0, 0, -0, 0, NaN, 1, -0], [0, -0, -0, 0, 1, NaN, NaN]], tol: { rtol: 0, atol: 0 } },
    { name: 'Min of ±0 is -0 and of NaN is NaN', op: 'Min', inputs: [[-0, 0, -0, 0, NaN, 1, 0], [0, -0, 0, 0, 1, NaN, NaN]], tol: { rtol: 0, atol: 0 } },
    { name: 'Relu(-0) is +0', op: 'Relu', inputs: [[-0, 0, NaN, -SUB, SUB, -Infinity]], tol: { rtol: 0, atol: 0 } },
    { name: 'Clip(min 0) of -0 is +0', op: 'Clip', attrs: { min: 0 }, inputs: [[-0, 0, NaN, -SUB, SUB]], tol: { rtol: 0, atol: 0 } },
    { name: 'Log of subnormals', op: 'Log', inputs: [[SUB, 2 ** -140, 2 ** -126 - SUB, 2 ** -126, 0, -0, -SUB]], tol: { rtol: 1e-6, atol: 0 } },
    { name: 'Pow of subnormal bases', op: 'Pow', inputs: [[SUB, 2 ** -140, 2 ** -127, SUB, 2 ** -130], [0.5, 0.5, 0.25, -0.2, 1.5]], tol: { rtol: 1e-5, atol: 0 } },
    { name: 'Tanh of small |x|, relatively', op: 'Tanh', inputs: [[1e-8, -1e-20, SUB, -SUB, -0, 1e-3, -0.04, 0.049, 0.051]], tol: { rtol: 1e-6, atol: 0 } },
    { name: 'Exp of x below -87.34 is subnormal, not 0', op: 'Exp', inputs: [[-87.5, -89, -95, -100, -103, -104.5, -200]], tol: { rtol: 1e-5, atol: SUB } },
    { name: 'Sigmoid of x below -87.34 is subnormal, not 0', op: 'Sigmoid', inputs: [[-87.5, -89, -95, -100, -103, -104.5, -200]], tol: { rtol: 1e-5, atol: SUB } },
    { name: 'Sub(x, x) of NaN and ±inf is NaN', op: 'Sub', inputs: [[NaN, Infinity, -Infinity, 1, -0, 3e38]], tol: { rtol: 0, atol: 0 } },
    { name: 'LeakyRelu with alpha 0 of -inf is NaN, of -3 is -0', op: 'LeakyRelu', attrs: { alpha: 0 }, inputs: [[-Infinity, -3, NaN, 2, -0, Infinity]], tol: { rtol: 0, atol: 0 } },
  ];
  it.each(REGRESSIONS.map((r) => [r.name, r] as const))('%s', async (_name, r) => {
    const gpu = await testGpu();
    const b = new GraphBuilder();
    // Sub(x, x) binds one input twice: the kernel reads it once and computes x0 - x0.
    const names = r.op === 'Sub' ? ['x0', 'x0'] : r.inputs.map((_, i) => `x${i}`);
    const inputs = r.inputs.map((v) => makeTensor('f32', [v.length], v));
    inputs.forEach((t, i) => b.input(`x${i}`, tensorType('f32', t.shape)));
    b.op(r.op, names, r.attrs ?? {});
    const g = b.build();
    const want = oracle(r.op, names.map((n) => inputs[Number(n.slice(1))]!), r.attrs ?? {});
    const spec = elementwiseSpec(g.nodes[0]!, (v) => g.types.get(v)!, { shaderF16: gpu.shaderF16 });
    const [got] = await runKernel(gpu, compileKernel(elementwise, spec), inputs);
    if (toleranceExcess(got!, want, r.tol.rtol, r.tol.atol) > 0)
      throw new Error(`${r.name}: got [${show(got!)}], want [${show(want)}]`);
  });

  it.each(CASES.map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
    await fc.assert(
      fc.asyncProperty(arbBroadcastShapes(c.arity), fc.integer({ min: 0, max: 2 ** 30 }), async ({ ins }, seed) => check(c, ins, seed)),
      { numRuns: RUNS },
    );
  });
});
