// A constant int2/int4/int8 matrix behind DequantizeLinear (per-tensor, per-axis, blocked scales; with and
// without zero points), as quantized ONNX models carry weights, imports as one quant-encoded constant (codes
// stay codes, no folded float copy), and DequantizeLinear -> MatMul gives x . dequant(W) computed here in float64.
import { describe, expect, it } from 'vitest';
import { makeTensor, interpret } from '../../ir/index.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { DQ_CASES, K, N, dqModel } from '../../scripts/lib/dequantize-writer.js';

describe('DequantizeLinear weights stay codes', () => {
  for (const c of DQ_CASES)
    it(c.what, () => {
      const { bytes, deq } = dqModel(c);
      const { graph } = importOnnx(bytes, { file: 'dq.onnx' });
      const w = graph.constants.find((k) => k.type.encoding.kind === 'quant');
      expect(w?.value?.dtype).toBe(c.dtype.toLowerCase().replace('uint', 'u').replace('int', 'i'));
      expect(graph.nodes.map((n) => n.op)).toEqual(['MatMul']);
      const x = makeTensor('f32', [3, K], (i) => Math.sin(i * 0.3));
      const got = interpret(graph, { x }).y!;
      const want = Array.from({ length: 3 * N }, (_, i) => {
        let s = 0;
        for (let k = 0; k < K; k++) s += x.data[Math.floor(i / N) * K + k]! * deq(k, i % N);
        return s;
      });
      expect(Math.max(...want.map((v, i) => Math.abs(v - got.data[i]!)))).toBeLessThan(1e-4);
    });
});
