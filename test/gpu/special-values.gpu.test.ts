// Numerics at the edges (1 of 3): every float elementwise op on every pair (triple, for Min/Max/Where) of special
// values - NaN, ±inf, -0, subnormals, the largest finite value, values whose square or exp overflows - in each
// float storage the elementwise tests use (f32, f16 as array<f16> and packed two per u32, bf16), through the
// kernel on the adapter, against the interpreter. The other parts: special-values-graphs.gpu.test.ts (random
// graphs and single ops), special-values-models.gpu.test.ts (real models); the special values, the comparator
// and the subnormal policy are in special-values-lib.ts.
import { describe, expect, it } from 'vitest';
import { compileKernel } from '../../compiler/kernel-spec.js';
import { elementwise, elementwiseSpec } from '../../compiler/kernels/elementwise.js';
import { type Attrs, type DType, GraphBuilder, type Tensor, isFloat, makeTensor, tensorType } from '../../ir/index.js';
import { BITCAST_DTYPES } from '../../ir/ops/elementwise-bitcast.js';
import { ELEMENTWISE_OPS } from '../../ir/ops/elementwise-table.js';
import { oracle } from './data.js';
import { runKernel, testGpu } from './harness.js';
import { EXACT, EXACT_ANY, EXACT_F32, SPECIALS, TOL, elementOk, fmt } from './special-values-lib.js';

type Storage = { readonly dtype: 'f32' | 'f16' | 'bf16'; readonly packed: boolean };
const STORAGES: readonly Storage[] = [
  { dtype: 'f32', packed: false },
  { dtype: 'f16', packed: false },
  { dtype: 'f16', packed: true },
  { dtype: 'bf16', packed: false },
];

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
    // BitCast reads 32-bit words only: the f32 specials reinterpreted as each 32-bit dtype.
    if (row.name === 'BitCast') return storage.dtype === 'f32' && !storage.packed ? BITCAST_DTYPES.map((to) => ({ op: 'BitCast', attrs: { to }, arity: 1, storage })) : [];
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
