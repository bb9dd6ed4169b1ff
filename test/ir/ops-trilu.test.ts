// Trilu: shape and flag checks, the ONNX documentation examples (triu/tril with positive and negative k, a
// batch, bool), and the reconstruction property upper(k) + strictly-lower(k) = x.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Attrs,
  type DType,
  GraphBuilder,
  type Shape,
  type Tensor,
  type TensorType,
  interpret,
  makeTensor,
  tensorType,
  tensorsIdentical,
} from '../../ir/index.js';

function run(x: Tensor, attrs: Attrs = {}): Tensor {
  const b = new GraphBuilder();
  const y = b.op('Trilu', [b.input('x', tensorType(x.dtype, x.shape))], attrs);
  b.output(y);
  return interpret(b.build(), { x })[y]!;
}

function infer(dtype: DType, shape: Shape, attrs: Attrs = {}): TensorType {
  const b = new GraphBuilder();
  return b.typeOf(b.op('Trilu', [b.input('x', tensorType(dtype, shape))], attrs));
}

/** The ONNX documentation's 4x5 input. */
const X = makeTensor('f32', [4, 5], [4, 7, 3, 7, 9, 1, 2, 8, 6, 9, 9, 4, 0, 8, 7, 4, 3, 4, 2, 4]);
const rows = (t: Tensor): number[][] => {
  const cols = t.shape[t.shape.length - 1]!;
  return Array.from({ length: t.data.length / cols }, (_, r) => [...t.data.subarray(r * cols, (r + 1) * cols)]);
};

describe('Trilu inference', () => {
  it('keeps dtype and shape, symbolic batch dims included', () => {
    expect(infer('f32', [4, 5])).toEqual(tensorType('f32', [4, 5]));
    expect(infer('i8', ['b', 3, 3], { upper: 0, k: -1 })).toEqual(tensorType('i8', ['b', 3, 3]));
    expect(infer('bool', [2, 0, 3]).shape).toEqual([2, 0, 3]);
  });

  it('names what is wrong', () => {
    expect(() => infer('f32', [5])).toThrow('Trilu needs an input of rank >= 2 (a batch of matrices), got [5]');
    expect(() => infer('f32', [2, 2], { upper: 2 })).toThrow('Trilu: upper must be 0 or 1, got 2');
    expect(() => infer('f32', [2, 2], { k: 0.5 })).toThrow("attribute 'k' must be int");
  });
});

describe('Trilu reference (ONNX examples)', () => {
  it('upper triangle, k = 0, 1 and -1', () => {
    expect(rows(run(X))).toEqual([[4, 7, 3, 7, 9], [0, 2, 8, 6, 9], [0, 0, 0, 8, 7], [0, 0, 0, 2, 4]]);
    expect(rows(run(X, { k: 1 }))).toEqual([[0, 7, 3, 7, 9], [0, 0, 8, 6, 9], [0, 0, 0, 8, 7], [0, 0, 0, 0, 4]]);
    expect(rows(run(X, { k: -1 }))).toEqual([[4, 7, 3, 7, 9], [1, 2, 8, 6, 9], [0, 4, 0, 8, 7], [0, 0, 4, 2, 4]]);
  });

  it('lower triangle, k = 0, 2 and -1', () => {
    expect(rows(run(X, { upper: 0 }))).toEqual([[4, 0, 0, 0, 0], [1, 2, 0, 0, 0], [9, 4, 0, 0, 0], [4, 3, 4, 2, 0]]);
    expect(rows(run(X, { upper: 0, k: 2 }))).toEqual([[4, 7, 3, 0, 0], [1, 2, 8, 6, 0], [9, 4, 0, 8, 7], [4, 3, 4, 2, 4]]);
    expect(rows(run(X, { upper: 0, k: -1 }))).toEqual([[0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [9, 4, 0, 0, 0], [4, 3, 4, 0, 0]]);
  });

  it('k past the matrix keeps all or nothing', () => {
    expect([...run(X, { k: 6 }).data].every((v) => v === 0)).toBe(true);
    expect(tensorsIdentical(run(X, { k: -4 }), X)).toBe(true);
    expect(tensorsIdentical(run(X, { upper: 0, k: 5 }), X)).toBe(true);
  });

  it('masks every matrix of a batch the same way, any dtype', () => {
    const batch = makeTensor('i32', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...run(batch).data]).toEqual([1, 2, 0, 4, 5, 6, 0, 8]);
    const bools = makeTensor('bool', [2, 3], [1, 1, 1, 1, 1, 1]);
    expect([...run(bools, { upper: 0 }).data]).toEqual([1, 0, 0, 1, 1, 0]);
  });
});

/** A batch of small matrices with integer entries. */
const arbMatrices = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }))
  .chain(([b, r, c]) => fc.array(fc.integer({ min: -50, max: 50 }), { minLength: b * r * c, maxLength: b * r * c }).map((v) => makeTensor('f32', [b, r, c], v)));

describe('Trilu properties', () => {
  it('upper(k) + lower(k-1) reconstructs the input', () => {
    fc.assert(
      fc.property(arbMatrices, fc.integer({ min: -6, max: 6 }), (x, k) => {
        const b = new GraphBuilder();
        const input = b.input('x', tensorType('f32', x.shape));
        const upper = b.op('Trilu', [input], { upper: 1, k });
        const strictlyLower = b.op('Trilu', [input], { upper: 0, k: k - 1 });
        const sum = b.op('Add', [upper, strictlyLower]);
        b.output(sum, upper);
        const out = interpret(b.build(), { x });
        expect(tensorsIdentical(out[sum]!, x)).toBe(true);
        // Applying the same mask twice changes nothing.
        expect(tensorsIdentical(run(out[upper]!, { upper: 1, k }), out[upper]!)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
