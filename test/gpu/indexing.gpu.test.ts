// The indexing kernels (GatherElements, GatherND, ScatterElements, ScatterND with every reduction, TensorScatter in
// both modes, OneHot, ReverseSequence, TopK) compiled through the real compiler and runtime against the
// interpreter, on random ragged shapes, random (negative, duplicate) indices and every dtype class the accessor
// distinguishes (f32, i32, bool, f16 as array<f16> and packed, packed sub-byte ints). Then the documented GPU
// behaviour for indices the interpreter rejects: clamped reads, skipped writes, never out of bounds.
// KILN_GPU_RUNS raises the number of random cases.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Attrs, type DType, GraphBuilder, type Tensor, makeTensor, tensorType } from '../../ir/index.js';
import { randomTensor, rng } from './data.js';
import { expectGpuMatchesInterpreter, runGraphOnGpu } from './graph-harness.js';

const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);

interface Flavor {
  readonly dtype: DType;
  readonly shaderF16: boolean;
}
const F32: Flavor = { dtype: 'f32', shaderF16: false };
const FLAVORS: Readonly<Record<string, Flavor>> = {
  f32: F32,
  i32: { dtype: 'i32', shaderF16: false },
  bool: { dtype: 'bool', shaderF16: false },
  f16: { dtype: 'f16', shaderF16: true },
  'f16 packed': { dtype: 'f16', shaderF16: false },
  u4: { dtype: 'u4', shaderF16: false },
  i8: { dtype: 'i8', shaderF16: false },
};
const NUMERIC = Object.entries(FLAVORS).filter(([, f]) => f.dtype !== 'bool');

/** One node: data-like inputs of the flavor's dtype (`data`), other inputs as given (`extra`). */
interface Case {
  readonly op: string;
  readonly data: readonly number[][];
  readonly extra: Readonly<Record<string, Tensor>>;
  readonly order: readonly string[];
  readonly attrs: Attrs;
}

/** Tolerance: exact, except float folds (the GPU rounds to f32 each step, the interpreter once at the end). */
function tolerance(f: Flavor, attrs: Attrs): { rtol: number; atol: number } {
  const folds = attrs.reduction !== undefined && attrs.reduction !== 'none' && attrs.reduction !== 'max' && attrs.reduction !== 'min';
  if (!folds || (f.dtype !== 'f32' && f.dtype !== 'f16')) return { rtol: 0, atol: 0 };
  return f.dtype === 'f16' ? { rtol: 2e-3, atol: 1e-5 } : { rtol: 1e-5, atol: 1e-5 };
}

async function check(c: Case, f: Flavor, seed: number): Promise<void> {
  const b = new GraphBuilder('indexing');
  const inputs: Record<string, Tensor> = {};
  c.data.forEach((shape, k) => (inputs[`d${k}`] = randomTensor(f.dtype, shape, seed + 101 * k, { edges: c.attrs.reduction ? 0 : 0.2, range: 3 })));
  Object.assign(inputs, c.extra);
  const names = c.order.map((n) => b.input(n, tensorType(inputs[n]!.dtype, inputs[n]!.shape)));
  b.output(...b.node(c.op, names, c.attrs));
  await expectGpuMatchesInterpreter(b.build(), inputs, tolerance(f, c.attrs), { shaderF16: f.shaderF16 });
}

const dim = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: fc.integer({ min: 6, max: 70 }) });
const shape = (min: number, max: number): fc.Arbitrary<number[]> => fc.array(dim, { minLength: min, maxLength: max }).filter((s) => s.reduce((p, d) => p * d, 1) <= 3000);
const seedArb = fc.integer({ min: 0, max: 2 ** 30 });
/** Random i32 indices into an axis of `len`, negative ones included. */
const indexTensor = (shape: number[], len: number, seed: number): Tensor => {
  const r = rng(seed);
  return makeTensor('i32', shape, () => Math.floor(r() * 2 * len) - len);
};
/** A shape no larger than `s`, except `free` along `axis`. */
const within = (s: number[], axis: number, seed: number, free: number): number[] => {
  const r = rng(seed);
  return s.map((d, a) => (a === axis ? free : 1 + Math.floor(r() * d)));
};

const gatherElements = fc.tuple(shape(1, 4), seedArb).chain(([s, seed]) =>
  fc.integer({ min: 0, max: s.length - 1 }).map((axis): Case => {
    const is = within(s, axis, seed, 1 + (seed % 6));
    return { op: 'GatherElements', data: [s], extra: { idx: indexTensor(is, s[axis]!, seed) }, order: ['d0', 'idx'], attrs: { axis: axis - (seed % 2) * s.length } };
  }),
);

