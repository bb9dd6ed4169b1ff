// QLinearMatMul, ConvInteger, QLinearConv and BitCast, imported from one-node ONNX models, compiled and run on the
// adapter against the interpreter on random inputs with ragged sizes; integer outputs must match exactly.
import { describe, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import type { DType } from '../../ir/dtype.js';
import { DT, attrInt, attrInts, singleOp, valueInfo } from '../../scripts/lib/onnx-build.js';
import { randomTensor, rng } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const EXACT = { rtol: 0, atol: 0 };
const ONNX: Record<string, number> = { u8: DT.UINT8, i8: DT.INT8, f32: DT.FLOAT, i32: DT.INT32, u32: DT.UINT32 };

async function check(op: string, ins: Record<string, Tensor>, out: number, attrs = {}, opset = 21): Promise<void> {
  const bytes = singleOp(op, Object.entries(ins).map(([n, t]) => valueInfo(n, ONNX[t.dtype]!, t.shape)), [valueInfo('y', out)], attrs, { opset });
  await expectGpuMatchesInterpreter(importOnnx(bytes).graph, ins, EXACT);
}

let seed = 100;
const int = (dt: DType, shape: number[]): Tensor => randomTensor(dt, shape, seed++);
/** Positive scales with ordinary (not power-of-two) values, so products round. */
const scale = (shape: number[]): Tensor => {
  const r = rng(seed++);
  return makeTensor('f32', shape, () => 0.001 + r() * 0.05);
};

describe('QLinearMatMul on the GPU', () => {
  const shapes: [number[], number[]][] = [[[1, 1], [1, 1]], [[7, 13], [13, 5]], [[3, 17, 33], [3, 33, 9]], [[2, 65, 31], [31, 70]]];
  for (const dt of ['u8', 'i8'] as const)
    for (const [sa, sb] of shapes)
      it(`${dt} ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`, async () => {
        const [m, n] = [sa[sa.length - 2]!, sb[sb.length - 1]!];
        const rows = sa.length === 2 && m > 1;
        await check('QLinearMatMul', {
          a: int(dt, sa), a_scale: rows ? scale([m]) : scale([]), a_zero_point: rows ? int(dt, [m]) : int(dt, []),
          b: int(dt, sb), b_scale: rows ? scale([n]) : scale([]), b_zero_point: rows ? int(dt, [n]) : int(dt, []),
          y_scale: scale([]), y_zero_point: int(dt, []),
        }, ONNX[dt]!);
      });
});

describe('ConvInteger and QLinearConv on the GPU', () => {
  for (const [x, w, pads, strides] of [
    [[1, 3, 7, 9], [5, 3, 3, 3], [1, 1, 1, 1], [1, 1]],
    [[2, 4, 11, 6], [3, 4, 2, 3], [0, 1, 0, 2], [2, 1]],
  ] as const) {
    it(`ConvInteger x ${JSON.stringify(x)} w ${JSON.stringify(w)}`, async () => {
      await check('ConvInteger', { x: int('u8', [...x]), w: int('u8', [...w]), xz: int('u8', []), wz: int('u8', [w[0]]) }, DT.INT32,
        { pads: attrInts([...pads]), strides: attrInts([...strides]) }, 10);
    });
    it(`QLinearConv x ${JSON.stringify(x)} w ${JSON.stringify(w)}`, async () => {
      await check('QLinearConv', {
        x: int('i8', [...x]), xs: scale([]), xz: int('i8', []), w: int('i8', [...w]), ws: scale([w[0]]), wz: int('i8', [w[0]]),
        ys: scale([]), yz: int('i8', []), bias: int('i32', [w[0]]),
      }, DT.INT8, { pads: attrInts([...pads]), strides: attrInts([...strides]) }, 10);
    });
  }
});

describe('BitCast on the GPU', () => {
  for (const [from, to] of [['f32', DT.INT32], ['f32', DT.UINT32], ['i32', DT.FLOAT], ['u32', DT.INT32], ['i32', DT.UINT32]] as const)
    it(`${from} -> ${to}`, async () => {
      // Integer sources stay clear of NaN bit patterns, whose payloads JS numbers need not keep.
      const x = from === 'f32' ? randomTensor('f32', [3, 37], seed++) : makeTensor(from, [3, 37], (i) => (i * 2654435761) % 0x7f000000);
      await check('BitCast', { x }, to, { to: attrInt(to) }, 26);
    });
});
