// ConvTranspose: output shapes (strides, pads, output_padding, output_shape, auto_pad, groups, dilations, N-D),
// error messages, the ONNX examples, and the defining property that it is the adjoint of Conv:
// <Conv(x), y> == <x, ConvTranspose(y)> with the same weights.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Attrs, GraphBuilder, type Shape, type Tensor, interpret, makeTensor, tensorType } from '../../ir/index.js';

function run(op: string, inputs: Tensor[], attrs: Attrs = {}): Tensor {
  const b = new GraphBuilder();
  const names = inputs.map((t, i) => b.input(`in${i}`, tensorType(t.dtype, t.shape)));
  const y = b.op(op, names, attrs);
  b.output(y);
  return interpret(b.build(), Object.fromEntries(inputs.map((t, i) => [`in${i}`, t])))[y]!;
}

function shapeOf(x: Shape, w: Shape, attrs: Attrs = {}, bias?: Shape): Shape {
  const b = new GraphBuilder();
  const ins = [b.input('x', tensorType('f32', x)), b.input('w', tensorType('f32', w)), ...(bias ? [b.input('b', tensorType('f32', bias))] : [])];
  return b.typeOf(b.op('ConvTranspose', ins, attrs)).shape;
}

const f32 = (shape: number[], v: ArrayLike<number> | ((i: number) => number)): Tensor => makeTensor('f32', shape, v);
const values = (t: Tensor): number[] => [...t.data];
const X33 = f32([1, 1, 3, 3], (i) => i);
const ONES = f32([1, 2, 3, 3], () => 1);

describe('ConvTranspose inference', () => {
  it('grows the input by stride, kernel and output_padding, minus pads', () => {
    expect(shapeOf([1, 1, 3, 3], [1, 2, 3, 3])).toEqual([1, 2, 5, 5]);
    expect(shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { strides: [3, 2], output_padding: [1, 1] })).toEqual([1, 2, 10, 8]);
    expect(shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { strides: [3, 2], pads: [1, 2, 1, 2] })).toEqual([1, 2, 7, 3]);
    expect(shapeOf([1, 1, 3, 3], [1, 1, 2, 2], { dilations: [2, 2] })).toEqual([1, 1, 5, 5]);
    expect(shapeOf([2, 1, 3], [1, 2, 3])).toEqual([2, 2, 5]);
    expect(shapeOf([1, 1, 3, 4, 5], [1, 2, 3, 3, 3])).toEqual([1, 2, 5, 6, 7]);
    expect(shapeOf(['n', 4, 3, 3], [4, 3, 3, 3], { group: 2 }, [6])).toEqual(['n', 6, 5, 5]);
  });

  it('takes output_shape and SAME sizes as given', () => {
    expect(shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { strides: [3, 2], output_shape: [10, 8] })).toEqual([1, 2, 10, 8]);
    expect(shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { strides: [3, 2], output_shape: [1, 2, 10, 8] })).toEqual([1, 2, 10, 8]);
    expect(shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { auto_pad: 'SAME_UPPER', strides: [2, 2] })).toEqual([1, 2, 6, 6]);
    expect(shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { auto_pad: 'SAME_LOWER', strides: [2, 2], output_shape: [5, 5] })).toEqual([1, 2, 5, 5]);
  });

  it('names what is wrong', () => {
    expect(() => shapeOf([1, 2, 3, 3], [1, 2, 3, 3])).toThrow('ConvTranspose: W [1,2,3,3] must have X\'s 2 input channels first (W is [C, M/group, ...kernel])');
    expect(() => shapeOf([1, 3, 3, 3], [3, 2, 3, 3], { group: 2 })).toThrow('ConvTranspose: group=2 must be >= 1 and divide the 3 input channels');
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3])).toThrow('ConvTranspose: W must be [C, M/group, ...kernel] with the rank of X');
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { kernel_shape: [2, 2] })).toThrow('ConvTranspose: kernel_shape [2,2] disagrees with W [1,2,3,3]');
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3, 3], {}, [3])).toThrow('ConvTranspose: B must be [2] (one bias per output channel), got [3]');
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { strides: [2] })).toThrow('ConvTranspose: strides must have 2 entries (one per spatial dim), got [2]');
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { pads: [-1, 0, 0, 0] })).toThrow('ConvTranspose: pads entries must be >= 0');
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { output_padding: [2, 0], strides: [2, 2] })).toThrow(
      'ConvTranspose: output_padding 2 on spatial dim 0 must be smaller than its stride 2 or dilation 1',
    );
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { auto_pad: 'SAME_UPPER', pads: [1, 1, 1, 1] })).toThrow(
      'ConvTranspose: pads [1,1,1,1] cannot be combined with auto_pad=SAME_UPPER',
    );
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { auto_pad: 'SAME' })).toThrow('ConvTranspose: auto_pad must be one of NOTSET, SAME_UPPER, SAME_LOWER, VALID');
    expect(() => shapeOf([1, 1, 3, 3], [1, 2, 3, 3], { output_shape: [5] })).toThrow('ConvTranspose: output_shape must have 2 entries');
    expect(() => shapeOf([1, 1, 1, 1], [1, 2, 1, 1], { pads: [1, 0, 0, 0] })).toThrow('ConvTranspose: output size 0 on spatial dim 0 is not positive');
    expect(() => shapeOf([1, 1, 'h', 3], [1, 2, 3, 3])).toThrow('ConvTranspose needs static shape: spatial dims of X');
    const b = new GraphBuilder();
    expect(() => b.op('ConvTranspose', [b.input('x', tensorType('i32', [1, 1, 3])), b.input('w', tensorType('i32', [1, 1, 3]))])).toThrow(
      'ConvTranspose: X must be a float tensor',
    );
  });
});

