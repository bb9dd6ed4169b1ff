// Integer and quantized-linear matmul and convolution, decomposed over kiln's ops:
//   - QLinearMatMul: MatMulInteger (exact i32 accumulation of the zero-point shifted operands), then requantize;
//   - ConvInteger: Conv in f32 on the zero-point shifted operands (exact integers, see convBound), cast to i32;
//   - QLinearConv: ConvInteger's accumulator plus the i32 bias, then requantize.
// Requantizing follows ONNX's reference and onnxruntime: acc * (scale_a * scale_b / y_scale), the combined scale
// computed in the scales' own dtype, rounded half to even, plus y_zero_point, saturated to the output dtype. The
// product is taken in f32 (onnxruntime's precision; ONNX's numpy reference uses f64, which can only differ when
// the f32 product lands within an ulp of a .5 tie).
import type { Attrs } from '../../../graph.js';
import { intRange } from '../../../dtype.js';
import { makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, passAttrs, rules } from '../rule.js';

/** f32 holds every integer below 2^24 exactly, so sums of integer products stay exact up to this magnitude. */
const F32_EXACT = 2 ** 24;

/**
 * A per-row or per-channel scale or zero point as a tensor that broadcasts against the result: a 1-D value of
 * length n > 1 indexes the axis `trailing` dims from the end (rows of a matmul: 1, conv channels: spatial rank),
 * so it gains that many trailing 1s; scalars and N-D values broadcast as they are.
 */
function alongAxis(cx: NodeContext, i: number, trailing: number): string {
  const t = cx.type(i);
  if (t.shape.length !== 1 || t.shape[0] === 1 || trailing === 0) return cx.input(i);
  return cx.emit1('Reshape', [cx.input(i)], { shape: [t.shape[0]!, ...Array<number>(trailing).fill(1)] });
}

const toF32 = (cx: NodeContext, name: string, dtype: string): string => (dtype === 'f32' ? name : cx.emit1('Cast', [name], { to: 'f32' }));

/**
 * y = saturate(rint(acc * (sa * sb / sy)) + zy) for the i32 accumulator `acc`; sa, sb, sy, zy are value names
 * already shaped to broadcast against acc. Rounding before adding the zero point is the same integer as ONNX's
 * rint(acc * s + zy), and keeps the f32 addition exact.
 */
function requantize(cx: NodeContext, acc: string, sa: string, sb: string, sy: string, zy: string, scaleDType: string): void {
  const outDType = cx.type(7).dtype;
  if (outDType !== 'u8' && outDType !== 'i8') invalid(`${cx.op}: y_zero_point must be uint8 or int8, got ${outDType}`);
  const scale = toF32(cx, cx.emit1('Div', [cx.emit1('Mul', [sa, sb]), sy]), scaleDType);
  const rounded = cx.emit1('Round', [cx.emit1('Mul', [cx.emit1('Cast', [acc], { to: 'f32' }), scale])]);
  const shifted = cx.emit1('Add', [rounded, cx.emit1('Cast', [zy], { to: 'f32' })]);
  const [lo, hi] = intRange(outDType);
  cx.emitOutputs('Cast', [cx.emit1('Clip', [shifted], { min: lo, max: hi })], { to: outDType });
}

function checkScales(cx: NodeContext, indices: readonly number[]): string {
  const dtype = cx.type(indices[0]!).dtype;
  for (const i of indices) {
    const t = cx.type(i).dtype;
    if (t !== dtype || !['f32', 'f16', 'bf16'].includes(t))
      invalid(`${cx.op}: scales must all be one float dtype, got ${indices.map((k) => cx.type(k).dtype).join(', ')}`);
  }
  return dtype;
}

function qlinearMatMul(cx: NodeContext): void {
  const scaleDType = checkScales(cx, [1, 4, 6]);
  const acc = cx.emit1('MatMulInteger', [cx.input(0), cx.input(3), cx.input(2), cx.input(5)]);
  // a's per-row scale [M] reads as [M, 1]; b's per-column scale [N] broadcasts as it is.
  const sa = cx.type(0).shape.length > 1 ? alongAxis(cx, 1, 1) : cx.input(1);
  requantize(cx, acc, sa, cx.input(4), cx.input(6), cx.input(7), scaleDType);
}

// ---------------------------------------------------------------------------------------------------------
// Convolution

/** Largest |v - zp| over the integers of `dtype`, given a known zero point (else the worst case). */
function maxShift(dtype: string, zp: number | undefined): number {
  const [lo, hi] = intRange(dtype as 'u8');
  return zp === undefined ? hi - lo : Math.max(zp - lo, hi - zp);
}