const gatherNd = fc.tuple(shape(1, 4), seedArb, shape(0, 2)).chain(([s, seed, rest]) =>
  fc.integer({ min: 0, max: s.length - 1 }).chain((batch) =>
    fc.integer({ min: 1, max: s.length - batch }).map((m): Case => {
      const is = [...s.slice(0, batch), ...rest, m];
      const r = rng(seed);
      const idx = makeTensor('i32', is, (i) => {
        const len = s[batch + (i % m)]!;
        return Math.floor(r() * 2 * len) - len;
      });
      return { op: 'GatherND', data: [s], extra: { idx }, order: ['d0', 'idx'], attrs: { batch_dims: batch } };
    }),
  ),
);

const scatterElements = (reduction: string): fc.Arbitrary<Case> =>
  fc.tuple(shape(1, 3), seedArb).chain(([s, seed]) =>
    fc.integer({ min: 0, max: s.length - 1 }).map((axis): Case => {
      const is = within(s, axis, seed, 1 + (seed % 5));
      return { op: 'ScatterElements', data: [s, is], extra: { idx: indexTensor(is, s[axis]!, seed) }, order: ['d0', 'idx', 'd1'], attrs: { axis, reduction } };
    }),
  );

const scatterNd = (reduction: string): fc.Arbitrary<Case> =>
  fc.tuple(shape(1, 3), seedArb, shape(1, 2)).chain(([s, seed, rows]) =>
    fc.integer({ min: 1, max: s.length }).map((m): Case => {
      // Few index rows over a small prefix, so duplicates are common.
      const lead = rows.slice(0, 1).map((d) => Math.min(d, 9));
      const r = rng(seed);
      const idx = makeTensor('i32', [...lead, m], (i) => {
        const len = s[i % m]!;
        return Math.floor(r() * 2 * len) - len;
      });
      return { op: 'ScatterND', data: [s, [...lead, ...s.slice(m)]], extra: { idx }, order: ['d0', 'idx', 'd1'], attrs: { reduction } };
    }),
  );

const tensorScatter = (mode: string): fc.Arbitrary<Case> =>
  fc.tuple(shape(2, 4), seedArb, fc.boolean()).map(([s, seed, given]): Case => {
    const axis = Math.max(1, s.length - 1 - (seed % 2)); // never the batch axis
    const max = s[axis]!;
    const seq = 1 + (seed % max);
    const r = rng(seed);
    const w = makeTensor('i32', [s[0]!], () => (mode === 'circular' ? Math.floor(r() * 40) - 20 : Math.floor(r() * (max - seq + 1))));
    const update = s.map((d, a) => (a === axis ? seq : d));
    return { op: 'TensorScatter', data: [s, update], extra: given ? { w } : {}, order: given ? ['d0', 'd1', 'w'] : ['d0', 'd1'], attrs: { axis: axis - s.length, mode } };
  });

const oneHot = fc.tuple(shape(0, 3), seedArb, fc.integer({ min: 1, max: 12 }), fc.boolean()).chain(([s, seed, depth, float]) =>
  fc.integer({ min: -s.length - 1, max: s.length }).map((axis): Case => {
    const r = rng(seed);
    const idx = makeTensor(float ? 'f32' : 'i32', s, () => (float ? (r() * 2 - 1) * (depth + 2) : Math.floor(r() * 2 * (depth + 2)) - depth - 2));
    return { op: 'OneHot', data: [[2]], extra: { idx }, order: ['idx', 'd0'], attrs: { depth, axis, negative: seed % 3 === 0 ? 0 : 1 } };
  }),
);

const reverseSequence = fc.tuple(shape(2, 4), seedArb, fc.boolean()).map(([s, seed, batchFirst]): Case => {
  const [batch, time] = batchFirst ? [0, 1] : [1, 0];
  const r = rng(seed);
  const lens = makeTensor('i32', [s[batch]!], () => Math.floor(r() * (s[time]! + 1)));
  return { op: 'ReverseSequence', data: [s], extra: { lens }, order: ['d0', 'lens'], attrs: { batch_axis: batch, time_axis: time } };
});

const topK = fc.tuple(shape(1, 3), seedArb, fc.boolean()).chain(([s, seed, largest]) =>
  fc.integer({ min: 0, max: s.length - 1 }).map((axis): Case => ({ op: 'TopK', data: [s], extra: {}, order: ['d0'], attrs: { axis, k: seed % (s[axis]! + 1), largest: largest ? 1 : 0 } })),
);

