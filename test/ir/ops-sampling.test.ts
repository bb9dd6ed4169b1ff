// The spatial-sampling IR ops (GridSample, RoiAlign, MaxUnpool, Col2Im, DeformConv): hand-computed values for
// every mode and padding, the attribute and shape checks, and properties (an identity grid reproduces X in
// every mode; DeformConv with zero offsets is Conv). ONNX's conformance cases check the rest.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Attrs, GraphBuilder, type Tensor, type TensorType, interpret, makeTensor, tensorType } from '../../ir/index.js';

function run(op: string, inputs: (Tensor | undefined)[], attrs: Attrs): Tensor {
  const b = new GraphBuilder();
  const refs = inputs.map((t, i) => (t ? b.input(`in${i}`, tensorType(t.dtype, t.shape)) : ''));
  const y = b.op(op, refs, attrs);
  b.output(y);
  const feeds = Object.fromEntries(inputs.flatMap((t, i) => (t ? [[`in${i}`, t]] : [])));
  return interpret(b.build(), feeds)[y]!;
}

function infer(op: string, inputs: (TensorType | undefined)[], attrs: Attrs): TensorType {
  const b = new GraphBuilder();
  return b.typeOf(b.op(op, inputs.map((t, i) => (t ? b.input(`in${i}`, t) : '')), attrs));
}

const values = (t: Tensor): number[] => [...t.data].map((v) => Math.round(v * 1e6) / 1e6);
const f32 = (shape: number[], v: number[] | ((i: number) => number)): Tensor => makeTensor('f32', shape, v);
const i32 = (shape: number[], v: number[]): Tensor => makeTensor('i32', shape, v);

describe('GridSample', () => {
  const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
  const at = (points: number[][]): Tensor => f32([1, 1, points.length, 2], points.flat());
  const corners = at([[-1, -1], [1, 1], [0, 0], [1, -1]]);

  it('linear with align_corners maps -1/1 to the corner pixels (x first)', () => {
    expect(values(run('GridSample', [x, corners], { align_corners: 1 }))).toEqual([1, 4, 2.5, 2]);
  });

  it('without align_corners -1/1 are the outer edges; padding decides what lies outside', () => {
    const edge = at([[-1, -1], [0, 0], [-2, 0]]);
    // (-1, -1) is pixel (-0.5, -0.5): a quarter of pixel (0, 0) under zeros, the pixel itself under border.
    expect(values(run('GridSample', [x, edge], { padding_mode: 'zeros' }))).toEqual([0.25, 2.5, 0]);
    expect(values(run('GridSample', [x, edge], { padding_mode: 'border' }))).toEqual([1, 2.5, 2]);
    // x = -2 is pixel -1.5, reflected about -0.5 to 0.5: halfway between the columns.
    expect(values(run('GridSample', [x, edge], { padding_mode: 'reflection' }))).toEqual([1, 2.5, 2.5]);
  });

  it('nearest rounds half to even, then pads', () => {
    // Pixel coordinates 0.5 round to 0; x = 1.5 rounds to 2, outside: 0 under zeros, clamped to 1 under border.
    expect(values(run('GridSample', [x, at([[0, 0]])], { mode: 'nearest' }))).toEqual([1]);
    expect(values(run('GridSample', [x, at([[1, 0]])], { mode: 'nearest' }))).toEqual([0]);
    expect(values(run('GridSample', [x, at([[1, 0]])], { mode: 'nearest', padding_mode: 'border' }))).toEqual([2]);
    const line = f32([1, 1, 1, 3], [10, 20, 30]);
    expect(values(run('GridSample', [line, at([[0, 0], [1, 0]])], { mode: 'nearest' }))).toEqual([20, 30]);
  });

  it('cubic interpolates with Keys weights (a = -0.75)', () => {
    const line = f32([1, 1, 1, 4], [0, 1, 8, 27]);
    // Halfway between columns 1 and 2: weights (-3/32, 19/32, 19/32, -3/32).
    const y = run('GridSample', [line, f32([1, 1, 1, 2], [0, 0])], { mode: 'cubic', align_corners: 1, padding_mode: 'border' });
    expect(values(y)).toEqual([(19 * 9 - 3 * 27) / 32]);
  });

  it('1-D and 3-D forms', () => {
    const line = f32([1, 1, 4], [0, 10, 20, 30]);
    expect(values(run('GridSample', [line, f32([1, 3, 1], [-1, 1, 0])], { align_corners: 1 }))).toEqual([0, 30, 15]);
    const cube = f32([1, 1, 2, 2, 2], (i) => i);
    expect(values(run('GridSample', [cube, f32([1, 1, 1, 1, 3], [1, -1, 1])], { align_corners: 1 }))).toEqual([5]);
  });

  it('an identity grid reproduces X in every mode', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom('linear', 'nearest', 'cubic'), (h, w, mode) => {
        const img = f32([1, 2, h, w], (i) => Math.sin(i) * 10);
        const coord = (i: number, n: number): number => (n === 1 ? -1 : -1 + (2 * i) / (n - 1));
        const grid = f32([1, h, w, 2], (k) => (k % 2 === 0 ? coord(Math.floor(k / 2) % w, w) : coord(Math.floor(k / 2 / w), h)));
        const y = run('GridSample', [img, grid], { mode, align_corners: 1, padding_mode: 'border' });
        y.data.forEach((v, i) => expect(v).toBeCloseTo(img.data[i]!, 5));
      }),
      { numRuns: 30 },
    );
  });

  it('names what is wrong', () => {
    const t = (shape: number[]): TensorType => tensorType('f32', shape);
    expect(() => infer('GridSample', [t([1, 1, 4, 4]), t([1, 3, 3, 3])], {})).toThrow('grid must be [N, ...out spatial (2 dims), 2]');
    expect(() => infer('GridSample', [t([1, 1, 4, 4]), t([2, 3, 3, 2])], {})).toThrow('differ in batch');
    expect(() => infer('GridSample', [t([1, 1, 4, 4, 4]), t([1, 3, 3, 3, 3])], { mode: 'cubic' })).toThrow('cubic mode needs 2 spatial dims');
    expect(() => infer('GridSample', [t([1, 1, 4, 4]), t([1, 3, 3, 2])], { mode: 'bilinear' })).toThrow("mode must be one of linear, nearest, cubic, got 'bilinear'");
    expect(infer('GridSample', [t([2, 3, 4, 4]), t([2, 5, 6, 2])], {})).toEqual(t([2, 3, 5, 6]));
  });
});

