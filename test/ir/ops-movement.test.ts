// Movement ops (Reshape, Flatten, Squeeze, Unsqueeze, Expand, Transpose, Concat, Split, Slice, Pad, Gather):
// type inference with symbolic dims, error messages, hand-computed reference values, and round-trip
// properties (Transpose/inverse, Concat/Split, Reshape keeps element order).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Attrs,
  type DType,
  GraphBuilder,
  type Shape,
  type Tensor,
  interpret,
  makeTensor,
  tensorType,
  tensorsIdentical,
} from '../../ir/index.js';
import { f32, infer, run, runAll } from './op-harness.js';

const INT64_MAX = 9223372036854775807;



const shapeOf = (op: string, shape: Shape, attrs: Attrs = {}): Shape => infer(op, [tensorType('f32', shape)], attrs)[0]!.shape;


const values = (t: Tensor): number[] => Array.from(t.data);
const iota = (shape: number[], dtype: DType = 'f32') => makeTensor(dtype, shape, (i) => i);

describe('Reshape', () => {
  it('copies dims for 0 and infers one -1', () => {
    expect(shapeOf('Reshape', [2, 3, 4], { shape: [0, -1] })).toEqual([2, 12]);
    expect(shapeOf('Reshape', [2, 3, 4], { shape: [4, -1, 2] })).toEqual([4, 3, 2]);
    expect(shapeOf('Reshape', [2, 3, 4], { shape: [24] })).toEqual([24]);
    expect(shapeOf('Reshape', [1], { shape: [] })).toEqual([]);
    expect(shapeOf('Reshape', [0, 3], { shape: [0, 3], allowzero: 1 })).toEqual([0, 3]);
    expect(shapeOf('Reshape', [2, 0, 3], { shape: [0, 0, 7], allowzero: 1 })).toEqual([0, 0, 7]);
  });

  it('matches symbolic dims by name', () => {
    expect(shapeOf('Reshape', ['b', 4, 8], { shape: [0, -1] })).toEqual(['b', 32]);
    expect(shapeOf('Reshape', [2, 'b', 2], { shape: [-1, 4] })).toEqual(['b', 4]);
    expect(shapeOf('Reshape', ['b', 's', 12], { shape: [0, 0, 3, 4] })).toEqual(['b', 's', 3, 4]);
    expect(shapeOf('Reshape', ['b', 's', 12], { shape: [0, 0, -1] })).toEqual(['b', 's', 12]);
    expect(shapeOf('Reshape', ['b', 12], { shape: [0, -1, 4] })).toEqual(['b', 3, 4]);
    expect(shapeOf('Reshape', ['b', 's', 4], { shape: [-1, 0, 2, 2] })).toEqual(['b', 's', 2, 2]);
  });

  it('names what is wrong', () => {
    expect(() => shapeOf('Reshape', [2, 3], { shape: [4, 2] })).toThrow('Reshape: cannot reshape [2,3] to [4,2]: element counts differ (6 vs 8)');
    expect(() => shapeOf('Reshape', [2, 3], { shape: [-1, -1] })).toThrow('more than one -1');
    expect(() => shapeOf('Reshape', [2, 3], { shape: [4, -1] })).toThrow('6 elements are not a multiple of 4');
    expect(() => shapeOf('Reshape', [2, 3], { shape: [-2, 3] })).toThrow('-2 is not a dim');
    expect(() => shapeOf('Reshape', [6], { shape: [0, 0] })).toThrow('0 at position 1 copies an input dim, but the input has rank 1');
    // Symbolic element counts are polynomials: the -1 is solved exactly, mismatches are refused.
    expect(shapeOf('Reshape', ['b', 3], { shape: [-1] })).toEqual(['3*b']);
    expect(shapeOf('Reshape', ['b', 4], { shape: [-1, 2] })).toEqual(['2*b', 2]);
    expect(shapeOf('Reshape', ['b', 's', 4], { shape: ['b*s', -1] })).toEqual(['b*s', 4]);
    expect(shapeOf('Reshape', ['b', 's', 4], { shape: [-1, 's', 2] })).toEqual(['2*b', 's', 2]);
    expect(() => shapeOf('Reshape', ['b', 3], { shape: [3, 2] })).toThrow('element counts differ (3*b vs 6)');
    expect(() => shapeOf('Reshape', ['b', 3], { shape: [0, 4] })).toThrow('element counts differ (3*b vs 4*b)');
    expect(() => shapeOf('Reshape', ['b', 3], { shape: [-1, 2] })).toThrow('3*b elements do not divide by 2 for every value of the symbols');
  });

  it('keeps the row-major element order', () => {
    const factorisations = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((dims) =>
      fc.tuple(fc.constant(dims), fc.shuffledSubarray(dims, { minLength: dims.length, maxLength: dims.length })),
    );
    fc.assert(
      fc.property(factorisations, ([from, to]) => {
        const x = iota(from);
        const y = run('Reshape', [x], { shape: to });
        expect(y.shape).toEqual(to);
        expect(values(y)).toEqual(values(x));
      }),
    );
  });
});

