// GatherElements, GatherND, ScatterElements, ScatterND and TensorScatter: the ONNX examples and hand-computed
// cases (negative indices, batch dims, every reduction, duplicate indices in ONNX's order, integer wrap-around),
// the one-line errors for out-of-range indices, and the shape checks of inference.
import { describe, expect, it } from 'vitest';
import { type Tensor, makeTensor, tensorType } from '../../ir/index.js';
import { infer, run } from './op-harness.js';

const f32 = (shape: number[], v: number[]): Tensor => makeTensor('f32', shape, v);
const i32 = (shape: number[], v: number[]): Tensor => makeTensor('i32', shape, v);
const values = (t: Tensor): number[] => [...t.data];
const m33 = f32([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);

describe('GatherElements', () => {
  it('ONNX examples along either axis, with negative indices', () => {
    expect(values(run('GatherElements', [f32([2, 2], [1, 2, 3, 4]), i32([2, 2], [0, 0, 1, 0])], { axis: 1 }))).toEqual([1, 1, 4, 3]);
    expect(values(run('GatherElements', [m33, i32([2, 3], [1, 2, 0, 2, 0, 0])], { axis: 0 }))).toEqual([4, 8, 3, 7, 2, 3]);
    expect(values(run('GatherElements', [m33, i32([2, 3], [-1, -2, 0, -2, 0, 0])], { axis: 0 }))).toEqual([7, 5, 3, 4, 2, 3]);
  });

  it('indices smaller than data off the axis pick from the leading corner', () => {
    expect(values(run('GatherElements', [m33, i32([2, 1], [2, -3])], { axis: 1 }))).toEqual([3, 4]);
  });

  it('names an out-of-range index and where it is', () => {
    expect(() => run('GatherElements', [f32([2, 2], [1, 2, 3, 4]), i32([2, 2], [0, 2, 1, 0])], { axis: 1 })).toThrow(
      'GatherElements: index 2 at indices position [0,1] (axis 1) is out of range for an axis of size 2 (expected -2..1)',
    );
  });

  it('checks ranks, extents and the index dtype', () => {
    expect(infer('GatherElements', [tensorType('f16', [3, 'n']), tensorType('i64', [5, 'n'])], { axis: 0 })).toEqual([tensorType('f16', [5, 'n'])]);
    expect(() => infer('GatherElements', [tensorType('f32', [3, 3]), tensorType('i32', [3])])).toThrow('must have the rank of data');
    expect(() => infer('GatherElements', [tensorType('f32', [3, 3]), tensorType('i32', [2, 4])])).toThrow('indices are larger than data along axis 1 (4 > 3)');
    expect(() => infer('GatherElements', [tensorType('f32', [3]), tensorType('f32', [3])])).toThrow('GatherElements: indices must be i32 or i64, got f32');
  });
});

describe('GatherND', () => {
  const d222 = f32([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]);

  it('ONNX examples: elements, rows, slices and nested index rows', () => {
    expect(values(run('GatherND', [f32([2, 2], [0, 1, 2, 3]), i32([2, 2], [0, 0, 1, 1])]))).toEqual([0, 3]);
    expect(values(run('GatherND', [f32([2, 2], [0, 1, 2, 3]), i32([2, 1], [1, 0])]))).toEqual([2, 3, 0, 1]);
    expect(values(run('GatherND', [d222, i32([2, 2], [0, 1, 1, 0])]))).toEqual([2, 3, 4, 5]);
    const nested = run('GatherND', [d222, i32([2, 1, 2], [0, 1, 1, 0])]);
    expect(nested.shape).toEqual([2, 1, 2]);
    expect(values(nested)).toEqual([2, 3, 4, 5]);
  });

  it('batch_dims: each batch indexes its own block', () => {
    const out = run('GatherND', [d222, i32([2, 1], [1, 0])], { batch_dims: 1 });
    expect(out.shape).toEqual([2, 2]);
    expect(values(out)).toEqual([2, 3, 4, 5]);
    expect(values(run('GatherND', [d222, i32([2, 1, 2], [1, 0, 0, -1])], { batch_dims: 1 }))).toEqual([2, 5]);
  });

  it('negative components count from the end; out of range is named', () => {
    expect(values(run('GatherND', [f32([2, 2], [0, 1, 2, 3]), i32([1, 2], [-1, -2])]))).toEqual([2]);
    expect(() => run('GatherND', [f32([2, 2], [0, 1, 2, 3]), i32([1, 2], [0, 2])])).toThrow(
      'GatherND: index 2 (component 1 of indices row 0) is out of range for an axis of size 2 (expected -2..1)',
    );
  });

  it('checks depth and batch dims', () => {
    expect(infer('GatherND', [tensorType('f32', [4, 5, 6]), tensorType('i32', ['b', 2])])).toEqual([tensorType('f32', ['b', 6])]);
    expect(() => infer('GatherND', [tensorType('f32', [4, 5]), tensorType('i32', [2, 3])])).toThrow('rows of length 3 must address 1..2 axes');
    expect(() => infer('GatherND', [tensorType('f32', [4, 5]), tensorType('i32', [3, 1])], { batch_dims: 1 })).toThrow('batch dim 0 differs between data and indices (4 vs 3)');
    expect(() => infer('GatherND', [tensorType('f32', [4, 5]), tensorType('i32', [4, 'm'])])).toThrow('GatherND needs static shape: the index depth');
  });
});

describe('ScatterElements', () => {
  const row = f32([1, 5], [1, 2, 3, 4, 5]);
  const upd = f32([1, 2], [1.5, 2.5]);

  it('ONNX examples along either axis, with negative indices', () => {
    const data = f32([3, 3], new Array(9).fill(0));
    const out = run('ScatterElements', [data, i32([2, 3], [1, 0, 2, 0, 2, 1]), f32([2, 3], [1, 1.5, 1.25, 2, 2.5, 2.25])], { axis: 0 });
    expect(values(out)).toEqual([2, 1.5, 0, 1, 0, 2.25, 0, 2.5, 1.25]);
    expect(values(run('ScatterElements', [row, i32([1, 2], [1, 3]), upd], { axis: 1 }))).toEqual([1, 1.5, 3, 2.5, 5]);
    expect(values(run('ScatterElements', [row, i32([1, 2], [1, -3]), upd], { axis: 1 }))).toEqual([1, 1.5, 2.5, 4, 5]);
  });

  it('duplicate indices: the last update wins, reductions fold them all in order', () => {
    const dup = i32([1, 2], [1, 1]);
    const at1 = (reduction: string): number => run('ScatterElements', [row, dup, upd], { axis: 1, reduction }).data[1]!;
    expect(at1('none')).toBe(2.5);
    expect(at1('add')).toBe(6);
    expect(at1('mul')).toBe(7.5);
    expect(at1('max')).toBe(2.5);
    expect(at1('min')).toBe(1.5);
  });

  it('integer folds wrap as the dtype does; max and min propagate NaN', () => {
    const big = run('ScatterElements', [i32([1], [2 ** 20]), i32([2], [0, 0]), i32([2], [2 ** 11, 1])], { reduction: 'mul' });
    expect(values(big)).toEqual([-(2 ** 31)]);
    const nan = run('ScatterElements', [f32([2], [1, 2]), i32([1], [1]), f32([1], [NaN])], { reduction: 'max' });
    expect(values(nan)).toEqual([1, NaN]);
  });

  it('names an out-of-range index; checks reduction, dtypes and shapes', () => {
    expect(() => run('ScatterElements', [row, i32([1, 2], [1, 5]), upd], { axis: 1 })).toThrow(
      'ScatterElements: index 5 at indices position [0,1] (axis 1) is out of range for an axis of size 5 (expected -5..4)',
    );
    const t = (dt: 'f32' | 'bool', s: number[]) => tensorType(dt, s);
    expect(() => infer('ScatterElements', [t('f32', [3]), tensorType('i32', [2]), t('f32', [2])], { reduction: 'sum' })).toThrow("reduction must be one of none, add, mul, max, min, got 'sum'");
    expect(() => infer('ScatterElements', [t('bool', [3]), tensorType('i32', [2]), t('bool', [2])], { reduction: 'add' })).toThrow("reduction 'add' needs a numeric dtype, got bool");
    expect(() => infer('ScatterElements', [t('f32', [3]), tensorType('i32', [2]), t('f32', [3])])).toThrow('indices [2] and updates [3] must have one shape');
    expect(() => infer('ScatterElements', [t('f32', [3]), tensorType('i32', [2]), tensorType('f16', [2])])).toThrow('updates are f16 but data is f32');
  });
});

describe('ScatterND', () => {
  const v8 = f32([8], [1, 2, 3, 4, 5, 6, 7, 8]);

  it('ONNX examples: elements and whole slices', () => {
    expect(values(run('ScatterND', [v8, i32([4, 1], [4, 3, 1, 7]), f32([4], [9, 10, 11, 12])]))).toEqual([1, 11, 3, 10, 9, 6, 7, 12]);
    const d = f32([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(values(run('ScatterND', [d, i32([1, 1], [1]), f32([1, 2, 2], [8, 8, 9, 9])]))).toEqual([0, 1, 2, 3, 8, 8, 9, 9]);
    expect(values(run('ScatterND', [d, i32([1, 2], [-1, 0]), f32([1, 2], [8, 9])]))).toEqual([0, 1, 2, 3, 8, 9, 6, 7]);
  });

  it('every reduction, with duplicate rows folded in order', () => {
    const dup = i32([2, 1], [0, 0]);
    const at0 = (reduction: string): number => run('ScatterND', [v8, dup, f32([2], [5, 6])], { reduction }).data[0]!;
    expect([at0('none'), at0('add'), at0('mul'), at0('max'), at0('min')]).toEqual([6, 12, 30, 6, 1]);
    const m = run('ScatterND', [f32([2, 2], [1, 2, 3, 4]), i32([2, 2], [0, 0, 1, 1]), f32([2], [5, 1])], { reduction: 'max' });
    expect(values(m)).toEqual([5, 2, 3, 4]);
  });

  it('names an out-of-range row component and checks the update shape', () => {
    expect(() => run('ScatterND', [v8, i32([1, 1], [8]), f32([1], [0])])).toThrow('ScatterND: index 8 (component 0 of indices row 0) is out of range');
    expect(() => infer('ScatterND', [tensorType('f32', [4, 3]), tensorType('i32', [2, 1]), tensorType('f32', [2, 4])])).toThrow(
      'updates [2,4] must have shape [2,3]',
    );
  });
});

describe('TensorScatter', () => {
  const cache = f32([2, 1, 3, 2], new Array(12).fill(0));
  const update = f32([2, 1, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);

  it('linear: rows go after each batch write index (zero when absent)', () => {
    expect(values(run('TensorScatter', [cache, update, i32([2], [1, 0])]))).toEqual([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]);
    expect(values(run('TensorScatter', [cache, update]))).toEqual([1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 0]);
  });

  it('circular: rows wrap around the sequence axis, whatever the write index', () => {
    expect(values(run('TensorScatter', [cache, update, i32([2], [2, -1])], { mode: 'circular' }))).toEqual([3, 4, 0, 0, 1, 2, 7, 8, 0, 0, 5, 6]);
    const full = run('TensorScatter', [f32([1, 3, 1], [0, 0, 0]), f32([1, 3, 1], [1, 2, 3]), i32([1], [7])], { axis: 1, mode: 'circular' });
    expect(values(full)).toEqual([3, 1, 2]);
  });

  it('names a linear write past the cache; checks axis and shapes', () => {
    expect(() => run('TensorScatter', [cache, update, i32([2], [0, 2])])).toThrow('TensorScatter: write index 2 for batch 1 puts 2 rows past the 3 of the cache (linear mode)');
    expect(() => infer('TensorScatter', [tensorType('f32', [2, 3]), tensorType('f32', [2, 3])], { axis: 0 })).toThrow('is the batch axis');
    expect(() => infer('TensorScatter', [tensorType('f32', [2, 3, 4]), tensorType('f32', [2, 4, 4])])).toThrow('update has more rows than the cache along axis 1 (4 > 3)');
    expect(() => infer('TensorScatter', [tensorType('f32', [2, 3, 4]), tensorType('f32', [2, 1, 4]), tensorType('i32', [3])])).toThrow('write_indices has one entry per batch');
  });
});