/**
 * An upper bound on |partial sum| of the shifted convolution: with constant weights and zero points, per output
 * channel sum |w - wzp| times the largest |x - xzp|; otherwise reduction length × both extremes. (The bias is
 * added afterwards in i32, so it needs no room here.)
 */
function convBound(cx: NodeContext, xi: number, wi: number, xzp: number, wzp: number): number {
  const w = cx.type(wi);
  const xz = cx.constant(xzp);
  const maxX = maxShift(cx.type(xi).dtype, xz && xz.data.length === 1 ? xz.data[0] : undefined);
  const dims = w.shape.map((d) => (typeof d === 'number' ? d : Infinity));
  const perChannel = dims.slice(1).reduce((a, b) => a * b, 1);
  const wc = cx.constant(wi);
  const wz = cx.has(wzp) ? cx.constant(wzp) : makeTensor('i32', [], [0]);
  if (!wc || !wz) return perChannel * maxX * maxShift(w.dtype, undefined);
  let worst = 0;
  for (let m = 0; m < dims[0]!; m++) {
    const z = wz.data.length === 1 ? wz.data[0]! : wz.data[m]!;
    let sum = 0;
    for (let k = 0; k < perChannel; k++) sum += Math.abs(wc.data[m * perChannel + k]! - z);
    worst = Math.max(worst, sum);
  }
  return worst * maxX;
}

/** Input positions of a convolution's operands: ConvInteger's and QLinearConv's differ. */
interface ConvInputs {
  readonly w: number;
  readonly xzp: number;
  readonly wzp: number;
  readonly bias?: number;
}

/**
 * The i32 accumulator of the zero-point shifted convolution (written to `out` when given): Conv in f32, exact
 * while convBound < 2^24; padding is 0 after the shift, i.e. x's zero point, as ONNX specifies.
 */
function convAccumulator(cx: NodeContext, ix: ConvInputs, out?: string): string {
  const [x, w] = [cx.type(0), cx.type(ix.w)];
  for (const [name, t] of [['x', x], ['w', w]] as const)
    if (t.dtype !== 'u8' && t.dtype !== 'i8') invalid(`${cx.op}: ${name} must be uint8 or int8, got ${t.dtype}`);
  const bound = convBound(cx, 0, ix.w, ix.xzp, ix.wzp);
  if (bound >= F32_EXACT)
    unsupported(
      'ir',
      `${cx.op} with weights ${JSON.stringify(w.shape)}: kiln convolves integers in f32, exact only while sums stay below 2^24 ` +
        `(this one may reach ${bound}); make the weights constant or use fewer input channels per group`,
    );
  const spatial = x.shape.length - 2;
  const shift = (vi: number, zi: number, trailing: number): string => {
    const v = cx.emit1('Cast', [cx.input(vi)], { to: 'f32' });
    return cx.has(zi) ? cx.emit1('Sub', [v, cx.emit1('Cast', [alongAxis(cx, zi, trailing)], { to: 'f32' })]) : v;
  };
  // x's zero point is per tensor; w's may be per output channel ([M] -> [M, 1, ..., 1] against [M, C/g, k...]).
  const attrs: Attrs = passAttrs(cx, 'Conv');
  const conv = cx.emit1('Conv', [shift(0, ix.xzp, 0), shift(ix.w, ix.wzp, spatial + 1)], attrs);
  const hasBias = ix.bias !== undefined && cx.has(ix.bias);
  const acc = cx.emit1('Cast', [conv], { to: 'i32' }, hasBias ? undefined : out);
  return hasBias ? cx.emit1('Add', [acc, alongAxis(cx, ix.bias!, spatial)], {}, out) : acc;
}

function convInteger(cx: NodeContext): void {
  convAccumulator(cx, { w: 1, xzp: 2, wzp: 3 }, cx.output(0) || undefined);
}

function qlinearConv(cx: NodeContext): void {
  const scaleDType = checkScales(cx, [1, 4, 6]);
  const spatial = cx.type(0).shape.length - 2;
  const acc = convAccumulator(cx, { w: 3, xzp: 2, wzp: 5, bias: 8 });
  // w's per-output-channel scale [M] reads as [M, 1, ..., 1] against the output [N, M, spatial...].
  requantize(cx, acc, cx.input(1), alongAxis(cx, 4, spatial), cx.input(6), cx.input(7), scaleDType);
}

export const QLINEAR_RULES: OpRule[] = [
  ...rules('QLinearMatMul', [10, undefined, qlinearMatMul]),
  ...rules('ConvInteger', [10, undefined, convInteger]),
  ...rules('QLinearConv', [10, undefined, qlinearConv]),
];