describe('ConvTranspose reference (ONNX examples)', () => {
  const plane = [0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15, 9, 20, 33, 24, 13, 6, 13, 21, 15, 8];

  it('the basic 3x3 by 3x3 example, both output channels', () => {
    expect(values(run('ConvTranspose', [X33, ONES]))).toEqual([...plane, ...plane]);
  });

  it('1-D, and a bias per output channel', () => {
    expect(values(run('ConvTranspose', [f32([1, 1, 3], [0, 1, 2]), f32([1, 2, 3], () => 1)]))).toEqual([0, 1, 3, 3, 2, 0, 1, 3, 3, 2]);
    const y = run('ConvTranspose', [f32([1, 1, 3], [0, 1, 2]), f32([1, 2, 3], () => 1), f32([2], [10, -10])]);
    expect(values(y)).toEqual([10, 11, 13, 13, 12, -10, -9, -7, -7, -8]);
  });

  it('dilations', () => {
    const y = run('ConvTranspose', [f32([1, 1, 3, 3], [3, 8, 1, 9, 5, 7, 3, 2, 6]), f32([1, 1, 2, 2], [7, 2, 1, 9])], { dilations: [2, 2] });
    expect(values(y)).toEqual([21, 56, 13, 16, 2, 63, 35, 67, 10, 14, 24, 22, 76, 76, 21, 9, 5, 88, 45, 63, 3, 2, 33, 18, 54]);
  });

  it('pads crop, output_padding and output_shape extend at the end', () => {
    const cropped = run('ConvTranspose', [X33, ONES], { strides: [3, 2], pads: [1, 2, 1, 2] });
    expect(values(cropped).slice(0, 21)).toEqual([1, 1, 3, 1, 1, 3, 7, 4, 9, 7, 4, 9, 7, 4, 9, 13, 7, 15, 13, 7, 15]);
    const padded = run('ConvTranspose', [X33, ONES], { strides: [3, 2], output_padding: [1, 1] });
    const shaped = run('ConvTranspose', [X33, ONES], { strides: [3, 2], output_shape: [10, 8] });
    expect(values(shaped)).toEqual(values(padded));
    // The extra last row and column receive nothing.
    expect(values(padded).slice(9 * 8, 10 * 8)).toEqual(new Array(8).fill(0));
    expect(padded.data[7]).toBe(0);
  });

  it('SAME_UPPER crops the odd cell at the end, SAME_LOWER at the start', () => {
    const upper = run('ConvTranspose', [X33, ONES], { auto_pad: 'SAME_UPPER', strides: [2, 2] });
    expect(values(upper).slice(0, 12)).toEqual([0, 0, 1, 1, 3, 2, 0, 0, 1, 1, 3, 2]);
    const lower = run('ConvTranspose', [X33, ONES], { auto_pad: 'SAME_LOWER', strides: [2, 2] });
    // Full result is 7x7; UPPER drops the last row and column, LOWER the first.
    const full = run('ConvTranspose', [X33, ONES], { strides: [2, 2] });
    const crop = (t: Tensor, r0: number, c0: number) => Array.from({ length: 36 }, (_, i) => t.data[(r0 + Math.floor(i / 6)) * 7 + c0 + (i % 6)]!);
    expect(values(upper).slice(0, 36)).toEqual(crop(full, 0, 0));
    expect(values(lower).slice(0, 36)).toEqual(crop(full, 1, 1));
  });

  it('groups use their own input channels and filters', () => {
    const x = f32([1, 2, 1, 1], [1, 10]);
    const w = f32([2, 1, 1, 2], [1, 2, 3, 4]);
    expect(values(run('ConvTranspose', [x, w], { group: 2 }))).toEqual([1, 2, 30, 40]);
  });
});

