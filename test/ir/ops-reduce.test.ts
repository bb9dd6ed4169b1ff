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

/** Build a one-node graph through GraphBuilder and evaluate it with the interpreter. */
function run(op: string, x: Tensor, attrs: Attrs = {}): Tensor {
  const b = new GraphBuilder();
  const y = b.op(op, [b.input('x', tensorType(x.dtype, x.shape))], attrs);
  b.output(y);
  return interpret(b.build(), { x })[y]!;
}

function infer(op: string, dtype: DType, shape: Shape, attrs: Attrs = {}): TensorType {
  const b = new GraphBuilder();
  return b.typeOf(b.op(op, [b.input('x', tensorType(dtype, shape))], attrs));
}

const t = (dtype: DType, shape: readonly number[], values: readonly number[]): Tensor => makeTensor(dtype, shape, values);
const values = (x: Tensor): number[] => [...x.data];
const m23 = t('f32', [2, 3], [1, 2, 3, 4, 5, 6]);

describe('reduction type inference', () => {
  it('reduces all axes by default, keeping dims unless keepdims=0', () => {
    expect(infer('ReduceSum', 'f32', [2, 3, 4]).shape).toEqual([1, 1, 1]);
    expect(infer('ReduceSum', 'f32', [2, 3, 4], { keepdims: 0 }).shape).toEqual([]);
    expect(infer('ReduceMax', 'i8', [2, 3, 4], { axes: [] }).shape).toEqual([1, 1, 1]);
  });

  it('handles explicit, negative and symbolic axes', () => {
    expect(infer('ReduceMean', 'f32', [2, 3, 4], { axes: [-1], keepdims: 0 }).shape).toEqual([2, 3]);
    expect(infer('ReduceMean', 'f32', [2, 3, 4], { axes: [2, 0] }).shape).toEqual([1, 3, 1]);
    expect(infer('ReduceSum', 'f16', ['b', 's', 8], { axes: [-1] })).toMatchObject({ dtype: 'f16', shape: ['b', 's', 1] });
    expect(infer('ReduceSum', 'f32', ['b', 's', 8], { axes: [1], keepdims: 0 }).shape).toEqual(['b', 8]);
    expect(infer('ReduceMax', 'f32', ['b', 's'], { keepdims: 0 }).shape).toEqual([]);
  });

  it('is the identity with empty axes and noop_with_empty_axes=1', () => {
    expect(infer('ReduceSum', 'f32', [2, 'n'], { noop_with_empty_axes: 1 }).shape).toEqual([2, 'n']);
    expect(infer('ReduceSum', 'f32', [2, 3], { noop_with_empty_axes: 1, axes: [1] }).shape).toEqual([2, 1]);
    expect(values(run('ReduceSum', m23, { noop_with_empty_axes: 1, keepdims: 0 }))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('names bad axes, flags and dtypes', () => {
    expect(() => infer('ReduceSum', 'f32', [2, 3, 4], { axes: [3] })).toThrow('ReduceSum: axes 3 is out of range for rank 3 (expected -3..2)');
    expect(() => infer('ReduceSum', 'f32', [2, 3, 4], { axes: [1, -2] })).toThrow('ReduceSum: axes [1,-2] names axis 1 twice');
    expect(() => infer('ReduceMean', 'f32', [2], { keepdims: 2 })).toThrow('ReduceMean: keepdims must be 0 or 1, got 2');
    expect(() => infer('ReduceMax', 'bool', [2])).toThrow('ReduceMax needs a float or int input, got bool');
    expect(() => infer('ReduceSum', 'f32', [2], { axes: [0.5] })).toThrow("attribute 'axes' must be ints");
  });
});

describe('reduction reference semantics', () => {
  it('ReduceSum, ReduceMean and ReduceMax along axes', () => {
    expect(values(run('ReduceSum', m23, { axes: [1] }))).toEqual([6, 15]);
    expect(values(run('ReduceSum', m23, { axes: [0], keepdims: 0 }))).toEqual([5, 7, 9]);
    expect(values(run('ReduceMax', m23, { axes: [-2] }))).toEqual([4, 5, 6]);
    expect(values(run('ReduceSum', m23))).toEqual([21]);
  });

  it('ReduceMean keepdims 0/1 and negative axes', () => {
    const keep = run('ReduceMean', m23, { axes: [-1] });
    expect(keep.shape).toEqual([2, 1]);
    expect(values(keep)).toEqual([2, 5]);
    const drop = run('ReduceMean', m23, { axes: [-1], keepdims: 0 });
    expect(drop.shape).toEqual([2]);
    expect(values(drop)).toEqual([2, 5]);
    const x = t('f32', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(values(run('ReduceMean', x, { axes: [-3, -1], keepdims: 0 }))).toEqual([3.5, 5.5]);
    expect(run('ReduceMean', x, { axes: [0, 2] }).shape).toEqual([1, 2, 1]);
  });

  it('integer reductions: mean truncates, sums wrap once at the end', () => {
    expect(values(run('ReduceMean', t('i32', [4], [1, 2, -3, -4])))).toEqual([-1]); // -1 exactly
    expect(values(run('ReduceMean', t('i32', [2], [1, 2])))).toEqual([1]); // 1.5 -> 1
    expect(values(run('ReduceSum', t('i8', [3], [100, 100, -100])))).toEqual([100]);
    expect(values(run('ReduceSum', t('i8', [2], [100, 100])))).toEqual([-56]);
  });

  it('over an empty axis: sum 0, max -inf (int: the minimum), mean NaN', () => {
    const empty = t('f32', [2, 0], []);
    expect(values(run('ReduceSum', empty, { axes: [1] }))).toEqual([0, 0]);
    expect(values(run('ReduceMax', empty, { axes: [1] }))).toEqual([-Infinity, -Infinity]);
    expect(values(run('ReduceMean', empty, { axes: [1] }))).toEqual([NaN, NaN]);
    expect(values(run('ReduceMax', t('i32', [0], []), { keepdims: 0 }))).toEqual([-(2 ** 31)]);
    // A zero-size kept axis gives an empty result.
    expect(run('ReduceSum', empty, { axes: [0] }).shape).toEqual([1, 0]);
  });

  it('ReduceMax propagates NaN', () => {
    expect(values(run('ReduceMax', t('f32', [3], [1, NaN, 2])))).toEqual([NaN]);
  });
});

describe('ArgMax', () => {
  const x = t('f32', [2, 3], [1, 3, 3, 5, 2, 5]);

  it('infers i32 with keepdims and a normalised axis', () => {
    expect(infer('ArgMax', 'f32', [2, 3])).toMatchObject({ dtype: 'i32', shape: [1, 3] });
    expect(infer('ArgMax', 'f16', ['b', 7], { axis: -1, keepdims: 0 })).toMatchObject({ dtype: 'i32', shape: ['b'] });
    expect(infer('ArgMax', 'u4', ['b', 7], { axis: 0 }).shape).toEqual([1, 7]);
    expect(() => infer('ArgMax', 'f32', [2, 3], { axis: 2 })).toThrow('ArgMax: axis 2 is out of range for rank 2 (expected -2..1)');
    expect(() => infer('ArgMax', 'f32', [])).toThrow('ArgMax: axis 0 is out of range for rank 0 (expected none, the input is a scalar)');
    expect(() => infer('ArgMax', 'f32', [2, 0], { axis: 1 })).toThrow('ArgMax: axis 1 of shape [2,0] is empty');
    expect(() => infer('ArgMax', 'bool', [2])).toThrow('ArgMax needs a float or int input, got bool');
    expect(() => infer('ArgMax', 'f32', [2], { select_last_index: 3 })).toThrow('select_last_index must be 0 or 1, got 3');
  });

  it('picks the first maximum, or the last with select_last_index', () => {
    const first = run('ArgMax', x, { axis: 1 });
    expect(first).toMatchObject({ dtype: 'i32', shape: [2, 1] });
    expect(values(first)).toEqual([1, 0]);
    expect(values(run('ArgMax', x, { axis: -1, select_last_index: 1, keepdims: 0 }))).toEqual([2, 2]);
    expect(values(run('ArgMax', x))).toEqual([1, 0, 1]);
    expect(values(run('ArgMax', t('i8', [4], [-3, -1, -1, -2]), { select_last_index: 1 }))).toEqual([2]);
  });

  it('treats NaN as the largest value, agreeing with ReduceMax', () => {
    expect(values(run('ArgMax', t('f32', [4], [1, NaN, 5, NaN])))).toEqual([1]);
    expect(values(run('ArgMax', t('f32', [4], [1, NaN, 5, NaN]), { select_last_index: 1 }))).toEqual([3]);
  });
});

/** A static shape of rank 1..3 with dims 1..4, and integer data small enough that float sums are exact. */
const intTensor = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
  .chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: n, maxLength: n }).map((v) => makeTensor('f32', shape, v));
  });

