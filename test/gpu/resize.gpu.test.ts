// Resize compiled through the real compiler and runtime, against the interpreter (itself checked against the 39
// ONNX resize conformance cases): every mode with every coordinate transformation (each nearest rounding mode
// too), cubic with exclude_outside and another cubic_coeff_a, antialiased downsampling, tf_crop_and_resize with
// crops that extrapolate, `axes`, sizes with and without scales, and integer and f16 data.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type Attrs, type DType, GraphBuilder, type Tensor, tensorType } from '../../ir/index.js';
import { randomTensor } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);
const TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'] as const;
const NEAREST = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
const SCALES = [0.3, 0.5, 0.6, 0.75, 1, 1.5, 1.7, 2, 3];

async function check(x: Tensor, attrs: Attrs, shaderF16 = false): Promise<void> {
  const b = new GraphBuilder('resize');
  b.output(b.op('Resize', [b.input('x', tensorType(x.dtype, x.shape))], attrs));
  const tol = x.dtype === 'f32' ? { rtol: 1e-5, atol: 1e-6 } : x.dtype === 'f16' ? { rtol: 2e-3, atol: 1e-3 } : { rtol: 0, atol: 0 };
  await expectGpuMatchesInterpreter(b.build(), { x }, tol, { shaderF16 });
}

/**
 * An NCHW (or 1-3-D) input resized on its trailing two axes: each axis gets a scale, sizes = floor(in * scale)
 * (at least 1), given with the scales or alone; tf_crop_and_resize gets an roi that may leave [0, 1].
 */
const resizeCase = (attrs: Attrs, dtype: DType = 'f32'): fc.Arbitrary<{ x: Tensor; attrs: Attrs }> =>
  fc
    .record({
      lead: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 2 }),
      hw: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 2 }),
      scales: fc.array(fc.constantFrom(...SCALES), { minLength: 2, maxLength: 2 }),
      withScales: fc.boolean(),
      useAxes: fc.boolean(),
      roi: fc.array(fc.double({ min: -0.3, max: 1.3, noNaN: true }), { minLength: 4, maxLength: 4 }),
      seed: fc.integer({ min: 0, max: 2 ** 30 }),
    })
    .map(({ lead, hw, scales, withScales, useAxes, roi, seed }) => {
      const shape = [...lead, ...hw];
      const rank = shape.length;
      const sc = hw.map((_, i) => scales[i]!);
      const sizes = hw.map((d, i) => Math.max(1, Math.floor(d * sc[i]!)));
      const axes = hw.map((_, i) => rank - hw.length + i);
      const spread = (v: number[], fill: number): number[] => (useAxes ? v : [...lead.map(() => fill), ...v]);
      const a: Attrs = {
        ...attrs,
        sizes: useAxes ? sizes : [...lead, ...sizes],
        ...(useAxes ? { axes: axes.map((ax) => ax - (seed % 2) * rank) } : {}),
        ...(withScales ? { scales: spread(sc, 1) } : {}),
        ...(attrs.coordinate_transformation_mode === 'tf_crop_and_resize'
          ? { roi: [...spread(hw.map((_, i) => Math.min(roi[i]!, roi[i + 2]!)), 0), ...spread(hw.map((_, i) => Math.max(roi[i]!, roi[i + 2]!)), 1)], extrapolation_value: -7.5 }
          : {}),
      };
      return { x: randomTensor(dtype, shape, seed, { edges: 0 }), attrs: a };
    });

async function property(attrs: Attrs, dtype: DType = 'f32', runs = RUNS): Promise<void> {
  await fc.assert(
    fc.asyncProperty(resizeCase(attrs, dtype), ({ x, attrs: a }) => check(x, a)),
    { numRuns: runs },
  );
}

describe('resize kernels on the adapter vs the interpreter', () => {
  it.each(TRANSFORMS.flatMap((t) => NEAREST.map((n) => [t, n] as const)))('nearest %s %s', (coordinate_transformation_mode, nearest_mode) =>
    property({ mode: 'nearest', coordinate_transformation_mode, nearest_mode }),
  );

  it.each(TRANSFORMS)('linear %s', (coordinate_transformation_mode) => property({ mode: 'linear', coordinate_transformation_mode }, 'f32', 2 * RUNS));

  it.each(TRANSFORMS)('cubic %s', (coordinate_transformation_mode) => property({ mode: 'cubic', coordinate_transformation_mode }, 'f32', 2 * RUNS));

  it('cubic with exclude_outside and cubic_coeff_a = -0.5', () => property({ mode: 'cubic', exclude_outside: 1, cubic_coeff_a: -0.5 }, 'f32', 3 * RUNS));

  it.each(['linear', 'cubic'])('antialiased %s', (mode) =>
    property({ mode, antialias: 1, coordinate_transformation_mode: 'pytorch_half_pixel' }, 'f32', 3 * RUNS),
  );

  it('antialiased downsampling by a large factor', async () => {
    const x = randomTensor('f32', [1, 2, 40, 33], 9, { edges: 0 });
    await check(x, { mode: 'cubic', antialias: 1, sizes: [1, 2, 5, 4] });
    await check(x, { mode: 'linear', antialias: 1, sizes: [1, 2, 3, 7], coordinate_transformation_mode: 'half_pixel_symmetric' });
  });

  it.each(['u8', 'i8', 'i4'] as DType[])('%s data (nearest and exact linear weights)', async (dtype) => {
    const x = randomTensor(dtype, [2, 3, 5], 4);
    await check(x, { mode: 'nearest', sizes: [2, 7, 2], coordinate_transformation_mode: 'asymmetric', nearest_mode: 'ceil' });
    await check(x, { mode: 'linear', sizes: [2, 6, 10], scales: [1, 2, 2] });
    await check(x, { mode: 'nearest', sizes: [2, 4, 8], coordinate_transformation_mode: 'tf_crop_and_resize', roi: [0.1, -0.2, 0.9, 1.1], axes: [1, 2], extrapolation_value: 300 });
  });

  it.each([true, false])('f16 data (shader-f16: %s)', async (shaderF16) => {
    const x = randomTensor('f16', [1, 2, 4, 6], 8, { edges: 0 });
    await check(x, { mode: 'linear', sizes: [1, 2, 8, 9], coordinate_transformation_mode: 'align_corners' }, shaderF16);
    await check(x, { mode: 'cubic', sizes: [1, 2, 3, 4], antialias: 1 }, shaderF16);
  });
});