async function property(arb: fc.Arbitrary<Case>, f: Flavor): Promise<void> {
  await fc.assert(fc.asyncProperty(arb, seedArb, (c, seed) => check(c, f, seed)), { numRuns: RUNS });
}

describe('indexing kernels on the adapter vs the interpreter', () => {
  it.each(Object.entries(FLAVORS))('GatherElements %s', (_n, f) => property(gatherElements, f));
  it.each(Object.entries(FLAVORS))('GatherND %s', (_n, f) => property(gatherNd, f));
  it.each(Object.entries(FLAVORS))('TensorScatter %s', async (_n, f) => {
    await property(tensorScatter('linear'), f);
    await property(tensorScatter('circular'), f);
  });
  it.each(Object.entries(FLAVORS))('ReverseSequence %s', (_n, f) => property(reverseSequence, f));
  it.each(Object.entries(FLAVORS))('OneHot values %s', (_n, f) => property(oneHot, f));
  it.each(NUMERIC)('TopK %s', (_n, f) => property(topK, f));
  it('ScatterElements bool, reduction none', () => property(scatterElements('none'), FLAVORS.bool!));
  it('ScatterND bool, reduction none', () => property(scatterNd('none'), FLAVORS.bool!));
  for (const reduction of ['none', 'add', 'mul', 'max', 'min']) {
    it.each(NUMERIC)(`ScatterElements ${reduction} %s`, (_n, f) => property(scatterElements(reduction), f));
    it.each(NUMERIC)(`ScatterND ${reduction} %s`, (_n, f) => property(scatterNd(reduction), f));
  }

  it('TopK with ties and NaN picks ONNX order on long and strided lines', async () => {
    const x = makeTensor('f32', [3, 300], (i) => (i % 37 === 5 ? NaN : Math.floor((i * 7919) % 13) - 6));
    for (const [axis, largest] of [[1, 1], [1, 0], [0, 1]] as const) {
      const b = new GraphBuilder('topk');
      b.output(...b.node('TopK', [b.input('x', tensorType('f32', x.shape))], { axis, k: axis === 1 ? 40 : 2, largest }));
      await expectGpuMatchesInterpreter(b.build(), { x }, { rtol: 0, atol: 0 });
    }
  });
});

/** Run one node on the GPU; returns its first output's values. */
async function gpu(op: string, inputs: Record<string, Tensor>, attrs: Attrs): Promise<number[]> {
  const b = new GraphBuilder('oob');
  const names = Object.entries(inputs).map(([n, t]) => b.input(n, tensorType(t.dtype, t.shape)));
  const [y] = b.node(op, names, attrs);
  b.output(y!);
  return [...(await runGraphOnGpu(b.build(), inputs))[y!]!.data];
}

describe('indices the interpreter rejects stay in bounds on the GPU', () => {
  const x = makeTensor('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
  const i32 = (shape: number[], v: number[]): Tensor => makeTensor('i32', shape, v);

  it('gathers clamp each index into its axis', async () => {
    expect(await gpu('GatherElements', { x, i: i32([2, 2], [7, -9, 3, 0]) }, { axis: 1 })).toEqual([3, 1, 6, 4]);
    expect(await gpu('GatherND', { x, i: i32([3, 2], [5, 1, -7, 9, 1, -1]) }, {})).toEqual([5, 3, 6]);
  });

  it('scatters skip updates whose index is out of range', async () => {
    const u = makeTensor('f32', [2, 2], [10, 20, 30, 40]);
    expect(await gpu('ScatterElements', { x, i: i32([2, 2], [3, -4, 2, 1]), u }, { axis: 1 })).toEqual([1, 2, 3, 4, 40, 30]);
    expect(await gpu('ScatterND', { x, i: i32([2, 2], [2, 0, 1, -1]), u: makeTensor('f32', [2], [7, 8]) }, { reduction: 'add' })).toEqual([1, 2, 3, 4, 5, 14]);
  });

  it('a linear TensorScatter drops rows past the cache; ReverseSequence clamps lengths', async () => {
    const cache = makeTensor('f32', [2, 3, 1], [0, 0, 0, 0, 0, 0]);
    const upd = makeTensor('f32', [2, 2, 1], [1, 2, 3, 4]);
    expect(await gpu('TensorScatter', { cache, upd, w: i32([2], [2, -1]) }, { axis: 1 })).toEqual([0, 0, 1, 4, 0, 0]);
    expect(await gpu('ReverseSequence', { x, l: i32([2], [9, -2]) }, { batch_axis: 0, time_axis: 1 })).toEqual([3, 2, 1, 4, 5, 6]);
  });
});