describe('RoiAlign', () => {
  // Each pixel holds its column index, so a sample's value is its (clamped) x coordinate.
  const ramp = f32([1, 1, 4, 4], (i) => i % 4);
  const whole = f32([1, 4], [0, 0, 4, 4]);
  const b0 = i32([1], [0]);

  it('samples bin centres; half_pixel shifts the region by half a pixel', () => {
    expect(values(run('RoiAlign', [ramp, whole, b0], { sampling_ratio: 1, coordinate_transformation_mode: 'output_half_pixel' }))).toEqual([2]);
    expect(values(run('RoiAlign', [ramp, whole, b0], { sampling_ratio: 1 }))).toEqual([1.5]);
  });

  it('adaptive sampling takes ceil(region / output) points per bin, clamping at the last column', () => {
    // Points at x = 0.5, 1.5, 2.5 and 3.5 (read as 3).
    const y = run('RoiAlign', [ramp, whole, b0], { coordinate_transformation_mode: 'output_half_pixel' });
    expect(values(y)).toEqual([(0.5 + 1.5 + 2.5 + 3) / 4]);
    const bins = run('RoiAlign', [ramp, whole, b0], { output_width: 2, output_height: 2, coordinate_transformation_mode: 'output_half_pixel' });
    expect(values(bins)).toEqual([1, 2.75, 1, 2.75]);
  });

  it('max mode: the largest weighted corner over the points; far outside is 0', () => {
    expect(values(run('RoiAlign', [ramp, whole, b0], { mode: 'max', sampling_ratio: 1, coordinate_transformation_mode: 'output_half_pixel' }))).toEqual([2]);
    expect(values(run('RoiAlign', [ramp, f32([1, 4], [10, 10, 12, 12]), b0], { mode: 'max' }))).toEqual([0]);
  });

  it('picks the batch image; rejects bad indices and shapes', () => {
    const two = f32([2, 1, 2, 2], [1, 1, 1, 1, 7, 7, 7, 7]);
    expect(values(run('RoiAlign', [two, f32([2, 4], [0, 0, 1, 1, 0, 0, 1, 1]), i32([2], [1, 0])], { spatial_scale: 0.5 }))).toEqual([7, 1]);
    expect(() => run('RoiAlign', [two, f32([1, 4], [0, 0, 1, 1]), i32([1], [2])], {})).toThrow('batch index 2 of roi 0 is out of range');
    expect(() => infer('RoiAlign', [tensorType('f32', [1, 1, 4, 4]), tensorType('f32', [3, 5]), tensorType('i32', [3])], {})).toThrow('rois must be [num_rois, 4]');
    expect(() => infer('RoiAlign', [tensorType('f32', [1, 1, 4, 4]), tensorType('f32', [3, 4]), tensorType('i32', [3])], { mode: 'sum' })).toThrow('mode must be avg or max');
  });
});

