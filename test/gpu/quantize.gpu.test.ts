// QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear compiled through the real compiler and runtime,
// against the interpreter, exactly (integer results, and dequantized f32 values, which are one correctly rounded
// product). Scales per tensor, per axis and per block; u8/i8/u4/i4 (and u2) with and without zero points;
// quotients that are exact .5 ties, or only become ties when rounded to f32; and the dynamic range reduction in
// one workgroup and in two stages, with all-zero, one-signed and NaN data.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type DType, GraphBuilder, type Tensor, intRange, makeTensor, tensorType } from '../../ir/index.js';
import { randomTensor, rng } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);
const EXACT = { rtol: 0, atol: 0 };
const QTYPES: readonly DType[] = ['u8', 'i8', 'u4', 'i4', 'u2'];

type Layout = 'tensor' | 'axis' | 'block';

interface Params {
  readonly scale: Tensor;
  readonly zeroPoint?: Tensor;
  readonly attrs: { axis?: number; block_size?: number };
}

/** Scale (positive, a few magnitudes) and zero point of `qtype` for x of `shape` in the given layout. */
function params(shape: readonly number[], layout: Layout, qtype: DType, withZp: boolean, seed: number, scaleType: DType = 'f32'): Params {
  const r = rng(seed);
  const axis = shape.length - 1 - Math.floor(r() * shape.length);
  const block = 1 + Math.floor(r() * 4);
  const pshape = layout === 'tensor' ? [] : layout === 'axis' ? [shape[axis]!] : shape.map((d, i) => (i === axis ? Math.ceil(d / block) : d));
  const [lo, hi] = intRange(qtype);
  const scale = makeTensor(scaleType, pshape, () => [0.5, 0.1, 0.37, 2, 0.003][Math.floor(r() * 5)]! * (1 + Math.floor(r() * 3)));
  const zeroPoint = withZp ? makeTensor(qtype, pshape, () => lo + Math.floor(r() * (hi - lo + 1))) : undefined;
  const attrs = layout === 'tensor' ? {} : layout === 'axis' ? { axis: axis - (seed % 2) * shape.length } : { axis, block_size: block };
  return { scale, ...(zeroPoint ? { zeroPoint } : {}), attrs };
}

/**
 * Exact, except i32 data beyond 2^24 (DequantizeLinear's int32 bias case), which the kernel converts to f32 before
 * multiplying: an extra rounding or two (x - zero_point overflowing i32 is taken in f32), so within a few ulps.
 */
async function run(op: string, x: Tensor, p: Params, extra: Record<string, string | number> = {}, shaderF16 = false): Promise<void> {
  const b = new GraphBuilder('q');
  const names = [b.input('x', tensorType(x.dtype, x.shape)), b.input('scale', tensorType(p.scale.dtype, p.scale.shape))];
  const inputs: Record<string, Tensor> = { x, scale: p.scale };
  if (p.zeroPoint) {
    names.push(b.input('zp', tensorType(p.zeroPoint.dtype, p.zeroPoint.shape)));
    inputs.zp = p.zeroPoint;
  }
  b.output(b.op(op, names, { ...p.attrs, ...extra }));
  const tol = op === 'DequantizeLinear' && x.dtype === 'i32' ? { rtol: 2 ** -21, atol: 0 } : EXACT;
  await expectGpuMatchesInterpreter(b.build(), inputs, tol, { shaderF16 });
}

/** x values near multiples of half the scale (so ties and near-ties are common), plus ordinary and edge values. */
function tieData(shape: readonly number[], p: Params, seed: number): Tensor {
  const r = rng(seed);
  const s = p.scale.data;
  return makeTensor('f32', shape, (i) => {
    const k = Math.floor(r() * 40) - 20;
    const scale = s[Math.floor(r() * s.length)] ?? 1;
    const pick = r();
    if (pick < 0.5) return (k + 0.5) * scale; // a tie when the scale is this element's (rounded to f32 on the way)
    if (pick < 0.6) return [0, -0, 1e30, -1e30, Infinity, -Infinity, NaN][i % 7]!;
    return (r() * 2 - 1) * 30 * scale;
  });
}

