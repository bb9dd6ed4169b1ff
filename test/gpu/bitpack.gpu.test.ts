// The bitpack pass end to end on the adapter: QuantizeRows' codes and power-of-two scales equal the interpreter's
// exactly (signed and bipolar, 1..8 bits, rows with zeros, extremes and ties), and bit-packed MLPs (MatMul and
// Gemm with bias, ragged K, per-row and per-group scales, w1a1 to w8a8) match the interpreter: the integer sums
// are exact, only the float steps after them (Cast, scale products, a group sum) round.
import { describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder, interpret, makeTensor, tensorType } from '../../ir/index.js';
import { compileGraph } from '../../compiler/compile.js';
import { bitpack, configure, inferShapes, runPipeline } from '../../passes/index.js';
import { expectGpuMatchesInterpreter, runGraphOnGpu } from './graph-harness.js';

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
}

describe('bit-packed models on the adapter', () => {
  it('QuantizeRows: codes and scales equal the interpreter exactly, signed and bipolar, 1..8 bits, one kernel or two', async () => {
    const rows = 5;
    // K = 37: rows share code words (scales, then codes); K = 480: whole words per row at every width (one workgroup per row).
    for (const k of [37, 480]) {
      // Row 0 all zeros; row 1 ties (halves of the step); rows 2.. random, with one large value.
      const x = makeTensor('f32', [rows, k], (i) => {
        const [r, c] = [Math.floor(i / k), i % k];
        if (r === 0) return 0;
        if (r === 1) return (c - 18) * 0.5;
        return Math.sin(i * 12.9898) * (c === 3 + r * 20 ? 40 : 1.5);
      });
      for (let bits = 1; bits <= 8; bits++)
        for (const bipolar of bits === 1 ? [1] : [0, 1]) {
          const b = new GraphBuilder('q');
          const xi = b.input('x', tensorType('f32', [rows, k]));
          b.output(...b.node('QuantizeRows', [xi], { bits, bipolar }));
          const g = b.build();
          const { manifest } = compileGraph(g, { source: 'test', target: { shaderF16: false } });
          expect(manifest.kernels.map((f) => f.file.replace(/^kernels\/|_[0-9a-f]+\.wgsl$/g, '')).sort()).toEqual(k === 37 ? ['row-codes', 'row-scales'] : ['row-quantize']);
          const want = interpret(g, { x });
          const got = await runGraphOnGpu(g, { x });
          for (const name of Object.keys(want)) expect(Array.from(got[name]!.data), `K=${k}, ${bits} bits, bipolar ${bipolar}: ${name}`).toEqual(Array.from(want[name]!.data));
        }
    }
  }, 120_000);

  it('bit-packed MLPs match the interpreter (w1a1 .. w8a8, per row and per group, ragged K)', async () => {
    const mlp = (seed: number): Graph => {
      const next = rng(seed);
      const b = new GraphBuilder('mlp');
      const x = b.input('x', tensorType('f32', [3, 45]));
      const h = b.op('Relu', [b.op('MatMul', [x, b.constant(makeTensor('f32', [45, 70], next), 'w1')])]);
      b.output(b.op('Gemm', [h, b.constant(makeTensor('f32', [9, 70], next), 'w2'), b.constant(makeTensor('f32', [9], next), 'bias')], { transB: 1, alpha: 0.5 }));
      return b.build();
    };
    const x = { x: makeTensor('f32', [3, 45], (i) => Math.sin(i * 1.7) * 2) };
    for (const [bits, group, extra] of [
      ['w1a1', 0, {}],
      ['w2a2', 32, {}],
      ['w3a4', 0, { weights: 'bipolar' }],
      ['w4a8', 16, {}],
      ['w8a8', 0, { activations: 'bipolar' }],
    ] as const) {
      const { graph } = runPipeline(mlp(bits.length + group), [configure(inferShapes), configure(bitpack, { bits, group, ...extra })]);
      expect(graph.nodes.filter((n) => n.op === 'BitMatMul'), bits).toHaveLength(2);
      await expectGpuMatchesInterpreter(graph, x, { rtol: 1e-5, atol: 1e-5 });
    }
  }, 240_000);

  it('integer GEMVs run the scaling chain and the bias/Relu in registers: one dispatch per layer, the interpreter within 1e-5', async () => {
    // K whole 16-byte steps (the GEMVs' condition); groups ragged where K is not a multiple of the group.
    const layer = (seed: number, rows: number, k: number, m: number): Graph => {
      const next = rng(seed);
      const b = new GraphBuilder('gemv');
      const x = b.input('x', tensorType('f32', [rows, k]));
      const y = b.op('Gemm', [x, b.constant(makeTensor('f32', [m, k], next), 'w'), b.constant(makeTensor('f32', [m], next), 'bias')], { transB: 1 });
      b.output(b.op('Relu', [b.op('Add', [y, b.constant(makeTensor('f32', [rows, m], next), 'residual')])]));
      return b.build();
    };
    for (const [bits, group, rows, k, m, extra, kernel] of [
      ['w1a1', 256, 1, 384, 70, { weights: 'bipolar', activations: 'bipolar' }, 'xor-gemv'],
      ['w1a1', 0, 2, 256, 300, { weights: 'bipolar', activations: 'bipolar' }, 'xor-gemv'],
      ['w4a8', 64, 3, 96, 65, {}, 'bit-gemv'],
      ['w2a8', 0, 1, 128, 9, {}, 'bit-gemv'],
      ['w8a8', 32, 2, 64, 257, {}, 'bit-gemv'],
    ] as const) {
      const { graph } = runPipeline(layer(k + m, rows, k, m), [configure(inferShapes), configure(bitpack, { bits, group, ...extra })]);
      const { manifest } = compileGraph(graph, { source: 'test', target: { shaderF16: false } });
      const dispatches = Object.values(manifest.entryPoints)[0]!.dispatches;
      const what = `${bits} group ${group} rows ${rows} K=${k} M=${m}`;
      // QuantizeRows' kernel, then the GEMV with everything after it.
      expect(dispatches.map((d) => manifest.kernels[d.kernel]!.file.replace(/^kernels\/|_[0-9a-f]+\.wgsl$/g, '')), what).toEqual(['row-quantize', kernel]);
      await expectGpuMatchesInterpreter(graph, { x: makeTensor('f32', [rows, k], (i) => Math.sin(i * 0.37) * 3) }, { rtol: 1e-5, atol: 1e-5 });
    }
  }, 240_000);
});
