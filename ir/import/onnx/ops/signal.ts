// Signal ops (opset 17+). The window functions and MelWeightMatrix are functions of scalar sizes, which kiln
// needs at compile time anyway (they fix output shapes), so they fold to constants; a size computed at run time
// is a 'dynamic' refusal naming the value. DFT and STFT over a static signal length are a MatMul with a
// constant basis (cos/sin of 2*pi*((j*k) mod n)/n, computed in float64 and rounded once to f32), so the result is
// exact to f32 rounding and runs on the tuned matmul kernels. Complex values are a trailing dim of 2 (real,
// imag); the basis maps the flattened (sample, part) pairs of a frame onto (bin, part) pairs. Semantics follow
// onnx/reference (op_dft.py, op_stft.py, op_mel_weight_matrix.py, _op_common_window.py), including DFT's
// inverse+onesided = irfft (a onesided spectrum in, a real signal of dft_length, default 2*(bins-1), out).
import type { DType } from '../../../dtype.js';
import { type Dim, isStaticDim } from '../../../shape.js';
import { type Tensor, makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { constantDType } from '../dtypes.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';

/** Largest basis (elements) kiln embeds: 128 MiB of f32, a 4096-point onesided STFT. */
const MAX_BASIS = 2 ** 25;

/** The output_datatype attribute (default float) as the dtype a folded constant is held in. */
function outputDType(cx: NodeContext): DType {
  const dt = constantDType(cx.attrs.int('output_datatype', 1), `${cx.op} output_datatype`);
  if (dt === 'bool') invalid(`${cx.op} output_datatype must be a numeric type, got bool`);
  return dt;
}

/** A scalar operand that must be a whole number >= min; a run-time value is a 'dynamic' refusal naming it. */
function sizeScalar(cx: NodeContext, i: number, what: string, min: number): number {
  const v = cx.constIntScalar(i, what) ?? invalid(`${cx.op} needs its ${what} input (input ${i})`);
  if (v < min) invalid(`${cx.op} ${what} must be >= ${min}, got ${v}`);
  return v;
}

/**
 * Generalised cosine windows: w[i] = sum_m (-1)^m a_m cos(2*pi*m*i/N), N = size (periodic) or size - 1
 * (symmetric). A symmetric window of one sample is [1] (as torch's), where the formula would divide by zero.
 */
function cosineWindow(coeffs: readonly number[]): (cx: NodeContext) => void {
  return (cx) => {
    const size = sizeScalar(cx, 0, 'size', 0);
    const periodic = cx.attrs.int('periodic', 1);
    if (periodic !== 0 && periodic !== 1) invalid(`${cx.op} periodic must be 0 or 1, got ${periodic}`);
    const denom = periodic ? size : size - 1;
    const value = (i: number): number => {
      if (denom === 0) return 1;
      const t = (2 * Math.PI * i) / denom;
      return coeffs.reduce((s, a, m) => s + (m % 2 ? -a : a) * Math.cos(m * t), 0);
    };
    cx.setConst(0, makeTensor(outputDType(cx), [size], value));
  };
}

/** Triangular mel filters over the onesided spectrum: [dft_length/2 + 1, num_mel_bins]. */
function melWeightMatrix(cx: NodeContext): void {
  const mels = sizeScalar(cx, 0, 'num_mel_bins', 1);
  const dftLength = sizeScalar(cx, 1, 'dft_length', 1);
  const rate = sizeScalar(cx, 2, 'sample_rate', 1);
  const lower = cx.constScalar(3, 'lower_edge_hertz') ?? invalid('MelWeightMatrix needs lower_edge_hertz (input 3)');
  const upper = cx.constScalar(4, 'upper_edge_hertz') ?? invalid('MelWeightMatrix needs upper_edge_hertz (input 4)');
  const toMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
  const [lo, hi] = [toMel(lower), toMel(upper)];
  // ONNX's reference spaces mels + 2 edges by (hi - lo) / (mels + 2) and maps each to a spectrogram bin.
  const step = (hi - lo) / (mels + 2);
  const edge = Array.from({ length: mels + 2 }, (_, i) => Math.floor(((dftLength + 1) * 700 * (10 ** ((i * step + lo) / 2595) - 1)) / rate));
  const bins = Math.floor(dftLength / 2) + 1;
  const out = new Float64Array(bins * mels);
  const put = (j: number, m: number, v: number): void => {
    if (j < 0 || j >= bins)
      invalid(`MelWeightMatrix: mel bin ${m} reaches spectrogram bin ${j}, outside 0..${bins - 1}; keep the edges within 0..sample_rate/2`);
    out[j * mels + m] = v;
  };
  for (let m = 0; m < mels; m++) {
    const [left, centre, right] = [edge[m]!, edge[m + 1]!, edge[m + 2]!];
    if (centre === left) put(centre, m, 1);
    else for (let j = left; j <= centre; j++) put(j, m, (j - left) / (centre - left));
    for (let j = centre; j < right; j++) put(j, m, (right - j) / (right - centre));
  }
  cx.setConst(0, makeTensor(outputDType(cx), [bins, mels], out));
}

type DftKind = 'forward' | 'inverse' | 'irfft';

/**
 * The basis [len*parts, bins*outParts] taking a frame of `len` samples (`parts` = 1 real or 2 complex per
 * sample) to `bins` outputs of n-point DFT (outParts 2), inverse DFT (2, scaled by 1/n) or irfft (1: bin k of
 * a onesided spectrum counts twice except DC and, for even n, Nyquist, whose imaginary parts drop out). Samples
 * past n (or, for irfft, bins past n/2) are truncated; a shorter frame is zero-padded. `window` scales sample j.
 */
export function dftBasis(len: number, parts: number, n: number, kind: DftKind, bins: number, window?: ArrayLike<number>): Tensor {
  const outParts = kind === 'irfft' ? 1 : 2;
  const cols = bins * outParts;
  const data = new Float64Array(len * parts * cols);
  const at = (j: number, p: number, k: number, q: number): number => (j * parts + p) * cols + k * outParts + q;
  const used = Math.min(len, kind === 'irfft' ? Math.floor(n / 2) + 1 : n);
  for (let j = 0; j < used; j++) {
    const w = window ? window[j]! : 1;
    for (let k = 0; k < bins; k++) {
      // The angle reduced exactly (integers) before the float64 trig, so large j*k lose no precision.
      const t = (2 * Math.PI * ((j * k) % n)) / n;
      const [cos, sin] = [Math.cos(t) * w, Math.sin(t) * w];
      if (kind === 'irfft') {
        const s = (j === 0 || 2 * j === n ? 1 : 2) / n;
        data[at(j, 0, k, 0)] = s * cos;
        if (parts === 2) data[at(j, 1, k, 0)] = -s * sin;
        continue;
      }
      // forward: X = sum x e^{-it}; inverse: x = (1/n) sum X e^{+it}. (a + ib)(cos -+ i sin).
      const [s, sg] = kind === 'inverse' ? [1 / n, -1] : [1, 1];
      data[at(j, 0, k, 0)] = s * cos;
      data[at(j, 0, k, 1)] = -sg * s * sin;
      if (parts === 2) {
        data[at(j, 1, k, 0)] = sg * s * sin;
        data[at(j, 1, k, 1)] = s * cos;
      }
    }
  }
  return makeTensor('f32', [len * parts, cols], data);
}

/**
 * y = basis applied along `axis` of x [..., parts] (axis < rank - 1): the axis moved next to the parts dim,
 * (axis, parts) flattened, a MatMul in f32, and the result [..., bins, outParts] moved back. Writes output 0.
 */
function applyBasis(cx: NodeContext, x: string, shape: readonly Dim[], dtype: DType, axis: number, basis: Tensor, bins: number): void {
  const r = shape.length;
  const outParts = basis.shape[1]! / bins;
  if (basis.data.length > MAX_BASIS)
    unsupported('attribute', `${cx.op} needs a ${basis.shape.join('x')} DFT basis, over kiln's limit of ${MAX_BASIS} elements; use a shorter transform`);
  const order = [...shape.keys()].filter((d) => d !== axis && d !== r - 1);
  order.push(axis, r - 1);
  const moved = axis !== r - 2;
  let v = moved ? cx.emit1('Transpose', [x], { perm: order }) : x;
  const keep = new Array<number>(r - 2).fill(0);
  v = cx.emit1('Reshape', [v], { shape: [...keep, basis.shape[0]!] });
  if (dtype !== 'f32') v = cx.emit1('Cast', [v], { to: 'f32' });
  v = cx.emit1('MatMul', [v, cx.newConst(basis, 'dft_basis')]);
  if (dtype !== 'f32') v = cx.emit1('Cast', [v], { to: dtype });
  const split = { shape: [...keep, bins, outParts] };
  if (!moved) {
    cx.emitOutputs('Reshape', [v], split);
    return;
  }
  v = cx.emit1('Reshape', [v], split);
  cx.emitOutputs('Transpose', [v], { perm: [...shape.keys()].map((d) => order.indexOf(d)) });
}

/** A dim that must be static (a transform length fixes the basis). */
function staticDim(cx: NodeContext, shape: readonly Dim[], d: number, what: string): number {
  const v = shape[d]!;
  if (!isStaticDim(v)) unsupported('dynamic', `${cx.op} over the ${what} of '${cx.input(0)}' [${shape.join(',')}], which is symbolic; kiln needs the length at compile time`);
  return v as number;
}

/** The complex dim of a signal: 1 (real) or 2 (complex). */
function partsOf(cx: NodeContext, shape: readonly Dim[]): number {
  const parts = shape[shape.length - 1];
  if (parts !== 1 && parts !== 2) invalid(`${cx.op} input '${cx.input(0)}' [${shape.join(',')}] must end in a dim of 1 (real) or 2 (complex)`);
  return parts as number;
}

const flag = (cx: NodeContext, name: string, dflt: number): boolean => {
  const v = cx.attrs.int(name, dflt);
  if (v !== 0 && v !== 1) invalid(`${cx.op} ${name} must be 0 or 1, got ${v}`);
  return v === 1;
};

/** DFT with its axis given (an attribute in 17, an input in 20). */
function dft(cx: NodeContext, axisGiven: number): void {
  const { shape, dtype } = cx.type(0);
  const r = shape.length;
  if (r < 2) invalid(`DFT input '${cx.input(0)}' must have rank >= 2 (signal dims, then the complex dim), got [${shape.join(',')}]`);
  const parts = partsOf(cx, shape);
  if (axisGiven < -r || axisGiven > r - 2 || axisGiven === -1)
    invalid(`DFT axis ${axisGiven} is out of range for rank ${r} (expected ${-r}..-2 or 0..${r - 2}; the last dim holds the complex parts)`);
  const axis = axisGiven < 0 ? axisGiven + r : axisGiven;
  const len = staticDim(cx, shape, axis, `axis ${axis}`);
  const inverse = flag(cx, 'inverse', 0);
  const onesided = flag(cx, 'onesided', 0);
  const kind: DftKind = inverse ? (onesided ? 'irfft' : 'inverse') : 'forward';
  const n = cx.has(1) ? sizeScalar(cx, 1, 'dft_length', 1) : kind === 'irfft' ? 2 * (len - 1) : len;
  if (n < 1) invalid(`DFT of a onesided spectrum of ${len} bin: give dft_length, the length of the real signal`);
  const bins = kind === 'forward' && onesided ? Math.floor(n / 2) + 1 : n;
  applyBasis(cx, cx.input(0), shape, dtype, axis, dftBasis(len, parts, n, kind, bins), bins);
}

/** STFT: frames of frame_length samples every frame_step, windowed, each transformed (onesided by default). */
function stft(cx: NodeContext): void {
  const { shape, dtype } = cx.type(0);
  if (shape.length !== 3) invalid(`STFT signal '${cx.input(0)}' must be [batch, length, 1 or 2], got [${shape.join(',')}]`);
  const parts = partsOf(cx, shape);
  const total = staticDim(cx, shape, 1, 'signal length');
  const step = sizeScalar(cx, 1, 'frame_step', 1);
  const windowType = cx.has(2) ? cx.type(2) : undefined;
  if (windowType && (windowType.shape.length !== 1 || !isStaticDim(windowType.shape[0]!)))
    invalid(`STFT window '${cx.input(2)}' must be 1-D with a static length, got [${windowType.shape.join(',')}]`);
  const windowLen = windowType?.shape[0] as number | undefined;
  const frameLen = cx.has(3) ? sizeScalar(cx, 3, 'frame_length', 1) : (windowLen ?? total);
  if (windowLen !== undefined && windowLen !== frameLen) invalid(`STFT window has ${windowLen} samples but frame_length is ${frameLen}`);
  if (frameLen > total) invalid(`STFT frame_length ${frameLen} is longer than the signal (${total} samples)`);
  const frames = 1 + Math.floor((total - frameLen) / step);
  const bins = flag(cx, 'onesided', 1) ? Math.floor(frameLen / 2) + 1 : frameLen;
  const starts = makeTensor('i32', [frames, frameLen], (i) => Math.floor(i / frameLen) * step + (i % frameLen));
  let framed = cx.emit1('Gather', [cx.input(0), cx.newConst(starts, 'frame_index')], { axis: 1 });
  // A known window is folded into the basis; one computed at run time multiplies the frames first.
  const known = cx.has(2) ? cx.constant(2) : undefined;
  if (cx.has(2) && !known) {
    const column = cx.emit1('Reshape', [cx.input(2)], { shape: [frameLen, 1] });
    framed = cx.emit1('Mul', [framed, column]);
  }
  const basis = dftBasis(frameLen, parts, frameLen, 'forward', bins, known?.data);
  applyBasis(cx, framed, [shape[0]!, frames, frameLen, parts], dtype, 2, basis, bins);
}

export const SIGNAL_RULES: OpRule[] = [
  ...rules('HannWindow', [17, undefined, cosineWindow([0.5, 0.5])]),
  ...rules('HammingWindow', [17, undefined, cosineWindow([25 / 46, 21 / 46])]),
  ...rules('BlackmanWindow', [17, undefined, cosineWindow([0.42, 0.5, 0.08])]),
  ...rules('MelWeightMatrix', [17, undefined, melWeightMatrix]),
  ...rules(
    'DFT',
    // 17-19: axis an attribute (default 1); 20+: an optional scalar input (default -2).
    [17, 19, (cx) => dft(cx, cx.attrs.int('axis', 1))],
    [20, undefined, (cx) => dft(cx, cx.has(2) ? (cx.constIntScalar(2, 'axis') as number) : -2)],
  ),
  ...rules('STFT', [17, undefined, stft]),
];
