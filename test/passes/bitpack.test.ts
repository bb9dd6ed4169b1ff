// The bitpack pass and its weight quantizer on the CPU: codes in range and within half a step (a step for
// bipolar's odd values) of the scaled weight; the rewritten graph's interpreter output near the float one (w8a8
// within 2 %); names kept by `keep`; per-layer widths (`layers`); groups shortened where an i32 sum could overflow; options refused in one
// line; the rewrite is deterministic.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder, interpret, makeTensor, printGraph, tensorType } from '../../ir/index.js';
import { quantizeWeight } from '../../passes/bits/quantize-weight.js';
import { DEFAULT_TARGET, bitpack, configure, inferShapes, runPipeline } from '../../passes/index.js';

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
}

/** x[rows, k] -> MatMul(W1 [k, h]) -> Relu -> Gemm transB (W2 [m, h], bias, alpha, beta). */
function mlp(rows: number, k: number, h: number, m: number, seed: number): Graph {
  const next = rng(seed);
  const b = new GraphBuilder('mlp');
  const x = b.input('x', tensorType('f32', [rows, k]));
  const h1 = b.op('Relu', [b.op('MatMul', [x, b.constant(makeTensor('f32', [k, h], next), 'w1')])]);
  b.output(b.op('Gemm', [h1, b.constant(makeTensor('f32', [m, h], next), 'w2'), b.constant(makeTensor('f32', [m], next), 'bias')], { transB: 1, alpha: 0.5, beta: 2 }));
  return b.build();
}

const pack = (g: Graph, opts: Record<string, unknown>) => runPipeline(g, [configure(inferShapes), configure(bitpack, opts)], { target: DEFAULT_TARGET });

