// QLinearMatMul, ConvInteger, QLinearConv and BitCast imported from one-node ONNX models and run with the reference
// interpreter: hand-computed integer cases (ties rounding to even, saturation, per-row/per-column and per-channel
// scales and zero points, padding with x's zero point), random cases against a direct loop over ONNX's formula
// (power-of-two scales, so every product is exact and f32 vs f64 cannot matter), and the refusals.
import { describe, expect, it } from 'vitest';
import { interpret } from '../../ir/interp.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import type { DType } from '../../ir/dtype.js';
import { DT, attrInt, attrInts, singleOp, valueInfo } from '../../scripts/lib/onnx-build.js';
import { rng } from '../gpu/data.js';

const ONNX: Record<string, number> = { u8: DT.UINT8, i8: DT.INT8, f32: DT.FLOAT, i32: DT.INT32, u32: DT.UINT32, bool: DT.BOOL };

interface In {
  readonly name: string;
  readonly t: Tensor;
  readonly onnx?: number;
}

function run(op: string, ins: readonly In[], out: number, attrs = {}, opset = 21): Tensor {
  const bytes = singleOp(op, ins.map((i) => valueInfo(i.name, i.onnx ?? ONNX[i.t.dtype]!, i.t.shape)), [valueInfo('y', out)], attrs, { opset });
  const { graph } = importOnnx(bytes);
  return interpret(graph, Object.fromEntries(ins.map((i) => [i.name, i.t])))['y']!;
}

const t = (dtype: DType, shape: number[], data: number[]): Tensor => makeTensor(dtype, shape, data);
const s = (v: number, shape: number[] = []): Tensor => makeTensor('f32', shape, Array(shape.reduce((a, b) => a * b, 1)).fill(v));
const rint = (x: number): number => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
const sat = (x: number, dt: DType): number => Math.min(Math.max(x, dt === 'u8' ? 0 : -128), dt === 'u8' ? 255 : 127);

function qmm(a: Tensor, as: Tensor, az: Tensor, b: Tensor, bs: Tensor, bz: Tensor, ys: Tensor, yz: Tensor): Tensor {
  const names = ['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'];
  return run('QLinearMatMul', [a, as, az, b, bs, bz, ys, yz].map((x, i) => ({ name: names[i]!, t: x })), ONNX[yz.dtype]!);
}

describe('QLinearMatMul', () => {
  it('computes hand-checked integer results, ties to even and saturation', () => {
    const a = t('u8', [2, 2], [1, 2, 3, 4]);
    const b = t('u8', [2, 2], [2, 0, 1, 3]);
    // (a - 1) x (b - 1) = [[0, 2], [2, 4]]
    const y = qmm(a, s(0.5), t('u8', [], [1]), b, s(0.25), t('u8', [], [1]), s(0.125), t('u8', [], [10]));
    expect(Array.from(y.data)).toEqual([10, 12, 12, 14]);
    // scale 1/4: [[0, .5], [.5, 1]] rounds half to even to [[0, 0], [0, 1]]
    const tie = qmm(a, s(0.5), t('u8', [], [1]), b, s(0.25), t('u8', [], [1]), s(0.5), t('u8', [], [10]));
    expect(Array.from(tie.data)).toEqual([10, 10, 10, 11]);
    // scale 64 saturates uint8 at 255; int8 output saturates at -128 and 127
    const big = qmm(a, s(8), t('u8', [], [1]), b, s(8), t('u8', [], [1]), s(1), t('u8', [], [250]));
    expect(Array.from(big.data)).toEqual([250, 255, 255, 255]);
    const neg = qmm(t('i8', [1, 2], [-100, 100]), s(1), t('i8', [], [0]), t('i8', [2, 1], [2, -1]), s(1), t('i8', [], [0]), s(1), t('i8', [], [0]));
    expect(Array.from(neg.data)).toEqual([-128]);
  });

  it('takes per-row scales of a and per-column scales of b', () => {
    const a = t('i8', [2, 3], [1, 2, 3, -1, -2, -3]);
    const b = t('i8', [3, 2], [1, 0, 0, 1, 1, 1]);
    // a x b = [[4, 5], [-4, -5]]; row scales [1, 2], column scales [0.5, 1], zero points per row/column
    const y = qmm(a, t('f32', [2], [1, 2]), t('i8', [2], [0, 0]), b, t('f32', [2], [0.5, 1]), t('i8', [2], [0, 0]), s(1), t('i8', [], [3]));
    expect(Array.from(y.data)).toEqual([5, 8, -1, -7]);
  });

  it('matches ONNX formula on random batched operands', () => {
    const r = rng(7);
    const int = (dt: DType, shape: number[]): Tensor =>
      makeTensor(dt, shape, () => (dt === 'u8' ? Math.floor(r() * 256) : Math.floor(r() * 256) - 128));
    for (const dt of ['u8', 'i8'] as const) {
      const [B, M, K, N] = [2, 3, 5, 4];
      const a = int(dt, [B, M, K]);
      const b = int(dt, [B, K, N]);
      const [az, bz, yz] = [int(dt, []), int(dt, []), int(dt, [])];
      const y = qmm(a, s(2 ** -3), az, b, s(2 ** -4), bz, s(2 ** -2), yz);
      const want = makeTensor(dt, [B, M, N], (i) => {
        const [bi, m, n] = [Math.floor(i / (M * N)), Math.floor(i / N) % M, i % N];
        let acc = 0;
        for (let k = 0; k < K; k++) acc += (a.data[(bi * M + m) * K + k]! - az.data[0]!) * (b.data[(bi * K + k) * N + n]! - bz.data[0]!);
        return sat(rint(acc * 2 ** -5) + yz.data[0]!, dt);
      });
      expect(Array.from(y.data)).toEqual(Array.from(want.data));
    }
  });
});