const shapes = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }).filter((s) => s.reduce((p, d) => p * d, 1) <= 3000);

describe('quantization kernels on the adapter vs the interpreter (exact)', () => {
  const layouts: Layout[] = ['tensor', 'axis', 'block'];
  it.each(layouts.flatMap((l) => QTYPES.map((q) => [l, q] as const)))('QuantizeLinear per %s to %s', async (layout, qtype) => {
    await fc.assert(
      fc.asyncProperty(shapes, fc.integer({ min: 0, max: 2 ** 30 }), fc.boolean(), async (shape, seed, withZp) => {
        const p = params(shape, layout, qtype, withZp || qtype !== 'u8', seed);
        await run('QuantizeLinear', tieData(shape, p, seed + 1), p, p.zeroPoint ? {} : { output_dtype: qtype });
      }),
      { numRuns: RUNS },
    );
  });

  it.each(layouts.flatMap((l) => [...QTYPES, 'i32' as DType].map((q) => [l, q] as const)))('DequantizeLinear per %s from %s', async (layout, qtype) => {
    await fc.assert(
      fc.asyncProperty(shapes, fc.integer({ min: 0, max: 2 ** 30 }), fc.boolean(), async (shape, seed, withZp) => {
        const p = params(shape, layout, qtype, withZp, seed);
        await run('DequantizeLinear', randomTensor(qtype, shape, seed + 1, { edges: 0.3 }), p);
      }),
      { numRuns: RUNS },
    );
  });

  it('QuantizeLinear from f16 and i32 data, and DequantizeLinear to f16', async () => {
    const shape = [3, 4, 6];
    const p = params(shape, 'axis', 'i8', true, 3, 'f16');
    await run('QuantizeLinear', makeTensor('f16', shape, (i) => (i % 9) * 0.3 - 1.2), p);
    await run('QuantizeLinear', randomTensor('i32', shape, 5), params(shape, 'block', 'u4', true, 6));
    for (const shaderF16 of [true, false]) await run('DequantizeLinear', randomTensor('i8', shape, 7), p, {}, shaderF16);
  });

  it('QuantizeLinear ties that appear only after rounding the quotient to f32', async () => {
    // 0.75 / f32(0.3) is just below 2.5 in exact arithmetic but exactly 2.5 in f32 (so it rounds to 2).
    const scale = makeTensor('f32', [], [0.3]);
    const x = makeTensor('f32', [64], (i) => Math.fround((i - 32 + 0.5) * Math.fround(0.3)));
    await run('QuantizeLinear', x, { scale, zeroPoint: makeTensor('i8', [], [3]), attrs: {} });
  });

  const dynamic: [string, () => Tensor][] = [
    ['small mixed-sign data', () => randomTensor('f32', [3, 7], 1, { edges: 0, range: 3 })],
    ['large data (two-stage range)', () => randomTensor('f32', [5, 4099], 2, { edges: 0, range: 20 })],
    ['positive data', () => makeTensor('f32', [300], (i) => 0.25 + i / 7)],
    ['negative data', () => makeTensor('f32', [33], (i) => -1 - i * 0.123)],
    ['all zeros', () => makeTensor('f32', [10], () => 0)],
    ['NaN in the data', () => makeTensor('f32', [9000], (i) => (i === 8000 ? NaN : i % 13))],
    ['f16 data', () => randomTensor('f16', [4, 9], 3, { edges: 0 })],
  ];
  it.each(dynamic)('DynamicQuantizeLinear: %s', async (_name, data) => {
    const x = data();
    const b = new GraphBuilder('dq');
    b.output(...b.node('DynamicQuantizeLinear', [b.input('x', tensorType(x.dtype, x.shape))]));
    await expectGpuMatchesInterpreter(b.build(), { x }, EXACT);
  });
});
