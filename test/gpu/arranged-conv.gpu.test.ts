// The arranged conv on the adapter (compiler/kernels/conv-arranged.ts): under the lavapipe profile, whose
// panelFlopsPerMs makes arrange-layout store conv weights in panels of filters, random convolutions (1-D, 2-D and
// 3-D; ragged filter counts against the panel, pads, strides, dilations, a batch whose pixels end in a ragged
// block, bias or none, a fused Relu) match the interpreter; arranged and row-major artifacts give identical
// outputs on integer-valued data (exact sums in any order); grouped convs and the generic-gpu profile keep the
// weight row-major and the tiled kernel.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder, interpret, makeTensor, tensorType, toleranceExcess } from '../../ir/index.js';
import { compileGraph } from '../../compiler/compile.js';
import { PROFILES } from '../../passes/sparse/profiles.js';
import { expectGpuMatchesInterpreter, runGraphOnGpu } from './graph-harness.js';
import { randomTensor } from './data.js';

interface Case {
  batch: number;
  channels: number;
  filters: number;
  size: number[];
  kernel: number[];
  stride: number;
  dilation: number;
  pad: number;
  bias: boolean;
  relu: boolean;
  group: number;
  seed: number;
}

const SMOOTH = { edges: 0 };

function convGraph(o: Case, integers = false): Graph {
  const b = new GraphBuilder('conv');
  const x = b.input('x', tensorType('f32', [o.batch, o.channels, ...o.size]));
  const wShape = [o.filters, o.channels / o.group, ...o.kernel];
  const w = b.constant(integers ? makeTensor('f32', wShape, (i) => ((i * 7) % 9) - 4) : randomTensor('f32', wShape, o.seed + 1, SMOOTH), 'w');
  const inputs = [x, w];
  if (o.bias) inputs.push(b.constant(integers ? makeTensor('f32', [o.filters], (i) => (i % 3) - 1) : randomTensor('f32', [o.filters], o.seed + 2, SMOOTH), 'bias'));
  const n = o.size.length;
  let y = b.op('Conv', inputs, { strides: Array(n).fill(o.stride), dilations: Array(n).fill(o.dilation), pads: Array(2 * n).fill(o.pad), group: o.group });
  if (o.relu) y = b.op('Relu', [y]);
  b.output(y);
  return b.build();
}

const arbCase = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    channels: fc.integer({ min: 1, max: 12 }),
    filters: fc.integer({ min: 1, max: 70 }),
    rank: fc.constantFrom(1, 2, 2, 2, 3),
    extent: fc.integer({ min: 3, max: 11 }),
    kernel: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    pad: fc.integer({ min: 0, max: 2 }),
    bias: fc.boolean(),
    relu: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1e6 }),
  })
  .map(({ rank, extent, kernel, ...o }): Case => ({
    ...o,
    // 3-D stays small; the window must fit the padded input.
    size: Array.from({ length: rank }, (_, d) => Math.max((kernel - 1) * o.dilation + 1, rank === 3 ? Math.min(extent, 5) : extent + d)),
    kernel: Array(rank).fill(kernel),
    group: 1,
  }));

const files = (g: Graph, profile: keyof typeof PROFILES, layout: 'auto' | 'row-major' = 'auto'): string[] =>
  compileGraph(g, { source: 'test', target: { shaderF16: false }, layout, profile: PROFILES[profile]! }).manifest.kernels.map((k) => k.file);

describe('arranged conv on the adapter', () => {
  it('matches the interpreter on random convolutions (1-D to 3-D, ragged filters and blocks, pads, strides, dilations)', async () => {
    let arranged = 0;
    await fc.assert(
      fc.asyncProperty(arbCase, async (o) => {
        const g = convGraph(o);
        if (files(g, 'lavapipe').some((f) => f.includes('conv-arranged'))) arranged++;
        const x = { x: randomTensor('f32', g.inputs[0]!.type.shape as number[], o.seed, SMOOTH) };
        await expectGpuMatchesInterpreter(g, x, { rtol: 1e-4, atol: 1e-4 }, { compile: { profile: PROFILES.lavapipe! } });
      }),
      { numRuns: 24 },
    );
    // The cost model keeps some tiny convs on the tiled kernel; most must take the arranged one.
    expect(arranged).toBeGreaterThan(12);
  }, 300_000);

  it('arranged and row-major artifacts give identical outputs (integer-valued data sums exactly in any order)', async () => {
    const cases: Case[] = [
      { batch: 2, channels: 5, filters: 37, size: [9, 14], kernel: [3, 3], stride: 1, dilation: 1, pad: 1, bias: true, relu: true, group: 1, seed: 1 },
      { batch: 1, channels: 16, filters: 64, size: [13, 13], kernel: [1, 1], stride: 1, dilation: 1, pad: 0, bias: true, relu: false, group: 1, seed: 2 },
      { batch: 1, channels: 3, filters: 24, size: [17, 15], kernel: [3, 3], stride: 2, dilation: 1, pad: 0, bias: false, relu: false, group: 1, seed: 3 },
    ];
    for (const o of cases) {
      const g = convGraph(o, true);
      expect(files(g, 'lavapipe').some((f) => f.includes('conv-arranged')), `case ${o.seed} is arranged`).toBe(true);
      expect(files(g, 'lavapipe', 'row-major').some((f) => f.includes('conv-arranged'))).toBe(false);
      const x = { x: makeTensor('f32', g.inputs[0]!.type.shape as number[], (i) => (i % 5) - 2) };
      const a = await runGraphOnGpu(g, x, { compile: { layout: 'auto', profile: PROFILES.lavapipe! } });
      const r = await runGraphOnGpu(g, x, { compile: { layout: 'row-major', profile: PROFILES.lavapipe! } });
      const [ga, gr] = [Object.values(a)[0]!, Object.values(r)[0]!];
      expect(Array.from(ga.data)).toEqual(Array.from(gr.data));
      expect(toleranceExcess(ga, Object.values(interpret(g, x))[0]!, 1e-6, 1e-6)).toBe(0);
    }
  }, 120_000);

  it('grouped convs, and every conv under the generic-gpu profile, keep row-major weights and the tiled kernel', () => {
    const base: Case = { batch: 1, channels: 8, filters: 32, size: [12, 12], kernel: [3, 3], stride: 1, dilation: 1, pad: 1, bias: true, relu: false, group: 1, seed: 4 };
    expect(files(convGraph(base), 'lavapipe').some((f) => f.includes('conv-arranged'))).toBe(true);
    expect(files(convGraph(base), 'generic-gpu').some((f) => f.includes('conv-arranged'))).toBe(false);
    expect(files(convGraph({ ...base, group: 2 }), 'lavapipe').some((f) => f.includes('conv-arranged'))).toBe(false);
  });
});
