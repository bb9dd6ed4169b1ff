// Softmax, LogSoftmax, LayerNormalization, BatchNormalization and CumSum on the adapter against the interpreter,
// through the real compiler and runtime: every axis of ranks 1-4 (negative axes too), ragged, long and many short
// rows, strided (non-innermost) axes, large-magnitude inputs (softmax stability), layer norm over the last 1-3
// dims with and without bias (and broadcast Scale), all four CumSum variants (exact on values whose sums f32
// holds exactly, and i32 wrapping), f16 as array<f16> and packed. f32 within rtol 1e-4, atol 1e-5.
import { describe, it } from 'vitest';
import { type Attrs, type DType, GraphBuilder, type Tensor, makeTensor, tensorType } from '../../ir/index.js';
import { randomTensor, rng } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const F32 = { rtol: 1e-4, atol: 1e-5 };
const F16 = { rtol: 3e-3, atol: 2e-3 };
const EXACT = { rtol: 0, atol: 0 };

interface OpCase {
  readonly op: string;
  readonly attrs?: Attrs;
}

/** One graph applying each op to the inputs (named x, then a, b, ... for the extra operands). */
async function check(inputs: readonly Tensor[], ops: readonly OpCase[], tol = F32, opts: { shaderF16?: boolean } = {}): Promise<void> {
  const b = new GraphBuilder('normalize');
  const names = inputs.map((t, i) => b.input(i === 0 ? 'x' : String.fromCharCode(96 + i), tensorType(t.dtype, t.shape)));
  b.output(...ops.map((c) => b.op(c.op, names, c.attrs ?? {})));
  await expectGpuMatchesInterpreter(b.build(), Object.fromEntries(names.map((n, i) => [n, inputs[i]!])), tol, opts);
}

const values = (dtype: DType, shape: readonly number[], seed: number, range = 8): Tensor => randomTensor(dtype, shape, seed, { edges: 0, range });

describe('Softmax and LogSoftmax on the adapter', () => {
  const both = (axis: number): OpCase[] => [{ op: 'Softmax', attrs: { axis } }, { op: 'LogSoftmax', attrs: { axis } }];
  /** Softmax or LogSoftmax by parity (they share everything but the last line; both run in the other tests). */
  const one = (axis: number, k: number): OpCase => both(axis)[k % 2]!;

  it('every axis of ranks 1-4 (negative axes too)', async () => {
    for (const shape of [[257], [13, 9], [5, 6, 7], [3, 5, 4, 7]])
      for (let axis = 0; axis < shape.length; axis++) await check([values('f32', shape, axis)], [one(axis % 2 ? axis - shape.length : axis, shape.length + axis)]);
  });

  it('ragged, long and many short rows', async () => {
    for (const shape of [[3, 1], [4, 255], [2, 256], [3, 257], [2, 10000], [5000, 3], [300, 64, 1]]) await check([values('f32', shape, shape[1]!)], [one(1, shape[1]!)]);
  });

  it('large-magnitude inputs stay finite (max subtracted first)', async () => {
    const r = rng(3);
    const big = makeTensor('f32', [6, 300], () => (r() * 2 - 1) * 1e4);
    await check([big], both(1));
    const huge = makeTensor('f32', [4, 7], (i) => [3e38, -3e38, 1e30, 88, 89, -1e30, 0][i % 7]! * (i % 2 ? 1 : -1));
    await check([huge], both(1));
  });

  it('f16 as array<f16> and packed', async () => {
    for (const shaderF16 of [true, false]) await check([values('f16', [6, 130], 4, 4)], both(-1), F16, { shaderF16 });
  });

  it('probabilities below 2^-126 stay subnormal (relative error, not an atol that hides them)', async () => {
    // exp(-89) ... exp(-103) are f32 subnormals; lavapipe's exp returned 0 for them before kiln_exp.
    const x = makeTensor('f32', [2, 4], [0, -89, -95, -103, 5, 5 - 100, 5 - 88, 5]);
    await check([x], [{ op: 'Softmax', attrs: { axis: 1 } }], { rtol: 1e-5, atol: 2 ** -149 });
  });
});