/** Direct NCHW convolution of zero-point shifted integers (padding is 0 after the shift), group 1. */
function convOracle(x: Tensor, xz: number, w: Tensor, wz: readonly number[], pad: number): { shape: number[]; data: number[] } {
  const [n, c, h, wd] = x.shape as number[];
  const [m, , kh, kw] = w.shape as number[];
  const [oh, ow] = [h! + 2 * pad - kh! + 1, wd! + 2 * pad - kw! + 1];
  const data: number[] = [];
  for (let b = 0; b < n!; b++)
    for (let o = 0; o < m!; o++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let acc = 0;
          for (let ci = 0; ci < c!; ci++)
            for (let u = 0; u < kh!; u++)
              for (let v = 0; v < kw!; v++) {
                const [yy, xx] = [i + u - pad, j + v - pad];
                if (yy < 0 || xx < 0 || yy >= h! || xx >= wd!) continue;
                const xv = x.data[((b * c! + ci) * h! + yy) * wd! + xx]! - xz;
                acc += xv * (w.data[((o * c! + ci) * kh! + u) * kw! + v]! - (wz[o] ?? wz[0]!));
              }
          data.push(acc);
        }
  return { shape: [n!, m!, oh, ow], data };
}

describe('ConvInteger and QLinearConv', () => {
  const r = rng(11);
  const x = makeTensor('u8', [1, 2, 5, 4], () => Math.floor(r() * 256));
  const w = makeTensor('u8', [3, 2, 3, 3], () => Math.floor(r() * 256));

  it('ConvInteger pads with the zero point and takes per-channel weight zero points', () => {
    const y = run('ConvInteger', [{ name: 'x', t: x }, { name: 'w', t: w }, { name: 'xz', t: t('u8', [], [120]) }, { name: 'wz', t: t('u8', [3], [100, 7, 200]) }], DT.INT32, { pads: attrInts([1, 1, 1, 1]) }, 10);
    const want = convOracle(x, 120, w, [100, 7, 200], 1);
    expect(y.dtype).toBe('i32');
    expect(y.shape).toEqual(want.shape);
    expect(Array.from(y.data)).toEqual(want.data);
  });

  it('QLinearConv adds the bias and requantizes per output channel', () => {
    const ins: In[] = [
      { name: 'x', t: x }, { name: 'xs', t: s(2 ** -4) }, { name: 'xz', t: t('u8', [], [128]) },
      { name: 'w', t: w }, { name: 'ws', t: t('f32', [3], [2 ** -8, 2 ** -9, 2 ** -10]) }, { name: 'wz', t: t('u8', [3], [128, 120, 130]) },
      { name: 'ys', t: s(2 ** -3) }, { name: 'yz', t: t('u8', [], [100]) }, { name: 'bias', t: t('i32', [3], [500, -7000, 31]) },
    ];
    const y = run('QLinearConv', ins, DT.UINT8, {}, 10);
    const acc = convOracle(x, 128, w, [128, 120, 130], 0);
    const per = acc.data.length / 3;
    const bias = [500, -7000, 31];
    const want = acc.data.map((v, i) => sat(rint((v + bias[Math.floor(i / per)]!) * 2 ** -(9 + Math.floor(i / per))) + 100, 'u8'));
    expect(y.shape).toEqual(acc.shape);
    expect(Array.from(y.data)).toEqual(want);
  });

  it('refuses runtime weights whose sums could leave f32 exact integers', () => {
    const wide = makeTensor('u8', [1, 300, 1, 1], () => 1);
    const xs = makeTensor('u8', [1, 300, 1, 1], () => 1);
    expect(() => run('ConvInteger', [{ name: 'x', t: xs }, { name: 'w', t: wide }], DT.INT32, {}, 10)).toThrow(/exact only while sums stay below 2\^24/);
  });
});

describe('BitCast', () => {
  const cast = (x: Tensor, to: number, onnx?: number): Tensor => run('BitCast', [{ name: 'x', t: x, ...(onnx ? { onnx } : {}) }], to, { to: attrInt(to) }, 26);

  it('reinterprets 32-bit patterns', () => {
    expect(Array.from(cast(t('f32', [3], [1, -2, 0]), DT.INT32).data)).toEqual([0x3f800000, -0x40000000, 0]);
    expect(Array.from(cast(t('i32', [2], [0x3f800000, -0x40000000]), DT.FLOAT).data)).toEqual([1, -2]);
    expect(Array.from(cast(t('u32', [2], [0xffffffff, 5]), DT.INT32).data)).toEqual([-1, 5]);
    expect(Array.from(cast(t('i32', [1], [-1]), DT.UINT32).data)).toEqual([0xffffffff]);
  });

  it('keeps the bits of narrower integers and bool', () => {
    expect(Array.from(cast(t('u32', [3], [65535, 32768, 5]), DT.INT16, DT.UINT16).data)).toEqual([-1, -32768, 5]);
    expect(Array.from(cast(t('i32', [3], [-1, -32768, 5]), DT.UINT16, DT.INT16).data)).toEqual([65535, 32768, 5]);
    expect(Array.from(cast(t('i8', [2], [-1, 7]), DT.UINT8).data)).toEqual([255, 7]);
    expect(Array.from(cast(t('bool', [2], [1, 0]), DT.UINT8).data)).toEqual([1, 0]);
  });

  it('refuses pairs it cannot reinterpret exactly', () => {
    expect(() => cast(t('f32', [1], [1]), DT.INT64)).toThrow(/64-bit types/);
    expect(() => cast(makeTensor('f16', [1], [1]), DT.INT16, DT.FLOAT16)).toThrow(/only between int16 and uint16/);
  });
});
