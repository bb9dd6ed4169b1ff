// MatMul, Gemm and MatMulInteger on the adapter against the interpreter, compiled through the real compiler and
// runtime: ragged sizes around the tiles (1, tile-1, tile+1, primes) on both the tiled and the skinny path,
// broadcast batch dims, 1-D operands, transA/transB with alpha/beta and every C broadcast, skinny N and M = 1..8,
// zero points of every layout. Float results within rtol 1e-4 / atol 1e-5 (inputs in [-1, 1]); integer exact.
// The epilogue hook is tested on specs directly (bias add then Relu, and a Sub with the value second).
import { describe, expect, it } from 'vitest';
import { compileKernel } from '../../compiler/kernel-spec.js';
import { type MatMulSpec, chooseMatMulPath, matMulSpec, matmul } from '../../compiler/kernels/matmul.js';
import { type Attrs, type DType, GraphBuilder, type Tensor, makeTensor, tensorType, toleranceExcess } from '../../ir/index.js';
import { randomTensor } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';
import { runKernel, testGpu } from './harness.js';

const F32_TOL = { rtol: 1e-4, atol: 1e-5 };
const EXACT = { rtol: 0, atol: 0 };

interface Operand {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

let seed = 1;

/** One node over fresh inputs (an undefined operand is an omitted optional input). */
async function check(op: string, operands: readonly (Operand | undefined)[], attrs: Attrs = {}, opts: { f16?: boolean; range?: number } = {}): Promise<void> {
  const b = new GraphBuilder(op);
  const inputs: Record<string, Tensor> = {};
  const names = operands.map((o, i) => {
    if (!o) return '';
    const name = b.input(`x${i}`, tensorType(o.dtype, o.shape));
    inputs[name] = randomTensor(o.dtype, o.shape, seed++, { range: opts.range ?? 1, edges: 0 });
    return name;
  });
  b.output(b.op(op, names, attrs));
  const exact = !operands[0]!.dtype.startsWith('f');
  const tol = exact ? EXACT : opts.f16 ? { rtol: 2e-3, atol: 2e-3 } : F32_TOL;
  await expectGpuMatchesInterpreter(b.build(), inputs, tol, { shaderF16: !!opts.f16 });
}

const f32 = (...shape: number[]): Operand => ({ dtype: 'f32', shape });

describe('MatMul', () => {
  // [M, K, N]: ragged around the 32- and 64-wide tiles and the 16-deep K slices, primes, and the skinny path.
  const SIZES: readonly [number, number, number][] = [
    [1, 1, 1],
    [9, 9, 9],
    [31, 17, 33],
    [32, 32, 32],
    [33, 31, 36],
    [63, 65, 67],
    [36, 44, 68],
    [257, 131, 259],
    [256, 256, 256],
    [37, 300, 11],
  ];
  for (const [m, k, n] of SIZES)
    it(`[${m},${k}] x [${k},${n}] (${chooseMatMulPath(m, n, k, { contig: 'col' }, { contig: 'col' }).kind})`, async () => {
      await check('MatMul', [f32(m, k), f32(k, n)]);
    });

  for (let s = 1; s <= 8; s++)
    it(`skinny: M = ${s} and N = ${s}`, async () => {
      await check('MatMul', [f32(s, 67 + s * 31), f32(67 + s * 31, 129)]);
      await check('MatMul', [f32(45, 300), f32(300, s)]);
    });

  it('GEMV with a long K and ragged tails, vec4 and scalar', async () => {
    await check('MatMul', [f32(1, 1000), f32(1000, 777)]);
    await check('MatMul', [f32(1, 1001), f32(1001, 780)]);
    await check('MatMul', [f32(777, 1001), f32(1001, 1)]);
    await check('MatMul', [f32(8, 100), f32(100, 132)]);
    await check('Gemm', [f32(3, 1000), f32(775, 1000)], { transB: 1 });
  });

  it('1-D operands', async () => {
    await check('MatMul', [f32(37), f32(37, 19)]);
    await check('MatMul', [f32(19, 37), f32(37)]);
    await check('MatMul', [f32(37), f32(37)]);
    await check('MatMul', [f32(3, 37), f32(2, 3, 37, 40)]);
    await check('MatMul', [f32(2, 3, 40, 37), f32(37)]);
  });

  it('batched, with broadcast batch dims', async () => {
    await check('MatMul', [f32(3, 33, 17), f32(3, 17, 35)]);
    await check('MatMul', [f32(2, 1, 33, 17), f32(1, 3, 17, 35)]);
    await check('MatMul', [f32(5, 40, 20), f32(20, 36)]);
    await check('MatMul', [f32(40, 20), f32(4, 2, 20, 36)]);
    await check('MatMul', [f32(4, 1, 20), f32(4, 20, 3)]);
    await check('MatMul', [f32(2, 3, 1, 20), f32(1, 20, 300)]);
    // More products than one dispatch dimension holds (65535 workgroups): folded into y.
    await check('MatMul', [f32(70001, 1, 3), f32(70001, 3, 2)]);
  });

  it('f16 operands accumulate in f32', async () => {
    const gpu = await testGpu();
    if (!gpu.shaderF16) return;
    // Even element counts: the runtime binds regions at their exact size, which must be a multiple of 4 bytes.
    await check('MatMul', [{ dtype: 'f16', shape: [33, 70] }, { dtype: 'f16', shape: [70, 42] }], {}, { f16: true });
    await check('MatMul', [{ dtype: 'f16', shape: [2, 70] }, { dtype: 'f16', shape: [70, 41] }], {}, { f16: true });
    // Multiples of 4: both operands read as vec4<f16>, on the skinny and the tiled path.
    await check('MatMul', [{ dtype: 'f16', shape: [4, 64] }, { dtype: 'f16', shape: [64, 96] }], {}, { f16: true });
    await check('MatMul', [{ dtype: 'f16', shape: [36, 64] }, { dtype: 'f16', shape: [64, 68] }], {}, { f16: true });
  });
});

describe('f16 weights widened by a fused Cast (f32 activations, f16 operand read packed or as f16)', () => {
  // [M, K, N], transB: skinny (decode) and tiled; multiples of 4 take the vec4 f16 loads (vec4<f16>, or two
  // packed words), odd sizes the scalar ones, where packed f16 pairs straddle rows.
  const CASES: readonly [number, number, number, boolean][] = [
    [1, 33, 17, false],
    [1, 64, 96, true],
    [1, 64, 96, false],
    [40, 64, 72, false],
    [40, 64, 72, true],
    [3, 17, 45, true],
    [37, 31, 29, false],
    [70, 65, 66, true],
  ];
  for (const [m, k, n, transB] of CASES)
    for (const f16 of [true, false])
      it(`[${m},${k}] x ${transB ? `[${n},${k}]^T` : `[${k},${n}]`}, shader-f16 ${f16 ? 'on' : 'off'}`, async () => {
        const b = new GraphBuilder('widened');
        const x = b.input('x', tensorType('f32', [m, k]));
        const w = b.input('w', tensorType('f16', transB ? [n, k] : [k, n]));
        const wide = b.op('Cast', [w], { to: 'f32' });
        b.output(b.op('Gemm', [x, wide], { transB: transB ? 1 : 0 }));
        const inputs = { x: randomTensor('f32', [m, k], seed++, { range: 1, edges: 0 }), w: randomTensor('f16', transB ? [n, k] : [k, n], seed++, { range: 1, edges: 0 }) };
        await expectGpuMatchesInterpreter(b.build(), inputs, F32_TOL, { shaderF16: f16 });
      });
});

describe('Gemm', () => {
  for (const [transA, transB] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ] as const)
    it(`transA=${transA} transB=${transB}, alpha and beta, tiled and skinny`, async () => {
      for (const [m, k, n] of [
        [35, 29, 70],
        [36, 44, 68],
        [3, 70, 45],
        [4, 68, 44],
        [70, 45, 5],
        [68, 44, 4],
      ] as const) {
        const a = transA ? f32(k, m) : f32(m, k);
        const b = transB ? f32(n, k) : f32(k, n);
        await check('Gemm', [a, b, f32(m, n)], { transA, transB, alpha: 0.5, beta: -1.5 });
      }
    });

  it('alpha 0 and beta 0 are IEEE products: 0 times NaN or ±inf is NaN, and zeros keep their sign', async () => {
    // A driver may fold 0 * x to 0 (WGSL lets it assume no NaN or infinity), so the kernel must not write 0 * x.
    // Rows of A: ordinary (sum 2.5 or -2.5), one with +inf, one with NaN; C holds NaN, ±inf, negative and positive values.
    const A = makeTensor('f32', [4, 3], [1, 0.5, 1, -1, -0.5, -1, Infinity, 1, 2, 1, NaN, 2]);
    const B = makeTensor('f32', [3, 2], [1, -1, 1, -1, 1, -1]);
    const C = makeTensor('f32', [4, 2], [NaN, -3, Infinity, 2, -0, 5, -Infinity, -7]);
    for (const [alpha, beta] of [[0, 1], [1, 0], [0, 0], [-0, 0.5]] as const) {
      const b = new GraphBuilder('gemm');
      b.output(b.op('Gemm', [b.input('a', tensorType('f32', [4, 3])), b.input('b', tensorType('f32', [3, 2])), b.input('c', tensorType('f32', [4, 2]))], { alpha, beta }));
      await expectGpuMatchesInterpreter(b.build(), { a: A, b: B, c: C }, EXACT);
    }
  });

  it('C broadcast: scalar, [N], [1,N], [M,1], none', async () => {
    for (const c of [f32(), f32(40), f32(1, 40), f32(33, 1), f32(1), undefined])
      await check('Gemm', [f32(33, 20), f32(20, 40), c], { alpha: 2, beta: 0.25 });
  });
});

