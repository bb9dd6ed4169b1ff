// SparseMatMul: y = x . A^T + bias with A given as Tiled-CSL. The reference must equal the product computed
// directly from the dense A (as the format stores it) for random shapes with batch dims, both value types and
// both x dtypes; and inference must name every malformed operand or attribute.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Attrs,
  type DType,
  GraphBuilder,
  type Shape,
  type Tensor,
  type TiledCsl,
  encodeTiledCsl,
  interpret,
  makeTensor,
  tensorType,
  tensorsIdentical,
} from '../../ir/index.js';
import { infer, run } from './op-harness.js';
import { arbTileParams, randomMatrix, seededRandom, storedValue } from './tiled-csl-matrices.js';

const u32 = (values: Uint32Array): Tensor => makeTensor('u32', [values.length], values);

/** The op's operands and attributes for an encoded weight. */
function operands(csl: TiledCsl, x: Tensor, bias?: Tensor): { inputs: (Tensor | undefined)[]; attrs: Attrs } {
  const { tileM, tileK, values } = csl.params;
  return {
    inputs: [x, u32(csl.items), u32(csl.offsets), bias],
    attrs: { m: csl.m, k: csl.k, tile_m: tileM, tile_k: tileK, values },
  };
}

/** x . A^T + bias straight from the definition, over A as stored, in float64, rounded once to x's dtype. */
function denseProduct(x: Tensor, a: Float64Array, m: number, k: number, valueType: 'f16' | 'f32', bias?: Tensor): Tensor {
  const rows = x.data.length / k;
  const y = new Float64Array(rows * m);
  for (let b = 0; b < rows; b++)
    for (let o = 0; o < m; o++) {
      let acc = 0;
      for (let c = 0; c < k; c++) acc += x.data[b * k + c]! * storedValue(a[o * k + c]!, valueType);
      y[b * m + o] = acc + (bias ? bias.data[o]! : 0);
    }
  return makeTensor(x.dtype, [...x.shape.slice(0, -1), m], y);
}

const arbProductCase = arbTileParams.chain((params) =>
  fc.record({
    params: fc.constant(params),
    m: fc.integer({ min: 1, max: Math.min(2 * params.tileM + 3, 70) }),
    k: fc.integer({ min: 1, max: Math.min(2 * params.tileK + 3, 140) }),
    batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
    xType: fc.constantFrom<DType>('f32', 'f16'),
    withBias: fc.boolean(),
    sparsity: fc.constantFrom(0, 0.5, 0.9, 1),
    seed: fc.integer(),
  }),
);

