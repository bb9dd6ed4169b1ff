// onnxruntime's contrib domain (com.microsoft): MatMulNBits, the form ORT's quantizers (and Olive, optimum,
// onnxruntime-genai) give 2..8-bit weights: Y = A x dequant(B)^T (+ bias), layouts in
// ../shared/docs/quant-formats.md. B, its scales and zero points must be initializers: they become one
// quant-encoded weight (ir/import/quant-weight.ts), codes kept as codes, read by a plain MatMul.
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';
import { declareQuantWeight, readBits } from '../../quant-weight.js';

function matMulNBits(cx: NodeContext): void {
  const K = cx.attrs.int('K');
  const N = cx.attrs.int('N');
  const bits = cx.attrs.int('bits', 4);
  const block = cx.attrs.int('block_size');
  if (K === undefined || N === undefined || block === undefined) return invalid(`MatMulNBits needs attributes K, N and block_size (got K=${K}, N=${N}, block_size=${block})`);
  if (!(K > 0 && N > 0)) return invalid(`MatMulNBits K and N must be positive, got K=${K}, N=${N}`);
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) return invalid(`MatMulNBits bits must be 2..8, got ${bits}`);
  if (block < 16 || (block & (block - 1)) !== 0) return invalid(`MatMulNBits block_size must be a power of two >= 16, got ${block}`);
  const a = cx.type(0);
  if (a.dtype !== 'f32' && a.dtype !== 'f16') return unsupported('dtype', `MatMulNBits with A of ${a.dtype}; kiln takes float32 or float16 activations`);
  const last = a.shape[a.shape.length - 1];
  if (a.shape.length < 1 || (typeof last === 'number' && last !== K)) return invalid(`MatMulNBits A has shape [${a.shape.join(',')}], whose last dim is not K = ${K}`);
  const kBlocks = Math.ceil(K / block);
  const blob = (block * bits) / 8;
  const B = cx.requireConst(1, 'B (the packed weight)');
  if (B.dtype !== 'u8') return invalid(`MatMulNBits B must be uint8, got ${B.dtype}`);
  const want = [N, kBlocks, blob];
  if (B.data.length !== N * kBlocks * blob || (B.shape.length === 3 && B.shape.some((d, i) => d !== want[i])))
    return invalid(`MatMulNBits B has shape [${B.shape.join(',')}], expected [${want.join(',')}] for N=${N}, K=${K}, bits=${bits}, block_size=${block}`);
  const scales = cx.requireConst(2, 'scales');
  if (scales.data.length !== N * kBlocks) return invalid(`MatMulNBits scales has ${scales.data.length} values [${scales.shape.join(',')}], expected N x ceil(K / block_size) = ${N} x ${kBlocks}`);
  if (scales.dtype !== 'f32' && scales.dtype !== 'f16') return invalid(`MatMulNBits scales must be float, got ${scales.dtype}`);
  // Zero points: packed codes (uint8, LSB first per row of N), or one float per block; default 2^(bits - 1).
  let zero: (n: number, g: number) => number = () => 2 ** (bits - 1);
  const zp = cx.has(3) ? cx.requireConst(3, 'zero_points') : undefined;
  if (zp && zp.dtype === 'u8') {
    const rowBytes = Math.ceil((kBlocks * bits) / 8);
    if (zp.data.length !== N * rowBytes) return invalid(`MatMulNBits packed zero_points has ${zp.data.length} bytes, expected N x ceil(ceil(K / block_size) * bits / 8) = ${N} x ${rowBytes}`);
    zero = (n, g) => readBits(zp.data.subarray(n * rowBytes, (n + 1) * rowBytes), g * bits, bits);
  } else if (zp) {
    if (zp.data.length !== N * kBlocks) return invalid(`MatMulNBits zero_points of ${zp.dtype} has ${zp.data.length} values, expected N x ceil(K / block_size) = ${N} x ${kBlocks}`);
    zero = (n, g) => zp.data[n * kBlocks + g]!;
  }
  const gIdx = cx.has(4) ? cx.requireConst(4, 'g_idx') : undefined;
  if (gIdx && gIdx.data.some((g, k) => g !== Math.floor(k / block)))
    return unsupported('attribute', 'MatMulNBits with a permuting g_idx (deprecated in onnxruntime); re-export the model without act-order');
  const bytes = B.data;
  const weight = declareQuantWeight(cx.values.builder, {
    name: cx.tmp('weight'),
    dtype: a.dtype,
    orientation: 'matmul',
    n: N,
    k: K,
    bits,
    group: block,
    code: (n, k) => readBits(bytes.subarray((n * kBlocks + Math.floor(k / block)) * blob), (k % block) * bits, bits),
    scaleDType: scales.dtype,
    scale: (n, g) => scales.data[n * kBlocks + g]!,
    zero,
  });
  if (!cx.has(5)) {
    cx.emitOutputs('MatMul', [cx.input(0), weight]);
    return;
  }
  const bias = cx.type(5);
  if (bias.shape.length !== 1 || bias.shape[0] !== N) return invalid(`MatMulNBits bias has shape [${bias.shape.join(',')}], expected [${N}]`);
  cx.emitOutputs('Add', [cx.emit1('MatMul', [cx.input(0), weight]), cx.input(5)]);
}

export const CONTRIB_RULES: OpRule[] = [...rules('MatMulNBits', [1, undefined, matMulNBits])];