describe('MaxUnpool', () => {
  const x = f32([1, 1, 2, 2], [5, 6, 7, 8]);
  const idx = i32([1, 1, 2, 2], [5, 7, 13, 15]);
  const pool = { kernel_shape: [2, 2], strides: [2, 2] };

  it('places each value at its index in the unpooled shape', () => {
    const y = run('MaxUnpool', [x, idx], pool);
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(values(y)).toEqual([0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8]);
  });

  it('a larger output_shape pads the unpooled result at the end (as the reference)', () => {
    const y = run('MaxUnpool', [x, idx], { ...pool, output_shape: [1, 1, 5, 5] });
    expect([...y.data].flatMap((v, i) => (v ? [i] : []))).toEqual([6, 8, 16, 18]);
  });

  it('rejects indices outside the unpooled shape and a smaller output_shape', () => {
    expect(() => run('MaxUnpool', [x, i32([1, 1, 2, 2], [0, 1, 2, 16])], pool)).toThrow('index 16 at position 3 is outside');
    expect(() => infer('MaxUnpool', [tensorType('f32', [1, 1, 2, 2]), tensorType('i32', [1, 1, 2, 2])], { ...pool, output_shape: [1, 1, 3, 4] })).toThrow(
      'must keep N and C and be at least the unpooled shape [1,1,4,4]',
    );
  });
});

describe('Col2Im', () => {
  it('one block per row: a transpose (ONNX example)', () => {
    const y = run('Col2Im', [f32([1, 5, 5], (i) => i + 1)], { image_shape: [5, 5], block_shape: [1, 5] });
    expect(y.shape).toEqual([1, 1, 5, 5]);
    expect(values(y).slice(0, 5)).toEqual([1, 6, 11, 16, 21]);
  });

  it('overlapping blocks add up; pads drop what falls outside', () => {
    const cols = f32([1, 2, 3], [1, 2, 3, 10, 20, 30]);
    expect(values(run('Col2Im', [cols], { image_shape: [4], block_shape: [2] }))).toEqual([1, 12, 23, 30]);
    const padded = f32([1, 2, 4], [1, 2, 3, 4, 10, 20, 30, 40]);
    expect(values(run('Col2Im', [padded], { image_shape: [3], block_shape: [2], pads: [1, 1] }))).toEqual([12, 23, 34]);
    // Stride 2, dilation 2: blocks at 0 and 2 with taps at +0 and +2.
    expect(values(run('Col2Im', [f32([1, 2, 2], [1, 2, 10, 20])], { image_shape: [5], block_shape: [2], strides: [2], dilations: [2] }))).toEqual([1, 0, 12, 0, 20]);
  });

  it('checks the column count against the geometry', () => {
    expect(() => infer('Col2Im', [tensorType('f32', [1, 4, 6])], { image_shape: [4, 4], block_shape: [2, 2] })).toThrow('input must be [N, C * 4, 9]');
  });
});

describe('DeformConv', () => {
  const x = f32([1, 1, 3, 3], (i) => i);
  const w = f32([1, 1, 2, 2], [1, 1, 1, 1]);

  it('offsets shift each tap, bilinearly (ONNX example); mask and bias scale and shift', () => {
    const offset = f32([1, 8, 2, 2], (i) => (i === 0 ? 0.5 : i === 21 ? -0.1 : 0));
    expect(values(run('DeformConv', [x, w, offset], { kernel_shape: [2, 2] }))).toEqual([9.5, 11.9, 20, 24]);
    const mask = f32([1, 4, 2, 2], (i) => (i === 11 ? 0.2 : 1));
    expect(values(run('DeformConv', [x, w, offset, f32([1], [1]), mask], {}))).toEqual([10.5, 12.9, 21, 19.4]);
  });

  it('with zero offsets it is Conv (groups, offset groups, strides, dilations, pads)', () => {
    fc.assert(
      fc.property(fc.record({ group: fc.constantFrom(1, 2), og: fc.constantFrom(1, 2), s: fc.integer({ min: 1, max: 2 }), d: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 1 }) }), ({ group, og, s, d, p }) => {
        const img = f32([1, 4, 5, 6], (i) => Math.cos(i));
        const kw = f32([4, 4 / group, 2, 3], (i) => Math.sin(i));
        const attrs = { group, strides: [s, s], dilations: [d, d], pads: [p, p, p, p] };
        const conv = run('Conv', [img, kw], attrs);
        const [, , oh, ow] = conv.shape as number[];
        const zero = f32([1, og * 6 * 2, oh!, ow!], () => 0);
        const deform = run('DeformConv', [img, kw, zero], { ...attrs, offset_group: og });
        deform.data.forEach((v, i) => expect(v).toBeCloseTo(conv.data[i]!, 5));
      }),
      { numRuns: 20 },
    );
  });

  it('checks offset and mask shapes', () => {
    const t = (shape: number[]): TensorType => tensorType('f32', shape);
    expect(() => infer('DeformConv', [t([1, 1, 3, 3]), t([1, 1, 2, 2]), t([1, 4, 2, 2])], {})).toThrow('offset must be [N, 8, 2, 2]');
    expect(() => infer('DeformConv', [t([1, 2, 3, 3]), t([1, 2, 2, 2]), t([1, 8, 2, 2])], { offset_group: 3 })).toThrow('offset_group 3 must divide');
  });
});