describe('SparseMatMul reference', () => {
  it('equals x . A^T (+ bias) computed from the dense A, for random shapes with batch dims', () => {
    fc.assert(
      fc.property(arbProductCase, ({ params, m, k, batch, xType, withBias, sparsity, seed }) => {
        // No edge values in A: an infinity times a zero of x is NaN either way, but makes failures unreadable.
        const a = randomMatrix(m, k, sparsity, seed, 0);
        const rand = seededRandom(seed ^ 0x5bd1e995);
        const x = makeTensor(xType, [...batch, k], () => (rand() - 0.5) * 4);
        const bias = withBias ? makeTensor(xType, [m], () => rand() - 0.5) : undefined;
        const csl = encodeTiledCsl(a, m, k, params);
        const { inputs, attrs } = operands(csl, x, bias);
        const y = run('SparseMatMul', inputs, attrs);
        const want = denseProduct(x, a, m, k, params.values, bias);
        if (!tensorsIdentical(y, want)) expect({ shape: y.shape, data: [...y.data] }).toEqual({ shape: want.shape, data: [...want.data] });
      }),
      { numRuns: 150 },
    );
  });

  it('uses the values as stored: f16 rounding of A shows in an f32 product', () => {
    // Row 0 holds 1 + 2^-11, which f16 rounds to 1; row 1 holds 2^-26, which f16 rounds to 0 (dropped).
    const a = [1 + 2 ** -11, 0, 0, 2 ** -26];
    const x = makeTensor('f32', [2], [1, 1]);
    const product = (values: 'f16' | 'f32'): number[] => {
      const { inputs, attrs } = operands(encodeTiledCsl(a, 2, 2, { tileM: 2, tileK: 8, values }), x);
      return [...run('SparseMatMul', inputs, attrs).data];
    };
    expect(product('f16')).toEqual([1, 0]);
    expect(product('f32')).toEqual([1 + 2 ** -11, 2 ** -26]);
  });

  it('multiplies the zeros too, as the dense product does: an infinite x gives NaN where A is 0', () => {
    const csl = encodeTiledCsl([1, 0, 0, 2], 2, 2, { tileM: 1, tileK: 8, values: 'f32' });
    const { inputs, attrs } = operands(csl, makeTensor('f32', [2], [Infinity, 1]));
    expect([...run('SparseMatMul', inputs, attrs).data]).toEqual([Infinity, NaN]);
  });

  it('runs in the interpreter, kernel hints ignored', () => {
    const a = randomMatrix(20, 33, 0.7, 5, 0);
    const csl = encodeTiledCsl(a, 20, 33, { tileM: 8, tileK: 16, values: 'f16' });
    const x = makeTensor('f16', [2, 33], (i) => (i % 7) - 3);
    const b = new GraphBuilder();
    const xName = b.input('x', tensorType('f16', ['n', 33]));
    const y = b.op('SparseMatMul', [xName, b.constant(u32(csl.items)), b.constant(u32(csl.offsets))], {
      m: 20,
      k: 33,
      tile_m: 8,
      tile_k: 16,
      values: 'f16',
      variant: 'scatter',
      split_k: 3,
    });
    b.output(y);
    expect(b.typeOf(y)).toEqual(tensorType('f16', ['n', 20]));
    const out = interpret(b.build(), { x })[y]!;
    expect(tensorsIdentical(out, denseProduct(x, a, 20, 33, 'f16'))).toBe(true);
  });

  it('refuses a malformed encoding instead of reading out of bounds', () => {
    const csl = encodeTiledCsl(randomMatrix(4, 8, 0.5, 1, 0), 4, 8, { tileM: 2, tileK: 8, values: 'f16' });
    // Shapes still infer (2 tiles, 4 offsets; whole vectors of items), but the offsets run past the items.
    const offsets = Uint32Array.from([0, 1, 100, 100]);
    const { inputs, attrs } = operands({ ...csl, offsets }, makeTensor('f32', [8], () => 1));
    expect(() => run('SparseMatMul', inputs, attrs)).toThrow(
      `SparseMatMul: the encoded weight is malformed: items has ${csl.items.length} words, but the offsets end at 400 entries`,
    );
  });
});

