// Writers of pre-quantized weights in the formats kiln imports (../shared/docs/quant-formats.md), for tests: each
// quantizes a known float weight W[N outputs][K inputs] to codes, scales and zero points per block of K, packs
// them the way the format's own writer does, and keeps the unpacked arrays so a test can compute the dequantized
// reference itself, independently of kiln's decoders.
import { DT, attrInt, encodeModel, model, node, rawBytes, tensor, valueInfo } from './onnx-build.js';

export interface BlockQuant {
  readonly n: number;
  readonly k: number;
  readonly bits: number;
  readonly block: number;
  /** Unsigned codes [N * K]. */
  readonly codes: Uint8Array;
  /** [N * blocks], f32-rounded (or f16 by the writer that stores them so). */
  readonly scales: Float64Array;
  /** Integer zero points [N * blocks]. */
  readonly zeros: Uint8Array;
}

export const blocksOf = (q: Pick<BlockQuant, 'k' | 'block'>): number => Math.ceil(q.k / q.block);

/**
 * Asymmetric min/max quantization per block of `block` inputs (GPTQ's and ORT's default): scale = (max - min) /
 * (2^bits - 1), zero = round(-min / scale); with `zeroAt` fixed, the symmetric form around that zero instead.
 */
export function quantizeBlocks(w: (n: number, k: number) => number, n: number, k: number, bits: number, block: number, round: (x: number) => number = Math.fround, zeroAt?: number): BlockQuant {
  const blocks = Math.ceil(k / block);
  const top = 2 ** bits - 1;
  const codes = new Uint8Array(n * k);
  const scales = new Float64Array(n * blocks);
  const zeros = new Uint8Array(n * blocks);
  for (let r = 0; r < n; r++)
    for (let g = 0; g < blocks; g++) {
      const [lo, hi] = [g * block, Math.min(k, (g + 1) * block)];
      let [min, max] = [0, 0];
      for (let i = lo; i < hi; i++) [min, max] = [Math.min(min, w(r, i)), Math.max(max, w(r, i))];
      let scale: number;
      let zero: number;
      if (zeroAt === undefined) {
        scale = round((max - min) / top || 1);
        zero = Math.min(top, Math.max(0, Math.round(-min / scale)));
      } else {
        scale = round(Math.max(-min / zeroAt, max / (top - zeroAt)) || 1);
        zero = zeroAt;
      }
      scales[r * blocks + g] = scale;
      zeros[r * blocks + g] = zero;
      for (let i = lo; i < hi; i++) codes[r * k + i] = Math.min(top, Math.max(0, Math.round(w(r, i) / scale) + zero));
    }
  return { n, k, bits, block, codes, scales, zeros };
}

/** The dequantized weight W[n][k] = (code - zero) * scale. */
export function dequantized(q: BlockQuant): (n: number, k: number) => number {
  const blocks = blocksOf(q);
  return (n, k) => (q.codes[n * q.k + k]! - q.zeros[n * blocks + Math.floor(k / q.block)]!) * q.scales[n * blocks + Math.floor(k / q.block)]!;
}

/** Write `value` at bits [pos, pos + bits) of a byte array, LSB first. */
export function writeBits(bytes: Uint8Array, pos: number, bits: number, value: number): void {
  for (let i = 0; i < bits; i++) if ((value >> i) & 1) bytes[(pos + i) >> 3]! |= 1 << ((pos + i) & 7);
}

export interface MatMulNBitsOptions {
  /** Zero points: none (the default 2^(bits-1) must then be what q used), packed uint8, or float32 per block. */
  readonly zeros: 'default' | 'packed' | 'float';
  readonly bias?: readonly number[];
  /** A's leading dims (default [2]). */
  readonly lead?: readonly (number | string)[];
}

/** A one-node model y = MatMulNBits(a, B, scales[, zero_points][, bias]) over q, as onnxruntime's quantizer writes it. */
export function matMulNBitsModel(q: BlockQuant, o: MatMulNBitsOptions): Uint8Array {
  const blocks = blocksOf(q);
  const blob = (q.block * q.bits) / 8;
  const packed = new Uint8Array(q.n * blocks * blob);
  for (let r = 0; r < q.n; r++) for (let i = 0; i < q.k; i++) writeBits(packed, ((r * blocks + Math.floor(i / q.block)) * blob) * 8 + (i % q.block) * q.bits, q.bits, q.codes[r * q.k + i]!);
  const inits = [
    tensor('B', DT.UINT8, [q.n, blocks, blob], { raw_data: packed }),
    tensor('scales', DT.FLOAT, [q.n * blocks], { raw_data: rawBytes(q.n * blocks * 4, (v) => q.scales.forEach((s, i) => v.setFloat32(i * 4, s, true))) }),
  ];
  const inputs = ['a', 'B', 'scales'];
  if (o.zeros === 'packed') {
    const rowBytes = Math.ceil((blocks * q.bits) / 8);
    const zp = new Uint8Array(q.n * rowBytes);
    for (let r = 0; r < q.n; r++) for (let g = 0; g < blocks; g++) writeBits(zp, r * rowBytes * 8 + g * q.bits, q.bits, q.zeros[r * blocks + g]!);
    inits.push(tensor('zp', DT.UINT8, [q.n * rowBytes], { raw_data: zp }));
    inputs.push('zp');
  } else if (o.zeros === 'float') {
    inits.push(tensor('zp', DT.FLOAT, [q.n, blocks], { float_data: [...q.zeros] }));
    inputs.push('zp');
  }
  if (o.bias) {
    while (inputs.length < 5) inputs.push('');
    inits.push(tensor('bias', DT.FLOAT, [q.n], { float_data: [...o.bias] }));
    inputs.push('bias');
  }
  const lead = o.lead ?? [2];
  const attrs = { K: attrInt(q.k), N: attrInt(q.n), bits: attrInt(q.bits), block_size: attrInt(q.block), accuracy_level: attrInt(0) };
  return encodeModel(
    model({
      opset: 21,
      extraImports: [{ domain: 'com.microsoft', version: 1 }],
      nodes: [node('MatMulNBits', inputs, ['y'], attrs, { domain: 'com.microsoft', name: 'mm' })],
      inputs: [valueInfo('a', DT.FLOAT, [...lead, q.k])],
      outputs: [valueInfo('y', DT.FLOAT, [...lead, q.n])],
      initializers: inits,
    }),
  );
}
