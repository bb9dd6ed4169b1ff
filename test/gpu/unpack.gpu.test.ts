// The unpack kernel on the adapter: every sub-byte width 1..8, signed and unsigned, odd lengths (partial last
// words, including widths such as 3 that leave unused bits in each word), against the interpreter: exactly
// Cast(q -> f32) without parameters, and exactly Cast -> Sub(zero point) -> Mul(scale) when dequantizing.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { compileKernel } from '../../compiler/kernel-spec.js';
import { type UnpackSpec, unpack } from '../../compiler/kernels/unpack.js';
import { GraphBuilder, type SubByteInt, type Tensor, interpret, intRange, scalarTensor, tensorType, tensorsIdentical } from '../../ir/index.js';
import { describeMismatch, oracle, randomTensor } from './data.js';
import { runKernel, testGpu } from './harness.js';

const WIDTHS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
const DTYPES: SubByteInt[] = WIDTHS.flatMap((b) => [`i${b}` as const, `u${b}` as const]);

/** Lengths that rarely fill the last word: odd sizes, 1, and a few multi-workgroup ones. */
const arbShape = fc.oneof(
  fc.integer({ min: 1, max: 97 }).map((n) => [2 * n - 1]),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 13 })).map(([a, b]) => [a, 2 * b + 1]),
  fc.integer({ min: 2000, max: 5000 }).map((n) => [n | 1]),
);

/** The interpreter's dequantization: Cast(q -> f32), minus the zero point, times the scale (each rounded to f32). */
function dequantOracle(q: Tensor, scale: number, zeroPoint: number): Tensor {
  const b = new GraphBuilder('dequant');
  const x = b.input('q', tensorType(q.dtype, q.shape));
  const f = b.op('Cast', [x], { to: 'f32' });
  const centered = b.op('Sub', [f, b.constant(scalarTensor('f32', zeroPoint))]);
  const y = b.op('Mul', [centered, b.constant(scalarTensor('f32', scale))]);
  b.output(y);
  return interpret(b.build(), { q })[y]!;
}

async function runUnpack(spec: UnpackSpec, q: Tensor): Promise<Tensor> {
  const [out] = await runKernel(await testGpu(), compileKernel(unpack, spec), [q]);
  return out!;
}

describe('unpack kernel on the adapter vs the interpreter', () => {
  it.each(DTYPES)('%s -> f32 equals Cast', async (dtype) => {
    await fc.assert(
      fc.asyncProperty(arbShape, fc.integer({ min: 0, max: 2 ** 30 }), async (shape, seed) => {
        const q = randomTensor(dtype, shape, seed);
        const spec: UnpackSpec = { kernel: 'unpack', target: { shaderF16: false }, dtype, shape, workgroupSize: 64 };
        const got = await runUnpack(spec, q);
        const want = oracle('Cast', [q], { to: 'f32' });
        if (!tensorsIdentical(got, want)) throw new Error(`${dtype} seed ${seed}\n${describeMismatch(got, want, [q])}`);
      }),
      { numRuns: 2 },
    );
  });

  it.each(DTYPES)('%s dequantizes with scale and zero point', async (dtype) => {
    const [lo, hi] = intRange(dtype);
    await fc.assert(
      fc.asyncProperty(
        arbShape,
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.float({ min: Math.fround(1e-4), max: 10, noNaN: true }),
        fc.integer({ min: lo, max: hi }),
        async (shape, seed, scale, zeroPoint) => {
          const q = randomTensor(dtype, shape, seed);
          const spec: UnpackSpec = { kernel: 'unpack', target: { shaderF16: false }, dtype, shape, scale, zeroPoint, workgroupSize: 64 };
          const got = await runUnpack(spec, q);
          const want = dequantOracle(q, scale, zeroPoint);
          if (!tensorsIdentical(got, want)) throw new Error(`${dtype} scale ${scale} zp ${zeroPoint}\n${describeMismatch(got, want, [q])}`);
        },
      ),
      { numRuns: 1 },
    );
  });
});
