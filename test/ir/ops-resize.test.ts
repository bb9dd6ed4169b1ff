// Resize: attribute checks and output shapes, hand-computed 1-D cases for each coordinate transform and mode,
// ONNX conformance values (scales that differ from out/in, antialiasing, cubic, tf_crop_and_resize), integer
// rounding, and properties: same-size resizing is the identity, integer nearest upsampling replicates, linear
// interpolation reproduces a linear ramp, and an N-D resize equals 1-D resizes one axis at a time.
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
  toleranceExcess,
} from '../../ir/index.js';

function run(x: Tensor, attrs: Attrs): Tensor {
  const b = new GraphBuilder();
  const y = b.op('Resize', [b.input('x', tensorType(x.dtype, x.shape))], attrs);
  b.output(y);
  return interpret(b.build(), { x })[y]!;
}

function infer(shape: Shape, attrs: Attrs, dtype: DType = 'f32'): TensorType {
  const b = new GraphBuilder();
  return b.typeOf(b.op('Resize', [b.input('x', tensorType(dtype, shape))], attrs));
}

const f32 = (shape: number[], v: ArrayLike<number> | ((i: number) => number)): Tensor => makeTensor('f32', shape, v);
const values = (t: Tensor): number[] => [...t.data];
/** Within the ONNX runner's tolerance of expected f32 values. */
const close = (got: Tensor, want: readonly number[]): boolean => toleranceExcess(got, f32([...got.shape], want), 1e-5, 1e-6) === 0;
const ramp = (shape: number[]): Tensor => f32(shape, (i) => i + 1);
const line = (v: number[]): Tensor => f32([v.length], v);

describe('Resize inference', () => {
  it('takes the output shape from sizes, per dim or per axes entry', () => {
    expect(infer([1, 3, 4, 4], { sizes: [1, 3, 8, 6] }).shape).toEqual([1, 3, 8, 6]);
    expect(infer([1, 3, 4, 4], { sizes: [8, 6], axes: [2, 3] }).shape).toEqual([1, 3, 8, 6]);
    expect(infer([1, 3, 4, 4], { sizes: [6, 8], axes: [3, -2] }).shape).toEqual([1, 3, 8, 6]);
    expect(infer([2, 5], { sizes: [2, 0], mode: 'linear' }).shape).toEqual([2, 0]);
    expect(infer([1, 4], { sizes: [1, 8] }, 'u8')).toEqual(tensorType('u8', [1, 8]));
  });

  it('copies through symbolic dims that are not resized', () => {
    expect(infer(['n', 3, 4, 4], { sizes: [8, 8], axes: [2, 3] }).shape).toEqual(['n', 3, 8, 8]);
    expect(infer(['n', 3, 4, 4], { sizes: [1, 3, 8, 8], scales: [1, 1, 2, 2] }).shape).toEqual(['n', 3, 8, 8]);
  });

  it('resizes symbolic dims to the sizes given as dims', () => {
    expect(infer([1, 'w'], { sizes: [1, 8] }).shape).toEqual([1, 8]);
    expect(infer(['n', 3, 'h', 'w'], { sizes: ['n', 3, '2*h', '((3*w)//2)'], scales: [1, 1, 2, 1.5] }).shape).toEqual(['n', 3, '2*h', '((3*w)//2)']);
  });

  it('names what is wrong', () => {
    expect(() => infer([1, 4], {})).toThrow("Resize: missing required attribute 'sizes' (dims)");
    expect(() => infer([1, 4], { sizes: [8] })).toThrow('Resize: sizes must have 2 (one per dim) entries, got [8]');
    expect(() => infer([1, 4], { sizes: [8, 8, 8], axes: [1] })).toThrow('Resize: sizes must have 2 (one per dim) or 1 (one per axes entry) entries');
    expect(() => infer([1, 4], { sizes: [1, 8], mode: 'bilinear' })).toThrow("Resize: mode must be one of nearest, linear, cubic, got 'bilinear'");
    expect(() => infer([1, 4], { sizes: [1, 8], coordinate_transformation_mode: 'tf_half_pixel_for_nn' })).toThrow(
      'Resize: coordinate_transformation_mode must be one of',
    );
    expect(() => infer([1, 4], { sizes: [1, 8], nearest_mode: 'round' })).toThrow('Resize: nearest_mode must be one of');
    expect(() => infer([1, 4], { sizes: [1, 8], keep_aspect_ratio_policy: 'fit' })).toThrow('Resize: keep_aspect_ratio_policy must be one of');
    expect(() => infer([1, 4], { sizes: [1, 2], antialias: 1 })).toThrow('Resize: antialias applies to linear and cubic modes, not nearest');
    expect(() => infer([1, 4], { sizes: [1, 8], exclude_outside: 3 })).toThrow('Resize: exclude_outside must be 0 or 1, got 3');
    expect(() => infer([1, 4], { sizes: [8, 8], axes: [1, -1] })).toThrow('Resize: axes [1,-1] names axis 1 twice');
    expect(() => infer([1, 4], { sizes: [8], axes: [2] })).toThrow('Resize: axes entry 2 is out of range for rank 2');
    expect(() => infer([1, 4], { sizes: [2, 8], axes: [1] })).toThrow('Resize: sizes gives axis 0 size 2, but it is not in axes');
    expect(() => infer([1, 4], { sizes: [1, 8], scales: [2, 2], axes: [1] })).toThrow('Resize: scales gives axis 0 scale 2, but it is not in axes');
    expect(() => infer([1, 4], { sizes: [1, 8], scales: [1, 0] })).toThrow('Resize: scales entry for axis 1 must be > 0, got 0');
    expect(() => infer([1, 4], { sizes: [1, -2] })).toThrow('Resize: sizes entry for axis 1 must be a whole number >= 0, got -2');
    expect(() => infer([1, 0], { sizes: [1, 3] })).toThrow('Resize: axis 1 of X [1,0] is empty; there is nothing to resize to 3');
    expect(() => infer([1, 4], { sizes: [1, 8], roi: [0, 0, 1] })).toThrow('Resize: roi must list a start and an end per axis');
    expect(() => infer([4], { sizes: [8] }, 'bool')).toThrow('Resize needs a float or int input, got bool');
  });
});

