// The quant GEMV (compiler/kernels/quant-gemv.ts) on the adapter: MatMul and Gemm over quant-encoded weights read in
// place (no Materialize dispatch), for codes of 1 to 8 bits, signed and unsigned, without zero points and with
// packed or f32 ones, scales per row or per group along K (f32 or f16), both orientations (Gemm transB's [M, K],
// MatMul's [K, M] in the transposed layout), ragged M, 1..9 activation rows (ragged blocks of 4), whole-vec4 and
// one-word steps, a bias and alpha, a residual Add and a Tanh fused as the GEMV's epilogue, against the interpreter
// on random data. The quant gather (a tied embedding:
// one table read by Gather and by the LM head's Gemm; any width, rows inside words), and a tiny GPT-2 compiled at
// w4f16 decoding step by step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { GraphBuilder, type Graph, TRANSPOSED, importHf, interpret, makeTensor, quantEncoding, tensorType } from '../../ir/index.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { compileProgram } from '../../compiler/compile.js';
import { bitpack, configure, inferShapes, runPipeline, DEFAULT_TARGET } from '../../passes/index.js';
import { Session } from '../../runtime/index.js';
import { promptIds, tempCheckpoint } from '../import/hf-fixtures.js';
import { interpGenerate } from '../import/hf-generate.js';
import { expectStepsMatch } from './decoder-steps.js';
import { testGpu } from './harness.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