describe('reduction properties', () => {
  it('ReduceSum over all axes equals the sum of the data', () => {
    fc.assert(
      fc.property(intTensor, (x) => {
        const sum = [...x.data].reduce((a, b) => a + b, 0);
        expect(values(run('ReduceSum', x, { keepdims: 0 }))).toEqual([sum]);
      }),
      { numRuns: 80 },
    );
  });

  it('reducing axes one at a time equals reducing them together', () => {
    fc.assert(
      fc.property(intTensor, (x) => {
        let step = x;
        for (let i = 0; i < x.shape.length; i++) step = run('ReduceSum', step, { axes: [0], keepdims: 0 });
        const all = run('ReduceSum', x, { axes: x.shape.map((_, i) => i), keepdims: 0 });
        expect(tensorsIdentical(step, all)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('ArgMax along the last axis indexes an element equal to ReduceMax', () => {
    fc.assert(
      fc.property(intTensor, fc.boolean(), (x, last) => {
        const idx = run('ArgMax', x, { axis: -1, keepdims: 0, select_last_index: last ? 1 : 0 });
        const max = run('ReduceMax', x, { axes: [-1], keepdims: 0 });
        const len = x.shape[x.shape.length - 1]!;
        idx.data.forEach((k, row) => {
          expect(x.data[row * len + k]).toBe(max.data[row]);
          // No equal element before it (first) or after it (last).
          const others = last ? x.data.slice(row * len + k + 1, (row + 1) * len) : x.data.slice(row * len, row * len + k);
          expect(others.includes(max.data[row]!)).toBe(false);
        });
      }),
      { numRuns: 60 },
    );
  });
});