describe('SparseMatMul inference', () => {
  // A 6 x 20 weight in 4 x 8 tiles: 2 x 3 = 6 tiles, so offsets has 8 elements.
  const base: Attrs = { m: 6, k: 20, tile_m: 4, tile_k: 8, values: 'f16' };
  const t = (dtype: DType, shape: Shape) => tensorType(dtype, shape);
  const types = (over: { x?: [DType, Shape]; items?: [DType, Shape]; offsets?: [DType, Shape]; bias?: [DType, Shape] } = {}) => {
    const x = over.x ?? ['f32', ['n', 3, 20]];
    const items = over.items ?? ['u32', [24]];
    const offsets = over.offsets ?? ['u32', [8]];
    return [t(...x), t(...items), t(...offsets), over.bias && t(...over.bias)];
  };
  const sparseInfer = (over: Parameters<typeof types>[0] = {}, attrs: Attrs = {}) => () => infer('SparseMatMul', types(over), { ...base, ...attrs });

  it('maps [..., k] to [..., m] in x dtype', () => {
    expect(sparseInfer()()).toEqual([t('f32', ['n', 3, 6])]);
    expect(sparseInfer({ x: ['f16', [20]], bias: ['f16', [6]] })()).toEqual([t('f16', [6])]);
    expect(sparseInfer({ items: ['u32', [48]] }, { values: 'f32' })()).toEqual([t('f32', ['n', 3, 6])]);
    expect(sparseInfer({ items: ['u32', [0]] })()).toEqual([t('f32', ['n', 3, 6])]);
  });

  it('names what is wrong with x and bias', () => {
    expect(sparseInfer({ x: ['bf16', [20]] })).toThrow('SparseMatMul: x must be f32 or f16, got bf16');
    expect(sparseInfer({ x: ['i32', [20]] })).toThrow('SparseMatMul: x must be f32 or f16, got i32');
    expect(sparseInfer({ x: ['f32', [20, 6]] })).toThrow("SparseMatMul: x's last dim must be k = 20, got x [20,6]");
    expect(sparseInfer({ x: ['f32', ['k']] })).toThrow("SparseMatMul: x's last dim must be k = 20, got x [k]");
    expect(sparseInfer({ x: ['f32', []] })).toThrow("SparseMatMul: x's last dim must be k = 20, got x []");
    expect(sparseInfer({ bias: ['f32', [20]] })).toThrow('SparseMatMul: bias must be [6], got [20]');
    expect(sparseInfer({ bias: ['f32', [1, 6]] })).toThrow('SparseMatMul: bias must be [6], got [1,6]');
    expect(sparseInfer({ bias: ['f16', [6]] })).toThrow("SparseMatMul: bias must have x's dtype f32, got f16");
  });

  it('names what is wrong with items and offsets', () => {
    expect(sparseInfer({ offsets: ['u32', [7]] })).toThrow(
      'SparseMatMul: offsets must have tiles + 2 = 8 elements for a 6x20 matrix in 4x8 tiles, got 7',
    );
    expect(sparseInfer({ offsets: ['i32', [8]] })).toThrow('SparseMatMul: offsets must be a 1-D u32 tensor, got i32[8]');
    expect(sparseInfer({ offsets: ['u32', [2, 4]] })).toThrow('SparseMatMul: offsets must be a 1-D u32 tensor, got u32[2,4]');
    expect(sparseInfer({ items: ['f32', [24]] })).toThrow('SparseMatMul: items must be a 1-D u32 tensor, got f32[24]');
    expect(sparseInfer({ items: ['u32', ['e']] })).toThrow('SparseMatMul needs static shape: items is [e]');
    expect(sparseInfer({ items: ['u32', [22]] })).toThrow('SparseMatMul: items must be a whole number of 4-entry vectors (4 words with f16 values), got 22 words');
    expect(sparseInfer({ items: ['u32', [20]] }, { values: 'f32' })).toThrow('(8 words with f32 values), got 20 words');
  });

  it('names what is wrong with the attributes', () => {
    expect(sparseInfer({}, { tile_k: 12 })).toThrow('SparseMatMul: tile_k must be a power of two in 8..256, got 12');
    expect(sparseInfer({}, { tile_m: 0 })).toThrow('SparseMatMul: tile_m must be an integer >= 1, got 0');
    expect(sparseInfer({}, { tile_m: 512, tile_k: 256 })).toThrow('SparseMatMul: tile_m*tile_k must be at most 65536');
    expect(sparseInfer({}, { values: 'bf16' })).toThrow("SparseMatMul: values must be 'f16' or 'f32', got 'bf16'");
    expect(sparseInfer({}, { m: -1 })).toThrow('SparseMatMul: m must be a non-negative integer, got -1');
    expect(sparseInfer({}, { variant: 'dense' })).toThrow("SparseMatMul: variant must be one of auto, direct, scatter, got 'dense'");
    expect(sparseInfer({}, { split_k: -2 })).toThrow('SparseMatMul: split_k must be >= 0 (0 lets the compiler choose), got -2');
    expect(() => infer('SparseMatMul', types(), { m: 6, k: 20, tile_m: 4, values: 'f16' })).toThrow("missing required attribute 'tile_k'");
    expect(() => infer('SparseMatMul', types().slice(0, 2), base)).toThrow('SparseMatMul takes 3 to 4 inputs, got 2');
  });
});
