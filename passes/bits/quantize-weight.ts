// Compile-time quantization of a matmul weight A[M outputs, K] to n-bit codes with one f32 scale per output row,
// or per group of `group` inputs along K (papers.md §3; the codes are what BitMatMul multiplies):
//   symmetric (n >= 2)  signed codes q in [-Q, Q], Q = 2^(n-1) - 1, s = absmax / Q, q = round(a / s)
//   ternary             i2 codes in {-1, 0, 1} (BitNet b1.58), s = mean |a| (absmean), q = round(a / s) clamped
//   bipolar             u<n> codes of the odd values v in [-Q, Q], Q = 2^n - 1, v the odd integer nearest a / s,
//                       s = absmax / Q; for n = 1 (signs) s = mean |a|, the scale that minimises the squared error
//                       of s * sign(a)
// so that a ~ s * value(code). Rounding is half to even; a group of zeros gets scale 0 (its codes are then
// irrelevant: symmetric 0, bipolar +1). Scales are rounded to f32 once, and codes computed against the rounded
// scale, so the stored pair is exactly what the graph multiplies.
import { type ConstantDecl, type GraphBuilder, ROW_MAJOR, TRANSPOSED, makeTensor, quantEncoding, type Tensor, tensorType } from '../../ir/index.js';
import { roundHalfEven } from '../../ir/ops/elementwise-table.js';

export type WeightScheme = 'symmetric' | 'bipolar' | 'ternary';

export interface QuantizedWeight {
  /** i<n> (symmetric) or u<n> (bipolar) [M, K]. */
  readonly codes: Tensor;
  /** f32 [M] (one group) or [M, G]. */
  readonly scales: Tensor;
  readonly groups: number;
}

/** `at(j, k)` is A[j][k]; group 0 or >= K: one group per row. */
export function quantizeWeight(m: number, k: number, at: (j: number, k: number) => number, bits: number, scheme: WeightScheme, group: number): QuantizedWeight {
  if (scheme === 'symmetric' && bits < 2) throw new Error('symmetric weights need at least 2 bits (use bipolar for 1 bit)');
  const len = group > 0 && group < k ? group : k;
  const groups = Math.ceil(k / len);
  const q = scheme === 'bipolar' ? 2 ** bits - 1 : scheme === 'ternary' ? 1 : 2 ** (bits - 1) - 1;
  if (scheme === 'ternary' && bits !== 2) throw new Error('ternary weights are 2-bit codes');
  const codes = new Float64Array(m * k);
  const scales = new Float64Array(m * groups);
  for (let j = 0; j < m; j++)
    for (let g = 0; g < groups; g++) {
      const [lo, hi] = [g * len, Math.min(k, (g + 1) * len)];
      let max = 0;
      let sum = 0;
      for (let i = lo; i < hi; i++) {
        const a = Math.abs(at(j, i));
        max = Math.max(max, a);
        sum += a;
      }
      const s = Math.fround((scheme === 'bipolar' && bits === 1) || scheme === 'ternary' ? sum / (hi - lo) : max / q);
      scales[j * groups + g] = s;
      for (let i = lo; i < hi; i++) {
        const t = s > 0 ? at(j, i) / s : 0;
        if (scheme !== 'bipolar') codes[j * k + i] = Math.min(q, Math.max(-q, roundHalfEven(t)));
        else codes[j * k + i] = (Math.min(q, Math.max(-q, 2 * roundHalfEven((t - 1) / 2) + 1)) + q) / 2;
      }
    }
  const dtype = `${scheme === 'bipolar' ? 'u' : 'i'}${bits}` as Tensor['dtype'];
  return { codes: makeTensor(dtype, [m, k], codes), scales: makeTensor('f32', groups > 1 ? [m, groups] : [m], scales), groups };
}

/**
 * A weights-only quantized matmul weight (bitpack w<n>f16 / w<n>f32): constant `c` re-declared under the quant
 * encoding with its codes stored [M, K] (K contiguous: row-major for Gemm transB's [M, K], the transposed layout of
 * a MatMul's [K, M]), so the quant GEMV reads it in place. Symmetric codes are signed with no zero point; bipolar
 * ones (value s * (2q - (2^n - 1))) are unsigned codes with zero (2^n - 1) / 2 and scale 2s, the same values.
 */
export function declareWeightOnly(
  b: GraphBuilder,
  c: ConstantDecl,
  q: QuantizedWeight,
  o: { m: number; k: number; transposed: boolean; group: number; bipolar: boolean; bits: number; fresh: (base: string) => string },
): void {
  const { m, transposed } = o;
  const groups = q.groups;
  const shape = transposed ? [groups, m] : [m, groups];
  const at = (i: number): number => (transposed ? (i % m) * groups + Math.floor(i / m) : i);
  const factor = o.bipolar ? 2 : 1;
  const scales = b.constant(makeTensor('f32', shape, (i) => q.scales.data[at(i)]! * factor), o.fresh(`${c.name}.scales`));
  const zeros = o.bipolar ? b.constant(makeTensor('f32', shape, () => (2 ** o.bits - 1) / 2), o.fresh(`${c.name}.zeros`)) : undefined;
  const encoding = quantEncoding({
    bits: o.bits,
    scheme: o.bipolar ? 'unsigned' : 'signed',
    group: o.group,
    axis: transposed ? 0 : 1,
    scale: 'f32',
    zero: zeros ? 'per-group' : 'none',
    packing: 'packed',
    scales,
    ...(zeros ? { zeros } : {}),
  });
  b.declareConstant({ name: c.name, type: tensorType(c.type.dtype, c.type.shape, transposed ? TRANSPOSED : ROW_MAJOR, encoding), value: q.codes });
}