describe('Resize reference: 1-D by hand', () => {
  const x = line([0, 10]);

  it('linear upsampling under each coordinate transform', () => {
    // half_pixel: sample at (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to the edges.
    expect(values(run(x, { mode: 'linear', sizes: [4] }))).toEqual([0, 2.5, 7.5, 10]);
    // align_corners: x * (2 - 1) / (4 - 1).
    expect(close(run(x, { mode: 'linear', sizes: [4], coordinate_transformation_mode: 'align_corners' }), [0, 10 / 3, 20 / 3, 10])).toBe(true);
    // asymmetric: x / 2.
    expect(values(run(x, { mode: 'linear', sizes: [4], coordinate_transformation_mode: 'asymmetric' }))).toEqual([0, 5, 10, 10]);
    // pytorch_half_pixel equals half_pixel except for a length-1 output, which samples coordinate 0.
    expect(values(run(x, { mode: 'linear', sizes: [4], coordinate_transformation_mode: 'pytorch_half_pixel' }))).toEqual([0, 2.5, 7.5, 10]);
    expect(values(run(line([3, 5, 7]), { mode: 'linear', sizes: [1], coordinate_transformation_mode: 'pytorch_half_pixel' }))).toEqual([3]);
    expect(values(run(line([3, 5, 7]), { mode: 'linear', sizes: [1] }))).toEqual([5]);
  });

  it('nearest rounding modes break ties as named', () => {
    // asymmetric x2: coordinates 0, 0.5, 1, 1.5; the .5s are the ties.
    const at = (nearest_mode: string) => values(run(x, { sizes: [4], coordinate_transformation_mode: 'asymmetric', nearest_mode }));
    expect(at('round_prefer_floor')).toEqual([0, 0, 10, 10]);
    expect(at('round_prefer_ceil')).toEqual([0, 10, 10, 10]);
    expect(at('floor')).toEqual([0, 0, 10, 10]);
    expect(at('ceil')).toEqual([0, 10, 10, 10]);
    expect(values(run(line([1, 2, 3]), { sizes: [6], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }))).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('cubic with A = -0.75 at the midpoint weighs the taps -3/32, 19/32, 19/32, -3/32', () => {
    const y = run(line([0, 0, 32, 0, 0]), { mode: 'cubic', sizes: [10], coordinate_transformation_mode: 'asymmetric', cubic_coeff_a: -0.75 });
    // Output 3 samples 1.5 (taps 0..3), output 5 samples 2.5 (taps 1..4).
    expect([y.data[3], y.data[4], y.data[5]]).toEqual([19, 32, 19]);
  });

  it('tf_crop_and_resize samples inside roi and extrapolates outside it', () => {
    const y = run(line([0, 10, 20, 30]), {
      mode: 'linear',
      coordinate_transformation_mode: 'tf_crop_and_resize',
      sizes: [3],
      roi: [0.5, 1.5],
      extrapolation_value: -1,
    });
    // Coordinates 1.5, 3, 4.5 (the last beyond the input).
    expect(values(y)).toEqual([15, 30, -1]);
  });

  it('integer inputs round half to even and saturate', () => {
    const y = run(makeTensor('u8', [2], [0, 255]), { mode: 'linear', sizes: [4] });
    expect(y.dtype).toBe('u8');
    expect(values(y)).toEqual([0, 64, 191, 255]);
    const c = run(makeTensor('u8', [4], [0, 255, 255, 0]), { mode: 'cubic', sizes: [8] });
    expect(Math.max(...values(c))).toBe(255); // the cubic overshoot is clamped, not wrapped
  });
});

describe('Resize reference: ONNX conformance values', () => {
  const x4 = ramp([1, 1, 4, 4]);
  const x24 = ramp([1, 1, 2, 4]);

  it('linear and nearest with the given scale, not out/in', () => {
    expect(close(run(x24, { mode: 'linear', sizes: [1, 1, 1, 2], scales: [1, 1, 0.6, 0.6] }), [2.6666665, 4.333333])).toBe(true);
    const corners = { mode: 'linear', coordinate_transformation_mode: 'align_corners', sizes: [1, 1, 1, 2], scales: [1, 1, 0.6, 0.6] };
    expect(close(run(x24, corners), [1, 3.142857])).toBe(true);
    expect(values(run(x24, { sizes: [1, 1, 1, 2], scales: [1, 1, 0.6, 0.6] }))).toEqual([1, 3]);
    const symmetric = { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric', sizes: [1, 1, 1, 2], scales: [1, 1, 1, 0.6] };
    expect(close(run(ramp([1, 1, 1, 4]), symmetric), [1.6666667, 3.3333333])).toBe(true);
  });

  it('upsampling: linear, align_corners, nearest by 2x3', () => {
    const x = ramp([1, 1, 2, 2]);
    expect(values(run(x, { mode: 'linear', sizes: [1, 1, 4, 4] }))).toEqual([1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
    const corners = run(x, { mode: 'linear', coordinate_transformation_mode: 'align_corners', sizes: [1, 1, 4, 4] });
    expect(close(corners, [1, 4 / 3, 5 / 3, 2, 5 / 3, 2, 7 / 3, 8 / 3, 7 / 3, 8 / 3, 3, 10 / 3, 3, 10 / 3, 11 / 3, 4])).toBe(true);
    expect(values(run(x, { sizes: [1, 1, 4, 6] }))).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4]);
  });

  it('cubic, cubic with A = -0.5 and exclude_outside', () => {
    const cubic = run(x4, { mode: 'cubic', sizes: [1, 1, 3, 3], scales: [1, 1, 0.8, 0.8] });
    expect(close(cubic, [1.4711914, 2.78125, 4.0825195, 6.7114258, 8.0214844, 9.3227539, 11.916504, 13.226563, 14.527832])).toBe(true);
    // Upsampled x2: the first row overshoots below 1 at the edge, as cubic does.
    const firstRow = run(x4, { mode: 'cubic', sizes: [1, 1, 8, 8] }).data.subarray(0, 8);
    expect(close(f32([8], firstRow), [0.47265625, 0.76953125, 1.2460938, 1.875, 2.28125, 2.9101563, 3.3867188, 3.6835938])).toBe(true);
    const excluded = run(x4, { mode: 'cubic', cubic_coeff_a: -0.5, exclude_outside: 1, sizes: [1, 1, 3, 3], scales: [1, 1, 0.8, 0.8] });
    expect(close(excluded, [1.3681267, 2.6695013, 4.0133367, 6.5736251, 7.875, 9.2188349, 11.948966, 13.250341, 14.594176])).toBe(true);
  });

  it('antialiased downsampling widens the kernel', () => {
    expect(values(run(x4, { mode: 'linear', antialias: 1, sizes: [1, 1, 2, 2], scales: [1, 1, 0.6, 0.6] }))).toEqual([2.875, 4.5, 9.375, 11]);
    const cubic = run(x4, { mode: 'cubic', antialias: 1, sizes: [1, 1, 2, 2], scales: [1, 1, 0.6, 0.6] });
    expect(close(cubic, [2.5180721, 4.2858863, 9.5893288, 11.357142])).toBe(true);
  });

  it('tf_crop_and_resize, with an extrapolation value outside the crop', () => {
    const crop = { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', sizes: [1, 1, 3, 3] };
    expect(close(run(x4, { ...crop, roi: [0, 0, 0.4, 0.6, 1, 1, 0.6, 0.8] }), [7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10, 10.3, 10.6])).toBe(true);
    expect(close(run(x4, { ...crop, axes: [3, 2], sizes: [3, 3], roi: [0.6, 0.4, 0.8, 0.6] }), [7.6, 7.9, 8.2, 8.8, 9.1, 9.4, 10, 10.3, 10.6])).toBe(true);
    const out = run(x4, { ...crop, roi: [0, 0, 0.4, 0.6, 1, 1, 1.2, 1.7], extrapolation_value: 10 });
    expect(close(out, [7.6, 10, 10, 12.4, 10, 10, 10, 10, 10])).toBe(true);
  });
});

const MODES: readonly Attrs[] = [{ mode: 'nearest' }, { mode: 'linear' }, { mode: 'cubic' }, { mode: 'linear', antialias: 1 }, { mode: 'cubic', antialias: 1 }];
const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];
const arbImage = fc
  .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }))
  .chain(([h, w]) => fc.array(fc.integer({ min: -20, max: 20 }), { minLength: h * w, maxLength: h * w }).map((v) => f32([h, w], v)));