describe('LayerNormalization on the adapter', () => {
  it('over the last 1, 2 and 3 dims, with and without bias, broadcast Scale', async () => {
    const x = [4, 3, 5, 6];
    for (const axis of [-1, -2, -3]) {
      const norm = x.slice(axis);
      await check([values('f32', x, 1), values('f32', norm, 2, 2), values('f32', norm, 3)], [{ op: 'LayerNormalization', attrs: { axis } }]);
      await check([values('f32', x, 4), values('f32', norm, 5, 2)], [{ op: 'LayerNormalization', attrs: { axis, epsilon: 1e-3 } }]);
    }
    // Scale and B broadcast onto the normalised shape [5, 6].
    await check([values('f32', x, 6), values('f32', [6], 7, 2), values('f32', [5, 1], 8)], [{ op: 'LayerNormalization', attrs: { axis: 2 } }]);
  });

  it('row lengths 1, 255, 256, 257, 10000, and many short rows', async () => {
    for (const [rows, len] of [[3, 1], [5, 255], [4, 256], [3, 257], [2, 10000], [3000, 4]] as const) {
      const offset = makeTensor('f32', [rows, len], (i) => 100 + Math.sin(i)); // a large mean: two-pass variance
      await check([offset, values('f32', [len], 9, 2), values('f32', [len], 10)], [{ op: 'LayerNormalization', attrs: { axis: 1 } }]);
    }
  });

  it('f16 as array<f16> and packed', async () => {
    for (const shaderF16 of [true, false])
      await check([values('f16', [6, 130], 11, 4), values('f16', [130], 12, 2), values('f16', [130], 13, 2)], [{ op: 'LayerNormalization' }], F16, { shaderF16 });
  });

  it('rows whose squared deviations overflow f32 (|x| ~ 1e20 and up) normalise as in float64; NaN and inf rows are NaN', async () => {
    // Unscaled, (±1e20)² is inf in f32: the variance was inf and every output 0 instead of ±1.
    const x = makeTensor('f32', [5, 4], [1e20, -1e20, 0, 3, 2e25, 1, -1, 5e24, 1e36, -1e36, 1e35, 0, 1, NaN, 2, 3, -Infinity, 1, 2, 3]);
    await check([x, makeTensor('f32', [4], [1, -2, 0.5, 1]), makeTensor('f32', [4], [0, 1, -1, 0.25])], [{ op: 'LayerNormalization', attrs: { axis: 1 } }]);
  });
});

describe('BatchNormalization on the adapter', () => {
  it('per-channel affine map with the running statistics (rank 2, 4, 5)', async () => {
    for (const shape of [[7, 5], [2, 3, 5, 5], [2, 4, 3, 2, 3]]) {
      const c = [shape[1]!];
      const variance = makeTensor('f32', c, (i) => 0.5 + i);
      await check([values('f32', shape, 1), values('f32', c, 2, 2), values('f32', c, 3), values('f32', c, 4), variance], [{ op: 'BatchNormalization', attrs: { epsilon: 1e-3 } }]);
    }
  });
});

describe('CumSum on the adapter', () => {
  /** Multiples of 1/64 in [-8, 8]: every partial sum is exact in f32, so any summation order matches exactly. */
  const exact = (shape: readonly number[], seed: number): Tensor => {
    const r = rng(seed);
    return makeTensor('f32', shape, () => Math.round((r() * 2 - 1) * 512) / 64);
  };
  const variants = (axis: number): OpCase[] =>
    [0, 1].flatMap((exclusive) => [0, 1].map((reverse) => ({ op: 'CumSum', attrs: { axis, exclusive, reverse } })));
  /** Two of the four variants by parity: (plain, exclusive+reverse) or (exclusive, reverse). */
  const two = (axis: number, k: number): OpCase[] => variants(axis).filter((_, j) => (j === 0 || j === 3) === (k % 2 === 0));

  it('the variants along every axis of ranks 1-4 (two per axis, all four on a column)', async () => {
    for (const shape of [[257], [13, 9], [5, 6, 7], [3, 5, 4, 7]])
      for (let axis = 0; axis < shape.length; axis++) await check([exact(shape, axis)], two(axis === shape.length - 1 ? -1 : axis, shape.length + axis), EXACT);
  });

  it('lengths 1, 255, 256, 257, 10000, many short lines, long columns', async () => {
    for (const shape of [[3, 1], [2, 255], [2, 256], [3, 257], [2, 10000], [4000, 3]]) await check([exact(shape, shape[1]!)], two(1, shape[1]!), EXACT);
    await check([exact([3000, 5], 1)], variants(0), EXACT);
  });

  it('non-integral f32 values within tolerance', async () => {
    await check([values('f32', [5, 300], 7, 1)], variants(1));
  });

  it('i32 wraps exactly; f16 as array<f16> and packed', async () => {
    await check([randomTensor('i32', [3, 700], 8, { edges: 0.3 })], variants(1), EXACT);
    for (const shaderF16 of [true, false]) await check([values('f16', [4, 64], 9, 1)], two(1, shaderF16 ? 0 : 1), F16, { shaderF16 });
  });
});