/** Deterministic pseudo-random small values. */
const gen = (seed: number) => (i: number) => ((((i + 3) * 2654435761 + seed * 40503) >>> 0) % 13) - 6;

describe('ConvTranspose properties', () => {
  it('is the adjoint of Conv: <Conv(x), y> = <x, ConvTranspose(y)>', () => {
    const arb = fc
      .record({
        n: fc.integer({ min: 1, max: 2 }),
        group: fc.integer({ min: 1, max: 2 }),
        cg: fc.integer({ min: 1, max: 2 }),
        mg: fc.integer({ min: 1, max: 2 }),
        size: fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 })),
        kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        dilations: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
        pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
        seed: fc.nat(1000),
      })
      .filter((p) => p.size.every((s, d) => s + p.pads[d]! + p.pads[d + 2]! >= p.dilations[d]! * (p.kernel[d]! - 1) + 1));
    fc.assert(
      fc.property(arb, (p) => {
        const [c, m] = [p.cg * p.group, p.mg * p.group];
        const x = f32([p.n, c, ...p.size], gen(p.seed));
        // Conv's W [M, C/group, ...k] is ConvTranspose's W [C', M'/group, ...k] with C' = M and M' = C.
        const w = f32([m, p.cg, ...p.kernel], gen(p.seed + 1));
        const geometry = { strides: p.strides, dilations: p.dilations, pads: p.pads, group: p.group };
        const cx = run('Conv', [x, w], geometry);
        const y = f32([...cx.shape], gen(p.seed + 2));
        // output_shape = the Conv input size: strides that skip the input's tail leave cells nothing reaches.
        const ty = run('ConvTranspose', [y, w], { ...geometry, output_shape: p.size });
        expect(ty.shape).toEqual(x.shape);
        const dot = (a: Tensor, b: Tensor) => a.data.reduce((s, v, i) => s + v * b.data[i]!, 0);
        expect(dot(cx, y)).toBe(dot(x, ty));
      }),
      { numRuns: 200 },
    );
  });

  it('without output_shape the size is stride * (in - 1) + dilated kernel - pads', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 2 }), (n, s, k, d) => {
        const shape = shapeOf([1, 1, n], [1, 1, k], { strides: [s], dilations: [d] });
        expect(shape).toEqual([1, 1, s * (n - 1) + d * (k - 1) + 1]);
      }),
    );
  });
});