describe('Resize properties', () => {
  it('resizing to the same size is the identity, for every mode and transform', () => {
    fc.assert(
      fc.property(arbImage, fc.constantFrom(...MODES), fc.constantFrom(...TRANSFORMS), (x, mode, transform) => {
        const y = run(x, { ...mode, coordinate_transformation_mode: transform, sizes: [...x.shape] });
        expect(values(y)).toEqual(values(x));
      }),
      { numRuns: 150 },
    );
  });

  it('nearest upsampling by whole factors replicates each element', () => {
    fc.assert(
      fc.property(arbImage, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (x, fh, fw) => {
        const [h, w] = x.shape as [number, number];
        const y = run(x, { sizes: [h * fh, w * fw] });
        y.data.forEach((v, i) => {
          const [r, c] = [Math.floor(i / (w * fw)), i % (w * fw)];
          expect(v).toBe(x.data[Math.floor(r / fh) * w + Math.floor(c / fw)]);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('linear align_corners resampling reproduces a linear ramp exactly (up to rounding)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 2, max: 12 }), fc.integer({ min: -5, max: 5 }), (n, m, slope) => {
        const x = line(Array.from({ length: n }, (_, i) => slope * i));
        const y = run(x, { mode: 'linear', coordinate_transformation_mode: 'align_corners', sizes: [m] });
        expect(close(y, Array.from({ length: m }, (_, j) => (slope * j * (n - 1)) / (m - 1)))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('a 2-D resize equals resizing one axis, then the other', () => {
    fc.assert(
      fc.property(arbImage, fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom(...MODES), (x, oh, ow, mode) => {
        const [h, w] = x.shape as [number, number];
        const both = run(x, { ...mode, sizes: [oh, ow] });
        const stepwise = run(run(x, { ...mode, sizes: [h, ow] }), { ...mode, sizes: [oh, ow] });
        expect(toleranceExcess(both, stepwise, 1e-6, 1e-5)).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('a constant image stays constant under linear and antialiased resizing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(...MODES.slice(1, 4)), (n, m, mode) => {
        const y = run(line(new Array<number>(n).fill(3)), { ...mode, sizes: [m] });
        expect(close(y, new Array<number>(m).fill(3))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
