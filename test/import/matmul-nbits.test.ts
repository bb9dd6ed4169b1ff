// com.microsoft.MatMulNBits imported as a quant-encoded weight (ir/import/onnx/ops/contrib.ts): the interpreter's
// output equals x . dequant(B)^T computed here from the writer's own codes, scales and zero points (2, 3, 4, 8
// bits; blocks of 32 and 128 with K not a multiple of the block; default, packed and float zero points; a bias),
// the weight stays codes (no float copy), and bad nodes fail naming the node and what is wrong.
import { describe, expect, it } from 'vitest';
import { type Tensor, interpret, makeTensor } from '../../ir/index.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type BlockQuant, dequantized, matMulNBitsModel, quantizeBlocks } from '../../scripts/lib/quant-writers.js';

const weight = (seed: number) => (n: number, k: number): number => Math.sin(n * 12.9898 + k * 78.233 + seed) * 0.8;

function nbitsCase(bits: number, block: number, zeros: 'default' | 'packed' | 'float', n = 24, k = 200): BlockQuant {
  return quantizeBlocks(weight(bits * 31 + block), n, k, bits, block, Math.fround, zeros === 'default' ? 2 ** (bits - 1) : undefined);
}

/** x . dequant(W)^T (+ bias) in float64. */
function reference(q: BlockQuant, x: Tensor, bias?: readonly number[]): Float64Array {
  const w = dequantized(q);
  const rows = x.data.length / q.k;
  return Float64Array.from({ length: rows * q.n }, (_, i) => {
    const [r, j] = [Math.floor(i / q.n), i % q.n];
    let s = bias?.[j] ?? 0;
    for (let k = 0; k < q.k; k++) s += x.data[r * q.k + k]! * w(j, k);
    return s;
  });
}

const input = (rows: number, k: number): Tensor => makeTensor('f32', [rows, k], (i) => Math.cos(i * 0.37) * 1.5);

describe('MatMulNBits import', () => {
  for (const bits of [2, 3, 4, 8])
    for (const block of [32, 128])
      for (const zeros of ['default', 'packed', 'float'] as const) {
        if (bits === 3 && zeros === 'float') continue;
        it(`${bits} bits, block ${block}, ${zeros} zero points`, () => {
          const q = nbitsCase(bits, block, zeros);
          const bias = zeros === 'packed' ? Array.from({ length: q.n }, (_, i) => i / 7 - 1) : undefined;
          const { graph } = importOnnx(matMulNBitsModel(q, { zeros, ...(bias ? { bias } : {}) }), { file: 'nbits.onnx' });
          const w = graph.constants.find((c) => c.type.encoding.kind === 'quant');
          expect(w?.value?.dtype).toBe(`u${bits}`);
          expect(graph.constants.filter((c) => c.value?.dtype !== w?.value?.dtype && (c.value?.data.length ?? 0) >= q.n * q.k)).toEqual([]);
          const x = input(2, q.k);
          const got = interpret(graph, { a: x }).y!;
          const want = reference(q, x, bias);
          const err = Math.max(...want.map((v, i) => Math.abs(v - got.data[i]!)));
          expect(err).toBeLessThan(1e-4);
        });
      }

  it('takes A with more leading dims', () => {
    const q = nbitsCase(4, 32, 'packed', 8, 64);
    const { graph } = importOnnx(matMulNBitsModel(q, { zeros: 'packed', lead: [2, 3] }), { file: 'nbits.onnx' });
    const x = makeTensor('f32', [2, 3, 64], (i) => Math.sin(i));
    const got = interpret(graph, { a: x }).y!;
    expect(got.shape).toEqual([2, 3, 8]);
    const want = reference(q, x);
    expect(Math.max(...want.map((v, i) => Math.abs(v - got.data[i]!)))).toBeLessThan(1e-4);
  });

  it('refuses inconsistent K, N, bits and block_size, naming the node', () => {
    const q = nbitsCase(4, 32, 'packed', 8, 64);
    const bytes = matMulNBitsModel(q, { zeros: 'packed' });
    // The same B read with another block size, bit width or N no longer has the expected shape.
    const patched = (from: string, to: string): Uint8Array => {
      const m = importOnnxModelWith(bytes, from, to);
      return m;
    };
    expect(() => importOnnx(patched('block_size', '128'), { file: 'bad.onnx' })).toThrow(/bad\.onnx: node 'mm' \(MatMulNBits.*B has shape \[8,2,16\], expected \[8,1,64\]/);
    expect(() => importOnnx(patched('bits', '8'), { file: 'bad.onnx' })).toThrow(/node 'mm'.*expected \[8,2,32\]/);
    expect(() => importOnnx(patched('bits', '1'), { file: 'bad.onnx' })).toThrow(/bits must be 2\.\.8, got 1/);
    expect(() => importOnnx(patched('block_size', '24'), { file: 'bad.onnx' })).toThrow(/block_size must be a power of two >= 16, got 24/);
    expect(() => importOnnx(patched('K', '60'), { file: 'bad.onnx' })).toThrow(/A has shape \[2,64\], whose last dim is not K = 60/);
    expect(() => importOnnx(patched('N', '9'), { file: 'bad.onnx' })).toThrow(/B has shape \[8,2,16\], expected \[9,2,16\]/);
  });
});

import { ONNX_SCHEMA } from '../../ir/import/onnx/onnx-schema.js';
import protobuf from 'protobufjs/light.js';

/** The model with one attribute of its MatMulNBits node set to another integer. */
function importOnnxModelWith(bytes: Uint8Array, attr: string, value: string): Uint8Array {
  const T = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  const m = T.toObject(T.decode(bytes), { longs: Number, bytes: Array }) as { graph: { node: { attribute: { name: string; i: number }[] }[] } };
  m.graph.node[0]!.attribute.find((a) => a.name === attr)!.i = Number(value);
  return T.encode(T.fromObject(m)).finish();
}