interface Case {
  readonly bits: number;
  readonly signed: boolean;
  readonly m: number;
  /** K in steps of floor(32 / bits) codes (one u32 word per row). */
  readonly kWords: number;
  readonly groupWords: number;
  readonly rows: number;
  readonly zeros: 'none' | 'codes' | 'f32';
  readonly scale: 'f32' | 'f16';
  readonly gemm: boolean;
  readonly bias: boolean;
  readonly seed: number;
  /** Compile for subgroups (activations shared through subgroupBroadcast). */
  readonly subgroups?: boolean;
  /** A residual Add (of a graph input) and a Tanh after the product: with the bias, an epilogue the GEMV fuses. */
  readonly tail?: boolean;
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function graphOf(c: Case): { graph: Graph; inputs: Record<string, ReturnType<typeof makeTensor>> } {
  const r = rng(c.seed);
  const perWord = Math.floor(32 / c.bits);
  const k = c.kWords * perWord;
  const group = Math.min(k, c.groupWords * perWord);
  const groups = Math.ceil(k / group);
  const signed = c.signed && c.bits > 1;
  const [lo, hi] = signed ? [-(2 ** (c.bits - 1)), 2 ** (c.bits - 1) - 1] : [0, 2 ** c.bits - 1];
  const code = (): number => lo + Math.floor(r() * (hi - lo + 1));
  const b = new GraphBuilder('quant-gemv');
  const x = b.input('x', tensorType('f32', [c.rows, k]));
  // Logical [M, K] (Gemm transB) with groups along axis 1, or [K, M] transposed with groups along axis 0.
  const gShape = c.gemm ? [c.m, groups] : [groups, c.m];
  const scales = b.constant(makeTensor(c.scale, gShape, () => 0.05 + r() * 0.2), 'w.scales');
  const codeType = `${signed ? 'i' : 'u'}${c.bits}` as 'u4';
  const zeros =
    c.zeros === 'none' ? undefined : b.constant(c.zeros === 'codes' ? makeTensor(codeType, gShape, code) : makeTensor('f32', gShape, () => (r() - 0.5) * hi), 'w.zeros');
  const encoding = quantEncoding({ bits: c.bits, scheme: signed ? 'signed' : 'unsigned', group, axis: c.gemm ? 1 : 0, scale: c.scale, zero: zeros ? 'per-group' : 'none', packing: 'packed', scales, ...(zeros ? { zeros } : {}) });
  const type = c.gemm ? tensorType('f32', [c.m, k], undefined, encoding) : tensorType('f32', [k, c.m], TRANSPOSED, encoding);
  const w = b.declareConstant({ name: 'w', type, value: makeTensor(codeType, [c.m, k], code) });
  const bias = c.bias ? b.constant(makeTensor('f32', [c.m], () => r() - 0.5), 'bias') : undefined;
  const y = c.gemm ? b.op('Gemm', bias ? [x, w, bias] : [x, w], { transB: 1, alpha: 0.5 }) : b.op('MatMul', [x, w]);
  const biased = c.bias && !c.gemm ? b.op('Add', [y, bias!]) : y;
  const residual = c.tail ? b.input('residual', tensorType('f32', [c.rows, c.m])) : undefined;
  b.output(residual ? b.op('Tanh', [b.op('Add', [residual, biased])]) : biased);
  const inputs = { x: makeTensor('f32', [c.rows, k], () => r() * 2 - 1), ...(c.tail ? { residual: makeTensor('f32', [c.rows, c.m], () => r() * 2 - 1) } : {}) };
  return { graph: b.build(), inputs };
}

async function check(c: Case): Promise<void> {
  const { graph, inputs } = graphOf(c);
  const target = { shaderF16: false, ...(c.subgroups ? { subgroups: true } : {}) };
  const artifact = compileGraph(graph, { source: 'test', target });
  const files = artifact.manifest.kernels.map((k) => k.file);
  expect(files.some((f) => f.includes('quant-gemv')), files.join(' ')).toBe(true);
  expect(files.some((f) => f.includes('materialize')), files.join(' ')).toBe(false);
  // The followers (a MatMul's bias Add, the residual Add and Tanh) run in the GEMV's epilogue.
  expect(files.some((f) => f.includes('elementwise')), files.join(' ')).toBe(false);
  // The quad layout (arrange-layout) where the GEMV keeps 4 rows per lane as components: M >= 256, 1/2/4 bits.
  const quad = c.m >= 256 && [1, 2, 4].includes(c.bits);
  const wgsl = new TextDecoder().decode([...artifact.files].find(([p]) => p.includes('quant-gemv'))![1] as Uint8Array);
  expect(/var<storage, read> w: array<vec4<u32>>/.test(wgsl) && !/w\[wb/.test(wgsl), `quad layout read for M = ${c.m}, ${c.bits} bits`).toBe(quad);
  expect(artifact.manifest.requires.features.includes('subgroups')).toBe(wgsl.includes('subgroupBroadcast'));
  const k = c.kWords * Math.floor(32 / c.bits);
  const group = Math.min(k, c.groupWords * Math.floor(32 / c.bits));
  // Activations through subgroupBroadcast: rows as components (4 rows per lane: M > 192; up to 4 bits), K and the
  // groups whole chunks of 32 values.
  const byRows = [1, 2, 4].includes(c.bits) && c.m > 192;
  const shared = !!c.subgroups && byRows && k % 32 === 0 && (group === k || group % 32 === 0);
  expect(wgsl.includes('subgroupBroadcast'), `subgroup activations for K = ${k}, group ${group}`).toBe(shared);
  // A MatMul's scales [groups, M] read as one vec4 per 4 rows (rows as components, M a multiple of 4).
  const scaleQuads = byRows && !c.gemm && c.m % 4 === 0;
  expect(/var<storage, read> scales: array<vec(4<f32>|4<f16>|2<u32>)>/.test(wgsl), `vec4 scales for M = ${c.m}`).toBe(scaleQuads);
  await expectGpuMatchesInterpreter(graph, inputs, { rtol: 1e-4, atol: 1e-5 * k * 2 ** c.bits }, { subgroups: !!c.subgroups });
}

const arbCase: fc.Arbitrary<Case> = fc.record({
  bits: fc.constantFrom(1, 2, 4, 8),
  signed: fc.boolean(),
  m: fc.integer({ min: 1, max: 300 }),
  kWords: fc.constantFrom(1, 3, 4, 8, 12),
  groupWords: fc.constantFrom(1, 4, 8, 1000),
  rows: fc.integer({ min: 1, max: 9 }),
  zeros: fc.constantFrom<Case['zeros']>('none', 'codes', 'f32'),
  scale: fc.constantFrom<Case['scale']>('f32', 'f16'),
  gemm: fc.boolean(),
  bias: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  subgroups: fc.boolean(),
  tail: fc.boolean(),
});

describe('quant GEMV on the adapter', () => {
  it('4-bit unsigned with zero points, groups of 32, one row, Gemm (the decode case)', async () => {
    await check({ bits: 4, signed: false, m: 130, kWords: 8, groupWords: 4, rows: 1, zeros: 'codes', scale: 'f16', gemm: true, bias: true, seed: 3 });
  });
  it('8-bit signed per row, 5 rows, MatMul, one-word steps', async () => {
    await check({ bits: 8, signed: true, m: 67, kWords: 3, groupWords: 1000, rows: 5, zeros: 'none', scale: 'f32', gemm: false, bias: false, seed: 4 });
  });
  it('3, 5, 6 and 7-bit codes (floor(32 / bits) to a word), K in whole vec4 steps', async () => {
    await check({ bits: 3, signed: true, m: 70, kWords: 8, groupWords: 4, rows: 1, zeros: 'none', scale: 'f32', gemm: true, bias: true, seed: 8 });
    await check({ bits: 5, signed: false, m: 65, kWords: 12, groupWords: 1000, rows: 3, zeros: 'codes', scale: 'f16', gemm: false, bias: false, seed: 9 });
    await check({ bits: 6, signed: true, m: 9, kWords: 4, groupWords: 4, rows: 2, zeros: 'f32', scale: 'f32', gemm: true, bias: false, seed: 10 });
    await check({ bits: 7, signed: false, m: 300, kWords: 3, groupWords: 1, rows: 1, zeros: 'none', scale: 'f32', gemm: true, bias: false, seed: 11 });
    await check({ bits: 7, signed: true, m: 257, kWords: 8, groupWords: 4, rows: 5, zeros: 'codes', scale: 'f16', gemm: false, bias: true, seed: 12 });
  });
  it('1-bit and 2-bit codes', async () => {
    await check({ bits: 1, signed: false, m: 64, kWords: 4, groupWords: 4, rows: 2, zeros: 'f32', scale: 'f32', gemm: true, bias: false, seed: 5 });
    await check({ bits: 2, signed: true, m: 257, kWords: 8, groupWords: 4, rows: 9, zeros: 'codes', scale: 'f16', gemm: false, bias: true, seed: 6 });
  });
  it('the quad layout (4 rows per 16-byte block, both orientations, ragged M) with and without subgroups', async () => {
    const gpu = await testGpu();
    expect(gpu.acquired.features.has('subgroups'), 'this adapter offers subgroups (lavapipe does)').toBe(true);
    for (const subgroups of [false, true]) {
      // Subgroups share activations in chunks of 32 values: K and the groups whole chunks (kWords 8 at 4 bits).
      await check({ bits: 4, signed: true, m: 301, kWords: 8, groupWords: 4, rows: 3, zeros: 'none', scale: 'f16', gemm: true, bias: true, seed: 21, subgroups });
      await check({ bits: 4, signed: false, m: 258, kWords: 16, groupWords: 8, rows: 6, zeros: 'codes', scale: 'f32', gemm: false, bias: true, seed: 22, subgroups });
      await check({ bits: 2, signed: true, m: 263, kWords: 4, groupWords: 2, rows: 1, zeros: 'f32', scale: 'f32', gemm: false, bias: false, seed: 23, subgroups });
      await check({ bits: 1, signed: false, m: 256, kWords: 3, groupWords: 1000, rows: 2, zeros: 'none', scale: 'f16', gemm: true, bias: false, seed: 24, subgroups });
      // by-k (MatMul) at 1 and 2 bits: K steps side by side in a word, each word's last step read shifted down;
      // with a fused epilogue.
      await check({ bits: 1, signed: false, m: 260, kWords: 4, groupWords: 2, rows: 2, zeros: 'none', scale: 'f32', gemm: false, bias: true, seed: 26, subgroups, tail: true });
      await check({ bits: 2, signed: false, m: 270, kWords: 8, groupWords: 1000, rows: 5, zeros: 'none', scale: 'f16', gemm: false, bias: false, seed: 27, subgroups, tail: true });
      await check({ bits: 4, signed: true, m: 256, kWords: 16, groupWords: 4, rows: 1, zeros: 'f32', scale: 'f32', gemm: false, bias: true, seed: 28, subgroups, tail: true });
      // f16 scales of 4 rows as one load (vec4<f16>, or a word pair without shader-f16), the last block ragged.
      await check({ bits: 4, signed: false, m: 264, kWords: 8, groupWords: 4, rows: 2, zeros: 'codes', scale: 'f16', gemm: false, bias: false, seed: 29, subgroups });
      // Groups not whole chunks of 32 (16 values): the subgroup form steps aside, the quad layout stays.
      await check({ bits: 4, signed: true, m: 300, kWords: 8, groupWords: 2, rows: 1, zeros: 'none', scale: 'f32', gemm: false, bias: false, seed: 25, subgroups });
    }
  });
  it('random shapes, widths, schemes and orientations', async () => {
    await fc.assert(fc.asyncProperty(arbCase, check), { numRuns: 10 });
  });
});

/** A tied table [v, d] read by Gather (nIds ids) and by the head's Gemm transB, bitpacked weights-only; its kernels. */
function tiedTable(v: number, d: number, nIds: number, bits: string, group: number, seed0: number): { packed: Graph; files: string[] } {
  let seed = seed0;
  const next = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5);
  const b = new GraphBuilder('tied');
  const ids = b.input('ids', tensorType('i32', [nIds]));
  const table = b.constant(makeTensor('f32', [v, d], next), 'wte');
  const h = b.op('Tanh', [b.op('Gather', [table, ids], { axis: 0 })]);
  b.output(b.op('Gemm', [h, table], { transB: 1 }));
  const packed = runPipeline(b.build(), [configure(inferShapes), configure(bitpack, { bits, group })], { target: DEFAULT_TARGET }).graph;
  return { packed, files: compileGraph(packed, { source: 'test', target: { shaderF16: false } }).manifest.kernels.map((k) => k.file) };
}

describe('quant gather and a w4f16 decoder on the adapter', () => {
  it('a tied table read by Gather and by Gemm transB stays codes for both', async () => {
    const { packed, files } = tiedTable(50, 64, 3, 'w4f16', 32, 7);
    expect(packed.constants.find((c) => c.name === 'wte')!.type.encoding.kind).toBe('quant');
    expect(files.some((f) => f.includes('quant-gather')), files.join(' ')).toBe(true);
    expect(files.some((f) => f.includes('quant-gemv')), files.join(' ')).toBe(true);
    expect(files.some((f) => f.includes('materialize')), files.join(' ')).toBe(false);
    const feeds = { ids: makeTensor('i32', [3], [0, 49, -1]) };
    expect(Object.values(interpret(packed, feeds))[0]!.data.length).toBe(3 * 50);
    await expectGpuMatchesInterpreter(packed, feeds, { rtol: 1e-4, atol: 1e-5 });
  });

  it('a tied table of 300 rows: the head reads the quad layout, and so does the gather (ragged last block)', async () => {
    const { packed, files } = tiedTable(301, 64, 5, 'w4f16', 32, 11);
    const artifact = compileGraph(packed, { source: 'test', target: { shaderF16: false } });
    const wgsl = (name: string): string => new TextDecoder().decode([...artifact.files].find(([p]) => p.includes(name))![1] as Uint8Array);
    expect(wgsl('quant-gemv')).toMatch(/var<storage, read> w: array<vec4<u32>>/);
    expect(wgsl('quant-gather')).toMatch(/% 4u/);
    expect(files.some((f) => f.includes('materialize')), files.join(' ')).toBe(false);
    await expectGpuMatchesInterpreter(packed, { ids: makeTensor('i32', [5], [0, 300, -1, 297, 150]) }, { rtol: 1e-4, atol: 1e-5 });
  });

  it('the gather reads codes of any width in place, rows starting inside a word (3, 5, 6, 7 bits, D = 45)', async () => {
    for (const bits of [3, 5, 6, 7]) {
      const { packed, files } = tiedTable(37, 45, 4, `w${bits}f16`, 15, bits);
      expect(files.some((f) => f.includes('quant-gather')), `w${bits}: ${files.join(' ')}`).toBe(true);
      await expectGpuMatchesInterpreter(packed, { ids: makeTensor('i32', [4], [0, 36, -1, 17]) }, { rtol: 1e-4, atol: 1e-5 });
    }
  });

  it('a tiny GPT-2 (tied head) at w4f16 decodes as its interpreter does, every matmul and the embedding as codes', async () => {
    const ckpt = tempCheckpoint('gpt2', { n_embd: 64, n_head: 2 });
    const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: 32, chunk: 8 });
    const program = { name: 'gpt2', entries: model.entries, generation: model.generation! };
    const artifact = compileProgram(program, { target: { shaderF16: false }, bits: { bits: 'w4f16', group: 32 } });
    const layers = artifact.manifest.quantization!.layers;
    expect(layers.find((l) => l.weight.endsWith('wte.weight'))).toMatchObject({ bits: 4 });
    expect(layers.every((l) => l.kernel === 'quant-gemv' || l.kernel === 'quant-gather'), JSON.stringify(layers.map((l) => [l.weight, l.kernel]))).toBe(true);
    // The reference: the interpreter over the bitpacked graphs (what the artifact computes).
    const packed = Object.fromEntries(
      Object.entries(model.entries).map(([k, e]) => [k, { ...e, graph: runPipeline(e.graph, [configure(inferShapes), configure(bitpack, { bits: 'w4f16', group: 32 })], { target: DEFAULT_TARGET }).graph }]),
    );
    const prompt = promptIds(11, model.generation!.vocabSize);
    const reference = interpGenerate({ ...model, entries: packed }, prompt, 6);
    const gpu = await testGpu();
    const session = await Session.load(artifactFiles(artifact), { device: gpu.acquired });
    try {
      await expectStepsMatch(session, model.generation!, prompt, reference);
    } finally {
      session.dispose();
    }
  }, 120_000);
});