describe('Flatten, Squeeze, Unsqueeze', () => {
  it('flattens around an axis', () => {
    expect(shapeOf('Flatten', [2, 3, 4])).toEqual([2, 12]);
    expect(shapeOf('Flatten', [2, 3, 4], { axis: 0 })).toEqual([1, 24]);
    expect(shapeOf('Flatten', [2, 3, 4], { axis: 3 })).toEqual([24, 1]);
    expect(shapeOf('Flatten', [2, 3, 4], { axis: -1 })).toEqual([6, 4]);
    expect(shapeOf('Flatten', ['b', 3, 4])).toEqual(['b', 12]);
    expect(shapeOf('Flatten', [1, 'b', 3], { axis: 2 })).toEqual(['b', 3]);
    expect(shapeOf('Flatten', ['b', 3], { axis: 0 })).toEqual([1, '3*b']);
    expect(shapeOf('Flatten', ['b', 's', 3], { axis: 2 })).toEqual(['b*s', 3]);
    expect(() => shapeOf('Flatten', [2, 3], { axis: 3 })).toThrow('Flatten: axis 3 is out of range for rank 2');
    expect(values(run('Flatten', [iota([2, 2, 2])]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('squeezes 1-dims', () => {
    expect(shapeOf('Squeeze', [1, 3, 1, 2])).toEqual([3, 2]);
    expect(shapeOf('Squeeze', [1, 3, 1, 2], { axes: [-2] })).toEqual([1, 3, 2]);
    expect(shapeOf('Squeeze', ['b', 1, 3], { axes: [1] })).toEqual(['b', 3]);
    expect(() => shapeOf('Squeeze', [1, 3], { axes: [1] })).toThrow('Squeeze: axis 1 of [1,3] has size 3, expected 1');
    expect(() => shapeOf('Squeeze', ['b', 1])).toThrow('Squeeze needs static shape');
    expect(() => shapeOf('Squeeze', [1, 1], { axes: [0, -2] })).toThrow('names axis 0 twice');
  });

  it('unsqueezes at output positions', () => {
    expect(shapeOf('Unsqueeze', [3, 4], { axes: [0, -1] })).toEqual([1, 3, 4, 1]);
    expect(shapeOf('Unsqueeze', ['b', 4], { axes: [1] })).toEqual(['b', 1, 4]);
    expect(shapeOf('Unsqueeze', [], { axes: [0] })).toEqual([1]);
    expect(() => shapeOf('Unsqueeze', [3], { axes: [2] })).toThrow('Unsqueeze: axes 2 is out of range for rank 2');
    const y = run('Unsqueeze', [iota([2, 2])], { axes: [1] });
    expect([y.shape, values(y)]).toEqual([[2, 1, 2], [0, 1, 2, 3]]);
  });
});

describe('Expand', () => {
  it('broadcasts both ways', () => {
    expect(shapeOf('Expand', [3, 1], { shape: [2, 1, 4] })).toEqual([2, 3, 4]);
    expect(shapeOf('Expand', [2, 3], { shape: [1] })).toEqual([2, 3]);
    expect(shapeOf('Expand', ['n', 1], { shape: [1, 5] })).toEqual(['n', 5]);
    expect(() => shapeOf('Expand', [2, 3], { shape: [4] })).toThrow('Expand: cannot broadcast shapes [2,3] and [4]');
    // A negative dim broadcast against a 1 used to reach the reference as a negative length (npm run fuzz).
    expect(() => shapeOf('Expand', [1, 3], { shape: [-1, 1] })).toThrow('Expand: shape [-1,1] has a negative dim');
  });

  it('repeats elements', () => {
    expect(values(run('Expand', [f32([2, 1], [1, 2])], { shape: [2, 3] }))).toEqual([1, 1, 1, 2, 2, 2]);
    expect(values(run('Expand', [f32([3], [1, 2, 3])], { shape: [2, 1] }))).toEqual([1, 2, 3, 1, 2, 3]);
  });
});

describe('Transpose', () => {
  it('permutes dims, reversing them by default', () => {
    expect(shapeOf('Transpose', [2, 3, 4], { perm: [1, 0, 2] })).toEqual([3, 2, 4]);
    expect(shapeOf('Transpose', ['b', 3, 4])).toEqual([4, 3, 'b']);
    expect(() => shapeOf('Transpose', [2, 3], { perm: [0, 0] })).toThrow('Transpose: perm [0,0] is not a permutation of 0..1');
    expect(() => shapeOf('Transpose', [2, 3], { perm: [0] })).toThrow('is not a permutation');
  });

  it('moves elements', () => {
    expect(values(run('Transpose', [iota([2, 3])]))).toEqual([0, 3, 1, 4, 2, 5]);
    const y = run('Transpose', [iota([2, 3, 2])], { perm: [2, 0, 1] });
    expect(values(y)).toEqual([0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11]);
  });

  it('keeps any dtype, sub-byte and bool included', () => {
    const i4 = makeTensor('i4', [2, 2], [-8, 7, 3, -1]);
    expect(run('Transpose', [i4])).toEqual(makeTensor('i4', [2, 2], [-8, 3, 7, -1]));
    const bool = makeTensor('bool', [1, 3], [1, 0, 1]);
    expect(run('Transpose', [bool])).toEqual(makeTensor('bool', [3, 1], [1, 0, 1]));
  });

  it('undone by the inverse permutation', () => {
    const arb = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length })),
    );
    fc.assert(
      fc.property(arb, ([shape, perm]) => {
        const inverse = perm.map((_, i) => perm.indexOf(i));
        const g = new GraphBuilder();
        const x = g.input('x', tensorType('i32', shape));
        const y = g.op('Transpose', [g.op('Transpose', [x], { perm })], { perm: inverse });
        const input = iota(shape, 'i32');
        expect(tensorsIdentical(interpret(g.output(y).build(), { x: input })[y]!, input)).toBe(true);
      }),
    );
  });
});

describe('Concat and Split', () => {
  it('concatenates along an axis', () => {
    expect(infer('Concat', [tensorType('f32', [2, 1]), tensorType('f32', [2, 3])], { axis: 1 })[0]!.shape).toEqual([2, 4]);
    expect(infer('Concat', [tensorType('f32', ['b', 2]), tensorType('f32', ['b', 3])], { axis: -1 })[0]!.shape).toEqual(['b', 5]);
    expect(infer('Concat', [tensorType('f32', ['b', 2])], { axis: 0 })[0]!.shape).toEqual(['b', 2]);
    const y = run('Concat', [f32([2, 1], [1, 2]), f32([2, 2], [3, 4, 5, 6])], { axis: 1 });
    expect(values(y)).toEqual([1, 3, 4, 2, 5, 6]);
  });

  it('names what is wrong in Concat', () => {
    const t = (dt: DType, s: Shape) => tensorType(dt, s);
    // Along a symbolic axis the sizes add up symbolically (a KV cache's past + new).
    expect(infer('Concat', [t('f32', ['b', 2]), t('f32', [3, 2])], { axis: 0 })[0]!.shape).toEqual(['b+3', 2]);
    expect(infer('Concat', [t('f32', ['p', 2]), t('f32', ['s', 2])], { axis: 0 })[0]!.shape).toEqual(['p+s', 2]);
    expect(() => infer('Concat', [t('f32', [2]), t('f16', [2])], { axis: 0 })).toThrow('Concat: input 1 has dtype f16, input 0 has f32');
    expect(() => infer('Concat', [t('f32', [2, 2]), t('f32', [2, 3])], { axis: 0 })).toThrow(
      'Concat: input 1 [2,3] does not match input 0 [2,2] outside axis 0',
    );
    expect(() => infer('Concat', [t('f32', [2]), undefined], { axis: 0 })).toThrow('Concat: input 1 was omitted');
    expect(() => infer('Concat', [t('f32', [2])], { axis: 1 })).toThrow('Concat: axis 1 is out of range for rank 1');
  });

  it('splits by sizes or into num_outputs chunks, the last one smaller', () => {
    const shapes = (x: Shape, attrs: Attrs) => infer('Split', [tensorType('f32', x)], attrs).map((t) => t.shape);
    expect(shapes([3, 2], { split: [2, 1] })).toEqual([[2, 2], [1, 2]]);
    expect(shapes([7], { num_outputs: 3 })).toEqual([[3], [3], [1]]);
    expect(shapes(['b', 6], { axis: 1, num_outputs: 2 })).toEqual([['b', 3], ['b', 3]]);
    expect(shapes(['b'], { num_outputs: 1 })).toEqual([['b']]);
    const [a, b, c] = runAll('Split', [iota([2, 5])], { axis: 1, num_outputs: 3 });
    expect([values(a!), values(b!), values(c!)]).toEqual([[0, 1, 5, 6], [2, 3, 7, 8], [4, 9]]);
  });

  it('names what is wrong in Split', () => {
    const shapes = (x: Shape, attrs: Attrs) => infer('Split', [tensorType('f32', x)], attrs);
    expect(() => shapes([5], { split: [2, 2] })).toThrow('Split: split [2,2] must be sizes >= 0 that add up to the axis size 5');
    expect(() => shapes([5], { split: [5], num_outputs: 1 })).toThrow('Split: give either split or num_outputs, not both');
    expect(() => shapes([5], {})).toThrow('Split needs split (sizes) or num_outputs >= 1');
    expect(() => shapes([5], { num_outputs: 4 })).toThrow('Split: 5 cannot be cut into 4 chunks of 2 (the last would have -1)');
    expect(() => shapes(['b'], { num_outputs: 2 })).toThrow('Split needs static shape: axis 0 of [b] is symbolic');
  });

  it('Split undoes Concat', () => {
    const arb = fc.record({
      sizes: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
      rest: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
      axisSeed: fc.nat(),
    });
    fc.assert(
      fc.property(arb, ({ sizes, rest, axisSeed }) => {
        const axis = axisSeed % (rest.length + 1);
        const shapeWith = (s: number) => [...rest.slice(0, axis), s, ...rest.slice(axis)];
        const g = new GraphBuilder();
        const ins = sizes.map((s, k) => g.input(`x${k}`, tensorType('u8', shapeWith(s))));
        const joined = g.op('Concat', ins, { axis });
        const parts = g.node('Split', [joined], { axis, split: sizes });
        const bindings = Object.fromEntries(ins.map((name, k) => [name, makeTensor('u8', shapeWith(sizes[k]!), (i) => (i * 7 + k) % 256)]));
        const out = interpret(g.output(...parts).build(), bindings);
        parts.forEach((p, k) => expect(tensorsIdentical(out[p]!, bindings[ins[k]!]!)).toBe(true));
      }),
    );
  });
});

describe('Slice', () => {
  const x = iota([10]);
  const slice = (attrs: Attrs) => values(run('Slice', [x], attrs));

  it('clamps starts and ends like ONNX, INT_MAX and -INT_MAX included', () => {
    expect(slice({ starts: [2], ends: [INT64_MAX] })).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(slice({ starts: [-3], ends: [INT64_MAX] })).toEqual([7, 8, 9]);
    expect(slice({ starts: [-100], ends: [2] })).toEqual([0, 1]);
    expect(slice({ starts: [20], ends: [30] })).toEqual([]);
    expect(slice({ starts: [5], ends: [2] })).toEqual([]);
  });

  it('walks backwards with negative steps', () => {
    expect(slice({ starts: [-1], ends: [-INT64_MAX], steps: [-1] })).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(slice({ starts: [8], ends: [1], steps: [-3] })).toEqual([8, 5, 2]);
    expect(slice({ starts: [100], ends: [-100], steps: [-4] })).toEqual([9, 5, 1]);
    expect(slice({ starts: [2], ends: [5], steps: [-1] })).toEqual([]);
  });

  it('slices chosen axes of a matrix', () => {
    const m = iota([3, 4]);
    expect(values(run('Slice', [m], { starts: [0], ends: [INT64_MAX], axes: [-1], steps: [2] }))).toEqual([0, 2, 4, 6, 8, 10]);
    expect(values(run('Slice', [m], { starts: [2, 3], ends: [0, 0], axes: [0, 1], steps: [-2, -1] }))).toEqual([11, 10, 9]);
  });

  it('carries symbolic dims it does not cut', () => {
    expect(shapeOf('Slice', ['b', 10], { starts: [1], ends: [-1], axes: [1] })).toEqual(['b', 8]);
    expect(shapeOf('Slice', ['b', 10], { starts: [0], ends: [INT64_MAX], axes: [0] })).toEqual(['b', 10]);
    expect(() => shapeOf('Slice', ['b', 10], { starts: [1], ends: [3] })).toThrow('Slice needs static shape: axis 0 of [b,10] sliced 1:3:1 depends on clamping');
    // A symbolic end within a static axis (x[:, :seq]), or a static start to the end of a symbolic axis.
    expect(shapeOf('Slice', [1, 512], { starts: [0], ends: ['s'], axes: [1] })).toEqual([1, 's']);
    expect(shapeOf('Slice', ['s', 4], { starts: [1], ends: ['s'], axes: [0] })).toEqual(['s-1', 4]);
    expect(values(run('Slice', [iota([1, 6])], { starts: [1], ends: [4], axes: [1] }))).toEqual([1, 2, 3]);
  });

  it('names what is wrong', () => {
    expect(() => shapeOf('Slice', [4], { starts: [0], ends: [1], steps: [0] })).toThrow('Slice: steps entry 0 is 0');
    expect(() => shapeOf('Slice', [4], { starts: [0, 0], ends: [1] })).toThrow(
      'Slice: starts, ends, axes and steps must have the same length',
    );
    expect(() => shapeOf('Slice', [4, 4], { starts: [0, 0], ends: [1, 1], axes: [1, -1] })).toThrow('names axis 1 twice');
  });
});

describe('Pad', () => {
  const x = f32([3], [1, 2, 3]);
  const pad = (attrs: Attrs, input = x) => values(run('Pad', [input], attrs));

  it('fills by mode', () => {
    expect(pad({ pads: [2, 1], value: 9 })).toEqual([9, 9, 1, 2, 3, 9]);
    expect(pad({ pads: [2, 2], mode: 'reflect' })).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(pad({ pads: [2, 2], mode: 'edge' })).toEqual([1, 1, 1, 2, 3, 3, 3]);
    expect(pad({ pads: [2, 2], mode: 'wrap' })).toEqual([2, 3, 1, 2, 3, 1, 2]);
    // Past the first mirror image the reflection bounces again (numpy's behaviour).
    expect(pad({ pads: [5, 0], mode: 'reflect' })).toEqual([2, 1, 2, 3, 2, 1, 2, 3]);
  });

  it('crops with negative pads before filling', () => {
    expect(pad({ pads: [-1, 1] })).toEqual([2, 3, 0]);
    expect(pad({ pads: [-1, 2], mode: 'reflect' }, f32([4], [1, 2, 3, 4]))).toEqual([2, 3, 4, 3, 2]);
    expect(pad({ pads: [-3, 0] })).toEqual([]);
  });

  it('pads only the given axes of a matrix', () => {
    const m = f32([2, 2], [1, 2, 3, 4]);
    const y = run('Pad', [m], { pads: [1, 0], axes: [-1], mode: 'edge' });
    expect([y.shape, values(y)]).toEqual([[2, 3], [1, 1, 2, 3, 3, 4]]);
    const z = run('Pad', [m], { pads: [1, 0, 0, 1] });
    expect([z.shape, values(z)]).toEqual([[3, 3], [0, 0, 0, 1, 2, 0, 3, 4, 0]]);
  });

  it('rounds the fill value to the dtype and keeps symbolic dims it does not pad', () => {
    expect(values(run('Pad', [makeTensor('i32', [1], [5])], { pads: [1, 0], value: 2.7 }))).toEqual([2, 5]);
    expect(shapeOf('Pad', ['b', 3], { pads: [0, 1, 0, 1] })).toEqual(['b', 5]);
  });

  it('names what is wrong', () => {
    expect(() => shapeOf('Pad', [3], { pads: [1] })).toThrow('Pad: pads must have 2 entries per padded axis (2), got [1]');
    expect(() => shapeOf('Pad', [3], { pads: [1, 1], mode: 'symmetric' })).toThrow(
      "Pad: mode must be one of constant, reflect, edge, wrap, got 'symmetric'",
    );
    expect(() => shapeOf('Pad', [3], { pads: [-2, -2] })).toThrow('Pad: pads -2 and -2 crop more than the 3 elements of axis 0');
    expect(() => shapeOf('Pad', [0], { pads: [1, 1], mode: 'edge' })).toThrow('Pad: edge mode has no elements to copy from on axis 0');
    expect(() => shapeOf('Pad', ['b'], { pads: [1, 1] })).toThrow('Pad needs static shape: axis 0 of [b] is padded but symbolic');
  });
});

describe('Gather', () => {
  const idx = (shape: number[], v: number[], dt: DType = 'i32') => makeTensor(dt, shape, v);

  it('infers data[:axis] + indices + data[axis+1:]', () => {
    const t = infer('Gather', [tensorType('f16', ['n', 4, 5]), tensorType('i64', ['k', 2])], { axis: 1 })[0]!;
    expect(t).toEqual(tensorType('f16', ['n', 'k', 2, 5]));
    expect(infer('Gather', [tensorType('bool', [3]), tensorType('i32', [])])[0]!.shape).toEqual([]);
  });

  it('picks rows, counting negative indices from the end', () => {
    const data = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    expect(values(run('Gather', [data, idx([2], [2, -3])]))).toEqual([5, 6, 1, 2]);
    expect(values(run('Gather', [data, idx([2, 1], [-1, 0], 'i64')], { axis: 1 }))).toEqual([2, 1, 4, 3, 6, 5]);
  });

  it('names the index that is out of range', () => {
    const data = f32([3], [1, 2, 3]);
    expect(() => run('Gather', [data, idx([2], [0, 3])])).toThrow(
      'Gather: index 3 at indices position [1] is out of range for axis 0 of size 3 (expected -3..2)',
    );
    expect(() => run('Gather', [data, idx([1], [-4])])).toThrow('Gather: index -4');
    expect(() => infer('Gather', [tensorType('f32', [3]), tensorType('f32', [1])])).toThrow('Gather: indices must be i32 or i64, got f32');
  });

  it('reports an out-of-range index through the interpreter', () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('f32', [2]));
    const y = g.op('Gather', [x, g.constant(idx([1], [5]))]);
    expect(() => interpret(g.output(y).build(), { x: f32([2], [1, 2]) })).toThrow('index 5 at indices position [0] is out of range');
  });
});