describe('MatMulInteger', () => {
  const i8 = (...shape: number[]): Operand => ({ dtype: 'i8', shape });
  const u8 = (...shape: number[]): Operand => ({ dtype: 'u8', shape });

  it('u8 x i8 and i8 x u8 without zero points, tiled and skinny', async () => {
    await check('MatMulInteger', [u8(35, 70), i8(70, 33)]);
    await check('MatMulInteger', [i8(2, 70), u8(70, 33)]);
    await check('MatMulInteger', [i8(3, 35, 17), i8(17, 9)]);
  });

  it('zero points: scalar, per row of A, per column of B, broadcast', async () => {
    await check('MatMulInteger', [u8(35, 70), u8(70, 33), u8(), u8()]);
    await check('MatMulInteger', [u8(35, 70), i8(70, 33), u8(35), i8(33)]);
    await check('MatMulInteger', [i8(4, 70), u8(70, 40), i8(1), u8(1, 40)]);
    await check('MatMulInteger', [u8(2, 9, 20), u8(20, 3), u8(2, 9, 1), undefined]);
    await check('MatMulInteger', [i8(9, 20), i8(20, 50), undefined, i8(50)]);
  });
});

describe('matmul epilogue (spec level)', () => {
  it('bias add then Relu, and Sub with the running value second', async () => {
    const gpu = await testGpu();
    const target = { shaderF16: false };
    const [m, k, n] = [37, 21, 45];
    const a = randomTensor('f32', [m, k], 11, { range: 1, edges: 0 });
    const b = randomTensor('f32', [k, n], 12, { range: 1, edges: 0 });
    const bias = randomTensor('f32', [n], 13, { range: 1, edges: 0 });
    const col = randomTensor('f32', [m, 1], 14, { range: 1, edges: 0 });
    for (const path of [undefined, chooseMatMulPath(2, n, k, { contig: 'col' }, { contig: 'col' })]) {
      const rows = path ? 2 : m;
      const spec: MatMulSpec = matMulSpec(target, {
        a: { dtype: 'f32', shape: [rows, k] },
        b: { dtype: 'f32', shape: [k, n] },
        out: { dtype: 'f32', shape: [rows, n] },
        epilogue: [
          { op: 'Add', attrs: {}, operands: [{ dtype: 'f32', shape: [n] }] },
          { op: 'Relu', attrs: {}, operands: [] },
          { op: 'Sub', attrs: {}, operands: [{ dtype: 'f32', shape: [rows, 1] }], at: 1 },
        ],
      });
      const aIn = makeTensor('f32', [rows, k], a.data.slice(0, rows * k));
      const colIn = makeTensor('f32', [rows, 1], col.data.slice(0, rows));
      const [got] = await runKernel(gpu, compileKernel(matmul, spec), [aIn, b, bias, colIn]);
      const want = makeTensor('f32', [rows, n], (idx) => {
        const [i, j] = [Math.floor(idx / n), idx % n];
        let acc = 0;
        for (let p = 0; p < k; p++) acc += aIn.data[i * k + p]! * b.data[p * n + j]!;
        return colIn.data[i]! - Math.max(acc + bias.data[j]!, 0);
      });
      expect(toleranceExcess(got!, want, 1e-4, 1e-5)).toBe(0);
    }
  });
});