describe('bitpack', () => {
  it('quantizes weights to codes in range, each within half a step (bipolar: a step) of the weight', () => {
    const arb = fc.record({ m: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 1, max: 70 }), bits: fc.integer({ min: 1, max: 8 }), bipolar: fc.boolean(), group: fc.constantFrom(0, 8, 32), seed: fc.integer({ min: 1, max: 1e6 }) });
    fc.assert(
      fc.property(arb, ({ m, k, bits, bipolar, group, seed }) => {
        const scheme = bipolar || bits === 1 ? 'bipolar' : 'symmetric';
        const next = rng(seed);
        const a = Float64Array.from({ length: m * k }, () => next() * 3);
        const q = quantizeWeight(m, k, (j, i) => a[j * k + i]!, bits, scheme, group);
        const len = group > 0 && group < k ? group : k;
        expect(q.groups).toBe(Math.ceil(k / len));
        for (let j = 0; j < m; j++)
          for (let i = 0; i < k; i++) {
            const s = q.scales.data[j * q.groups + Math.floor(i / len)]!;
            const c = q.codes.data[j * k + i]!;
            const v = scheme === 'bipolar' ? 2 * c - (2 ** bits - 1) : c;
            expect(Math.abs(v)).toBeLessThanOrEqual(scheme === 'bipolar' ? 2 ** bits - 1 : 2 ** (bits - 1) - 1);
            // Signs (1 bit) scale by the mean magnitude: only the sign is kept.
            if (scheme === 'bipolar' && bits === 1) expect(Math.sign(v)).toBe(a[j * k + i]! < 0 ? -1 : 1);
            else expect(Math.abs(a[j * k + i]! - s * v)).toBeLessThanOrEqual((scheme === 'bipolar' ? 1 : 0.5) * s * (1 + 1e-6) + 1e-12);
          }
      }),
      { numRuns: 60 },
    );
  });

  it('rewrites MatMul and Gemm into exact integer BitMatMuls; w8a8 stays within 2 % of the float model', () => {
    const g = mlp(3, 45, 20, 7, 5);
    const x = { x: makeTensor('f32', [3, 45], (i) => Math.sin(i * 1.7)) };
    const want = Object.values(interpret(g, x))[0]!;
    for (const group of [0, 16]) {
      const { graph, reports } = pack(g, { bits: 'w8a8', group });
      expect(graph.nodes.filter((n) => n.op === 'BitMatMul')).toHaveLength(2);
      expect(graph.nodes.some((n) => n.op === 'MatMul' || n.op === 'Gemm')).toBe(false);
      expect(graph.constants.some((c) => c.type.dtype === 'f32' && (c.name === 'w1' || c.name === 'w2'))).toBe(false);
      expect(reports.find((r) => r.pass === 'bitpack')!.stats).toMatchObject({ 'weights-quantized': 2, 'matmuls-rewritten': 2 });
      const got = Object.values(interpret(graph, x))[0]!;
      const scale = Math.max(...Array.from(want.data, Math.abs));
      const err = Math.max(...Array.from(got.data, (v, i) => Math.abs(v - want.data[i]!)));
      expect(err / scale, `group ${group}`).toBeLessThan(0.02);
    }
  });

  it('weights only (w<n>f16): the constants become quant-encoded, the graph is otherwise unchanged', () => {
    const g = mlp(3, 64, 32, 7, 5);
    const x = { x: makeTensor('f32', [3, 64], (i) => Math.sin(i * 1.7)) };
    const want = Object.values(interpret(g, x))[0]!;
    const scale = Math.max(...Array.from(want.data, Math.abs));
    for (const [bits, group, bound] of [['w8f16', 0, 0.02], ['w4f32', 16, 0.2], ['w1f16', 32, 1]] as const) {
      const { graph } = pack(g, { bits, group });
      expect(graph.nodes.map((n) => n.op)).toEqual(g.nodes.map((n) => n.op));
      const encoded = graph.constants.filter((c) => c.type.encoding.kind === 'quant');
      expect(encoded.map((c) => c.name).sort(), bits).toEqual(['w1', 'w2']);
      const got = Object.values(interpret(graph, x))[0]!;
      const err = Math.max(...Array.from(got.data, (v, i) => Math.abs(v - want.data[i]!)));
      expect(err / scale, bits).toBeLessThan(bound);
      expect(err, bits).toBeGreaterThan(0);
    }
  });

  it('ternary weights (wta8, wtf16): codes -1, 0, +1 with an absmean scale, as BitMatMul or weights only', () => {
    const a = Float64Array.from({ length: 4 * 40 }, (_, i) => Math.sin(i * 2.3) * (1 + (i % 5)));
    const q = quantizeWeight(4, 40, (j, i) => a[j * 40 + i]!, 2, 'ternary', 0);
    expect(q.codes.dtype).toBe('i2');
    expect(new Set(q.codes.data)).toEqual(new Set([-1, 0, 1]));
    const mean = a.slice(0, 40).reduce((s, v) => s + Math.abs(v), 0) / 40;
    expect(q.scales.data[0]).toBeCloseTo(mean, 5);
    const g = mlp(3, 64, 32, 7, 5);
    const x = { x: makeTensor('f32', [3, 64], (i) => Math.sin(i * 1.7)) };
    const want = Object.values(interpret(g, x))[0]!;
    const scale = Math.max(...Array.from(want.data, Math.abs));
    const packed = pack(g, { bits: 'wta8', group: 32 }).graph;
    expect(packed.constants.filter((c) => c.value?.dtype === 'i2')).toHaveLength(2);
    const weightsOnly = pack(g, { bits: 'wtf16', group: 32 }).graph;
    expect(weightsOnly.constants.filter((c) => c.type.encoding.kind === 'quant' && c.value?.dtype === 'i2')).toHaveLength(2);
    for (const graph of [packed, weightsOnly]) {
      const got = Object.values(interpret(graph, x))[0]!;
      expect(Math.max(...Array.from(got.data, (v, i) => Math.abs(v - want.data[i]!))) / scale).toBeLessThan(0.6);
    }
  });

  it('keeps weights matching `keep` in float; is deterministic', () => {
    const g = mlp(2, 33, 9, 4, 7);
    const { graph } = pack(g, { bits: 'w4a8', keep: '^w2$' });
    expect(graph.nodes.filter((n) => n.op === 'BitMatMul')).toHaveLength(1);
    expect(graph.constants.find((c) => c.name === 'w2')!.type.dtype).toBe('f32');
    expect(printGraph(pack(g, { bits: 'w2a2', group: 8 }).graph)).toBe(printGraph(pack(g, { bits: 'w2a2', group: 8 }).graph));
  });

  it('per-layer widths: the first matching pattern wins; weights-only and integer layers side by side', () => {
    const g = mlp(2, 32, 16, 4, 11);
    const x = { x: makeTensor('f32', [2, 32], (i) => Math.sin(i)) };
    const { graph } = pack(g, { bits: 'w4a8', group: 8, layers: { '^w2$': { bits: 'w8f16', group: 4 }, w: 'w2a4' } });
    // w1 takes the second pattern (w2a4, the default group 8), w2 the first (weights only, group 4).
    const bm = graph.nodes.filter((n) => n.op === 'BitMatMul');
    expect(bm).toHaveLength(1);
    expect(graph.types.get(bm[0]!.inputs[1]!)!.dtype).toBe('i2');
    expect(graph.types.get(bm[0]!.inputs[0]!)!.dtype).toBe('i4');
    expect(bm[0]!.attrs.group).toBe(8);
    const w2 = graph.constants.find((c) => c.name === 'w2')!.type;
    expect(w2.encoding.kind === 'quant' && w2.encoding.params).toMatchObject({ bits: 8, group: 4 });
    // Still the float model's function, roughly (w2a4 on the first layer is coarse).
    const want = Object.values(interpret(g, x))[0]!;
    const got = Object.values(interpret(graph, x))[0]!;
    const scale = Math.max(...Array.from(want.data, Math.abs));
    expect(Math.max(...Array.from(got.data, (v, i) => Math.abs(v - want.data[i]!))) / scale).toBeLessThan(0.5);
    expect(() => pack(g, { bits: 'w4a8', layers: { attn: 'w8a8' } })).toThrow(/^bitpack layers pattern 'attn' matches no matmul or convolution weight of mlp$/);
  });

  it('weights-only widths quantize Conv weights as [M, K] codes behind a Reshape; integer widths leave them float', () => {
    const next = rng(5);
    const b = new GraphBuilder('cnn');
    const x = b.input('x', tensorType('f32', [1, 3, 6, 6]));
    const w = b.constant(makeTensor('f32', [4, 3, 3, 3], next), 'k');
    b.output(b.op('Relu', [b.op('Conv', [x, w, b.constant(makeTensor('f32', [4], next), 'kb')], { pads: [1, 1, 1, 1] })]));
    const g = b.build();
    const feed = { x: makeTensor('f32', [1, 3, 6, 6], (i) => Math.cos(i * 0.7)) };
    const { graph, reports } = pack(g, { bits: 'w8f16', group: 9 });
    const k = graph.constants.find((c) => c.name === 'k')!.type;
    expect(k.shape).toEqual([4, 27]);
    expect(k.encoding.kind === 'quant' && k.encoding.params).toMatchObject({ bits: 8, group: 9, axis: 1 });
    const conv = graph.nodes.find((n) => n.op === 'Conv')!;
    expect(graph.nodes.find((n) => n.outputs[0] === conv.inputs[1])).toMatchObject({ op: 'Reshape', inputs: ['k'], attrs: { shape: [4, 3, 3, 3] } });
    expect(reports.find((r) => r.pass === 'bitpack')!.stats).toMatchObject({ 'conv-weights-quantized': 1 });
    const [want, got] = [Object.values(interpret(g, feed))[0]!, Object.values(interpret(graph, feed))[0]!];
    const scale = Math.max(...Array.from(want.data, Math.abs));
    expect(Math.max(...Array.from(got.data, (v, i) => Math.abs(v - want.data[i]!))) / scale).toBeLessThan(0.02);
    expect(graph.constants.find((c) => c.name === 'k')!.type.encoding.kind).toBe('quant');
    // Integer products are matmuls only: at w8a8 the Conv weight stays as it was.
    expect(pack(g, { bits: 'w8a8' }).graph.constants.find((c) => c.name === 'k')!.type).toEqual(g.constants.find((c) => c.name === 'k')!.type);
  });

  it('shortens a group whose integer sums could pass i32', () => {
    const g = mlp(1, 40000, 2, 2, 3);
    // Bipolar 8-bit codes reach ±255: 40000 products of two can pass 2^31, 32768 cannot.
    const { graph, reports } = pack(g, { bits: 'w8a8', weights: 'bipolar', activations: 'bipolar' });
    expect(reports.find((r) => r.pass === 'bitpack')!.stats).toMatchObject({ 'groups-shortened': 1 });
    const bm = graph.nodes.find((n) => n.op === 'BitMatMul')!;
    expect(bm.attrs.group).toBe(32768);
  });

  it.each([
    [{ bits: 'w9a8' }, /^bitpack bits must be w<n>a<m> with n and m in 1\.\.8 \(e\.g\. w4a8\), or w<n>f16 \/ w<n>f32 for weights only, n = t for ternary weights \(wta8\), got 'w9a8'$/],
    [{ bits: 'wta8', weights: 'bipolar' }, /^bitpack: wt means ternary weights; weights=bipolar contradicts it$/],
    [{ bits: 'w4f16', activations: 'bipolar' }, /^bitpack: w4f16 quantizes weights only; activations=bipolar needs w<n>a<m>$/],
    [{ bits: 'w4a8', group: -1 }, /^bitpack group must be an integer >= 0/],
    [{ bits: 'w1a8', weights: 'symmetric' }, /^bitpack: symmetric 1-bit weights hold only 0; use weights=bipolar/],
    [{ bits: 'w4a1', activations: 'signed' }, /^bitpack: signed 1-bit activations hold only -1 and 0/],
    [{ bits: 'w4a8', keep: '(' }, /^bitpack keep is not a regular expression/],
    [{ bits: 'w4a8', layers: ['w1'] }, /^bitpack layers must map weight-name patterns to widths/],
    [{ bits: 'w4a8', layers: { w1: 'w9' } }, /^bitpack layers 'w1': bits must be w<n>a<m>/],
    [{ bits: 'w4a8', layers: { w1: { bits: 'w8a8', size: 3 } } }, /^bitpack layers 'w1': unknown key 'size' \(known: bits, group, weights, activations\)$/],
    [{ bits: 'w4a8', layers: { '(': 'w8a8' } }, /^bitpack layers pattern '\(' is not a regular expression/],
    [{ bits: 'w4f16', layers: { w1: { bits: 'w4f16', activations: 'bipolar' } } }, /^bitpack layers 'w1': w4f16 quantizes weights only/],
  ])('refuses %j in one line', (opts, message) => {
    expect(() => configure(bitpack, opts)).toThrow(message);
  });
});
