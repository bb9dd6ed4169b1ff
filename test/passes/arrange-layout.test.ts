// arrange-layout held to papers.md §4.5: the layout maps are bijections (padding aside), GEMM invariance (the
// interpreter on arranged weights is bit-identical to row-major ones, f32 and f16), whole-graph equivalence on random
// MLPs, alignment of the stored panels, and the cost model's choice is the one applied (row-major kept where panels
// would pad too much). Readers that cannot read the panels in place keep their weight row-major.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder, blocked, fromLayout, interpret, layoutElements, layoutOffset, layoutSource, makeTensor, tensorType, tensorsIdentical, toLayout } from '../../ir/index.js';
import { DEFAULT_TARGET, PROFILES, type PassTarget, bitpack, configure, inferShapes, materializeEncodings, runProgramPipeline, storeWeightsF16 } from '../../passes/index.js';
import { arrangeLayout } from '../../passes/arrange-layout.js';
import { panelLayout, panelOf } from '../../passes/layout/arrangement.js';
import { rankLayouts } from '../../passes/layout/cost.js';
import { constantChunks } from '../../compiler/memory/weight-chunks.js';
import { storageDecls } from '../../compiler/memory/storage-decls.js';

const LAVAPIPE: PassTarget = { ...DEFAULT_TARGET, profile: PROFILES.lavapipe! };

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
}

interface Layer {
  rows: number;
  k: number;
  m: number;
  gemm: boolean;
  seed: number;
}

/** x[rows, k] . W: MatMul of W[k, m], or Gemm transB of W[m, k] plus a bias and alpha/beta. */
function layer(o: Layer): Graph {
  const next = rng(o.seed);
  const b = new GraphBuilder('g');
  const x = b.input('x', tensorType('f32', [o.rows, o.k]));
  const w = b.constant(makeTensor('f32', o.gemm ? [o.m, o.k] : [o.k, o.m], next), 'w');
  const attrs = { transB: 1, alpha: 0.5, beta: 2 };
  b.output(o.gemm ? b.op('Gemm', [x, w, b.constant(makeTensor('f32', [o.m], next), 'bias')], attrs) : b.op('MatMul', [x, w]));
  return b.build();
}

const inputs = (g: Graph, seed: number) =>
  Object.fromEntries(g.inputs.map((i) => [i.name, makeTensor('f32', i.type.shape as number[], (j) => Math.sin(j * 12.9898 + seed))]));

const arrange = (g: Graph, f16: boolean, layout: 'auto' | 'row-major' = 'auto', target = LAVAPIPE) =>
  runProgramPipeline({ g }, [inferShapes, ...(f16 ? [storeWeightsF16] : []), configure(arrangeLayout, { layout }), materializeEncodings], { target });

const arbLayer = fc.record({
  rows: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 20 })),
  k: fc.integer({ min: 1, max: 70 }),
  m: fc.integer({ min: 1, max: 300 }),
  gemm: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

describe('arrange-layout', () => {
  it('layout maps are bijections onto the stored elements; decode(encode(x)) == x and padding is zero', () => {
    const arbBlocked = fc.record({ rows: fc.integer({ min: 1, max: 24 }), cols: fc.integer({ min: 1, max: 24 }), a: fc.integer({ min: 1, max: 9 }), b: fc.integer({ min: 1, max: 9 }), col: fc.boolean() });
    fc.assert(
      fc.property(arbBlocked, ({ rows, cols, a, b, col }) => {
        for (const l of [blocked([a, b], col ? 'col' : 'row'), panelLayout(col, 4 * a)]) {
          const total = layoutElements(l, [rows, cols]);
          const seen = new Set<number>();
          for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) seen.add(layoutOffset(l, rows, cols, r, c));
          expect(seen.size).toBe(rows * cols);
          expect([...seen].every((o) => o >= 0 && o < total)).toBe(true);
          const x = Float64Array.from({ length: rows * cols }, (_, i) => i + 1);
          const stored = toLayout(l, [rows, cols], x);
          expect(Array.from(fromLayout(l, [rows, cols], stored))).toEqual(Array.from(x));
          expect(stored.filter((v) => v === 0).length).toBe(total - rows * cols);
          // layoutSource inverts layoutOffset: each stored element names its logical index (padding: -1).
          const sources = Array.from({ length: total }, (_, s) => layoutSource(l, rows, cols, s));
          expect(sources.map((i) => (i < 0 ? 0 : x[i]!))).toEqual(Array.from(stored));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a tensor of higher rank is blocked as its matrix [d0, d1*...*dn]: the same bijection, decode(encode(x)) == x', () => {
    const arb = fc.record({ dims: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 3, maxLength: 5 }), panel: fc.constantFrom(8, 16, 32) });
    fc.assert(
      fc.property(arb, ({ dims, panel }) => {
        const l = panelLayout(false, panel);
        const [rows, cols] = [dims[0]!, dims.slice(1).reduce((a, b) => a * b, 1)];
        expect(layoutElements(l, dims)).toBe(layoutElements(l, [rows, cols]));
        const x = Float64Array.from({ length: rows * cols }, (_, i) => i + 1);
        const stored = toLayout(l, dims, x);
        expect(Array.from(stored)).toEqual(Array.from(toLayout(l, [rows, cols], x)));
        expect(Array.from(fromLayout(l, dims, stored))).toEqual(Array.from(x));
      }),
      { numRuns: 40 },
    );
  });

  it('conv weights: panels of filters over [M, C*taps] where the profile rates the arranged conv; interpreter bit-identical', () => {
    let arranged = 0;
    const arbConv = fc.record({ c: fc.integer({ min: 1, max: 9 }), m: fc.integer({ min: 1, max: 80 }), kk: fc.integer({ min: 1, max: 3 }), hw: fc.integer({ min: 3, max: 12 }), seed: fc.integer({ min: 1, max: 1e6 }) });
    fc.assert(
      fc.property(arbConv, ({ c, m, kk, hw, seed }) => {
        const next = rng(seed);
        const b = new GraphBuilder('g');
        const x = b.input('x', tensorType('f32', [2, c, hw, hw]));
        const w = b.constant(makeTensor('f32', [m, c, kk, kk], next), 'w');
        b.output(b.op('Conv', [x, w, b.constant(makeTensor('f32', [m], next), 'bias')], { pads: [1, 1, 1, 1] }));
        const g = b.build();
        const out = arrange(g, false).graphs.g!;
        const wt = out.constants.find((k) => k.name === 'w')!;
        if (wt.type.layout.kind === 'blocked') {
          arranged++;
          const p = panelOf(wt.type.layout, false)!;
          expect(wt.value!.shape).toEqual([Math.ceil(m / p) * c * kk * kk * p]);
        }
        expect(out.nodes.some((n) => n.op === 'Materialize')).toBe(false);
        expect(arrange(g, false, 'auto', { ...LAVAPIPE, profile: PROFILES['generic-gpu']! }).graphs.g!.constants.every((k) => k.type.layout.kind === 'row-major')).toBe(true);
        const xs = inputs(g, seed);
        expect(tensorsIdentical(Object.values(interpret(out, xs))[0]!, Object.values(interpret(g, xs))[0]!)).toBe(true);
      }),
      { numRuns: 30 },
    );
    expect(arranged).toBeGreaterThan(10);
  });

  it('GEMM invariance: arranged weights give bit-identical interpreter results (f32 and f16), panels aligned', () => {
    fc.assert(
      fc.property(arbLayer, fc.boolean(), (o, f16) => {
        const g = layer(o);
        const base = runProgramPipeline({ g }, [inferShapes, ...(f16 ? [storeWeightsF16] : [])], { target: LAVAPIPE }).graphs.g!;
        const { graphs, reports } = arrange(g, f16);
        const out = graphs.g!;
        const w = out.constants.find((c) => c.name === 'w')!;
        const stats = reports.find((r) => r.pass === 'arrange-layout')!.stats as Readonly<Record<string, number>>;
        const elemBytes = f16 ? 2 : 4;
        const shape = { m: o.m, k: o.k, rows: o.rows, elemBytes, transposed: !o.gemm };
        const best = rankLayouts(LAVAPIPE.profile, [shape])[0]!;
        expect(w.type.layout.kind).toBe(best.panel ? 'blocked' : 'row-major');
        expect(stats['weights-arranged'] ?? 0).toBe(best.panel ? 1 : 0);
        // Read in place: nothing decodes the weight at run time.
        expect(out.nodes.some((n) => n.op === 'Materialize')).toBe(false);
        if (best.panel) {
          const p = panelOf(w.type.layout, !o.gemm)!;
          expect(p).toBe(best.panel);
          expect(w.value!.shape).toEqual([Math.ceil(o.m / p) * o.k * p]);
          // Alignment (§4.5.6): every panel and every k-row of a panel starts on a 16-byte boundary.
          expect((p * elemBytes) % 16).toBe(0);
          expect((o.k * p * elemBytes) % 16).toBe(0);
        }
        const x = inputs(g, o.seed);
        expect(tensorsIdentical(Object.values(interpret(out, x))[0]!, Object.values(interpret(base, x))[0]!)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('quant codes read only by quant GEMVs take the quad layout (both orientations, ragged M): interpreter bit-identical', () => {
    const arbQuant = fc.record({ m: fc.integer({ min: 200, max: 300 }), words: fc.integer({ min: 1, max: 4 }), gemm: fc.boolean(), bits: fc.constantFrom('w1f16', 'w2f16', 'w4f16', 'w8f16'), rows: fc.integer({ min: 1, max: 5 }), seed: fc.integer({ min: 1, max: 1e6 }) });
    let quads = 0;
    fc.assert(
      fc.property(arbQuant, (o) => {
        const perWord = 32 / Number(o.bits[1]);
        const g = layer({ rows: o.rows, k: o.words * perWord, m: o.m, gemm: o.gemm, seed: o.seed });
        const base = runProgramPipeline({ g }, [inferShapes, configure(bitpack, { bits: o.bits, group: perWord })], { target: LAVAPIPE }).graphs.g!;
        const { graphs, reports } = runProgramPipeline({ g: base }, [configure(arrangeLayout, { layout: 'auto' }), materializeEncodings], { target: LAVAPIPE });
        const out = graphs.g!;
        const w = out.constants.find((c) => c.name === 'w')!;
        const stats = reports.find((r) => r.pass === 'arrange-layout')!.stats as Readonly<Record<string, number>>;
        // The quad layout where the GEMV keeps 4 rows per lane as components: M >= 256, codes of up to 4 bits.
        const quad = o.m >= 256 && o.bits !== 'w8f16';
        expect(w.type.encoding.kind).toBe('quant');
        expect(w.type.layout.kind).toBe(quad ? 'blocked' : o.gemm ? 'row-major' : 'transposed');
        expect(stats['codes-arranged'] ?? 0).toBe(quad ? 1 : 0);
        if (quad) {
          quads++;
          expect(w.type.layout.kind === 'blocked' && w.type.layout.params.tile).toEqual(o.gemm ? [4, perWord] : [perWord, 4]);
          expect(w.value!.shape).toEqual([Math.ceil(o.m / 4) * 4 * o.words * perWord]);
        }
        expect(out.nodes.some((n) => n.op === 'Materialize')).toBe(false);
        const x = inputs(g, o.seed);
        expect(tensorsIdentical(Object.values(interpret(out, x))[0]!, Object.values(interpret(base, x))[0]!)).toBe(true);
      }),
      { numRuns: 30 },
    );
    expect(quads).toBeGreaterThan(0);
    // layout=row-major leaves the codes as bitpack stored them.
    const g = runProgramPipeline({ g: layer({ rows: 1, k: 64, m: 300, gemm: true, seed: 3 }) }, [inferShapes, configure(bitpack, { bits: 'w4f16', group: 32 })], { target: LAVAPIPE }).graphs.g!;
    const kept = runProgramPipeline({ g }, [configure(arrangeLayout, { layout: 'row-major' })], { target: LAVAPIPE }).graphs.g!;
    expect(kept.constants.find((c) => c.name === 'w')!.type.layout.kind).toBe('row-major');
  });

  it('whole-graph equivalence: a random MLP compiled with the pass equals it without, exactly', () => {
    let arrangedRuns = 0;
    const arbMlp = fc.record({ rows: fc.integer({ min: 1, max: 8 }), widths: fc.array(fc.integer({ min: 3, max: 90 }), { minLength: 2, maxLength: 4 }), seed: fc.integer({ min: 1, max: 1e6 }), f16: fc.boolean() });
    fc.assert(
      fc.property(arbMlp, ({ rows, widths, seed, f16 }) => {
        const next = rng(seed);
        const b = new GraphBuilder('g');
        let h = b.input('x', tensorType('f32', [rows, widths[0]!]));
        for (let i = 1; i < widths.length; i++) {
          const [k, m] = [widths[i - 1]!, widths[i]!];
          const gemm = i % 2 === 0;
          const w = b.constant(makeTensor('f32', gemm ? [m, k] : [k, m], next), `w${i}`);
          const bias = b.constant(makeTensor('f32', [m], next), `b${i}`);
          h = gemm ? b.op('Gemm', [h, w, bias], { transB: 1 }) : b.op('Add', [b.op('MatMul', [h, w]), bias]);
          if (i < widths.length - 1) h = b.op(i % 2 ? 'Relu' : 'Tanh', [h]);
        }
        b.output(h);
        const g = b.build();
        const base = arrange(g, f16, 'row-major').graphs.g!;
        const out = arrange(g, f16).graphs.g!;
        if (out.constants.some((c) => c.type.layout.kind === 'blocked')) arrangedRuns++;
        expect(base.constants.every((c) => c.type.layout.kind === 'row-major')).toBe(true);
        const x = inputs(g, seed);
        const [want, got] = [interpret(base, x), interpret(out, x)];
        for (const k of Object.keys(want)) expect(tensorsIdentical(got[k]!, want[k]!)).toBe(true);
      }),
      { numRuns: 25 },
    );
    expect(arrangedRuns).toBeGreaterThan(5);
  });

  it('keeps row-major what the arranged kernel cannot read (other readers), and prefill rows where the profile has no panel GEMM rate', () => {
    const next = rng(7);
    const b = new GraphBuilder('g');
    const x = b.input('x', tensorType('f32', [1, 64]));
    const xs = b.input('xs', tensorType('f32', [9, 64]));
    const shared = b.constant(makeTensor('f32', [64, 64], next), 'shared'); // a GEMV and a 9-row product
    const added = b.constant(makeTensor('f32', [64, 64], next), 'added'); // a GEMV and an Add
    const own = b.constant(makeTensor('f32', [64, 64], next), 'own'); // a GEMV only
    b.output(b.op('MatMul', [x, shared]), b.op('MatMul', [xs, shared]), b.op('Add', [b.op('MatMul', [x, added]), b.op('ReduceSum', [added], { axes: [0], keepdims: 1 })]), b.op('MatMul', [x, own]));
    const g = b.build();
    const layouts = (target: PassTarget): string[] => {
      const out = arrange(g, false, 'auto', target).graphs.g!;
      return ['shared', 'added', 'own'].map((n) => out.constants.find((c) => c.name === n)!.type.layout.kind);
    };
    // lavapipe rates the arranged kernel over 9 rows (panelFlopsPerMs) above the tiled one; generic-gpu does not.
    expect(layouts(LAVAPIPE)).toEqual(['blocked', 'row-major', 'blocked']);
    expect(layouts({ ...LAVAPIPE, profile: PROFILES['generic-gpu']! })).toEqual(['row-major', 'row-major', 'blocked']);
  });

  it('keeps row-major a weight whose padded panels would exceed the storage binding limit', () => {
    // [100, 1001] f32 MatMul weight: 400,400 bytes as given, more once 1001 outputs are padded to a panel multiple.
    const g = layer({ rows: 1, k: 100, m: 1001, gemm: false, seed: 3 });
    const run = (limit: number) =>
      runProgramPipeline({ g }, [inferShapes, arrangeLayout], { target: { ...LAVAPIPE, limits: { ...LAVAPIPE.limits, maxStorageBufferBindingSize: limit } } }).graphs.g!;
    const layoutOf = (out: Graph) => out.constants.find((c) => c.name === 'w')!.type.layout.kind;
    expect(layoutOf(run(1 << 20))).toBe('blocked');
    expect(layoutOf(run(400_400))).toBe('row-major');
  });

  it('the cost model keeps row-major where panels would mostly hold padding', () => {
    // 33 outputs in panels of at least 32 doubles the bytes; the row-major kernel reads them as they are.
    expect(rankLayouts(LAVAPIPE.profile, [{ m: 33, k: 512, rows: 1, elemBytes: 4, transposed: true }])[0]!.panel).toBe(0);
    expect(rankLayouts(LAVAPIPE.profile, [{ m: 4096, k: 4096, rows: 1, elemBytes: 2, transposed: false }])[0]!.panel).toBeGreaterThan(0);
    expect(() => configure(arrangeLayout, { layout: 'blocked' })).toThrow(/layout must be 'auto' or 'row-major', got 'blocked'/);
    expect(() => configure(arrangeLayout, { panel: 4 })).toThrow(/no option 'panel'/);
  });

  it('a checkpoint weight keeps its file and gets only the layout; the packer writes exactly the inline arrangement', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-arrange-'));
    let arranged = 0;
    try {
      fc.assert(
        fc.property(arbLayer, fc.boolean(), (o, f16) => {
          const inline = layer(o);
          const w = inline.constants.find((c) => c.name === 'w')!;
          const file = join(dir, `w${o.seed}.bin`);
          writeFileSync(file, new Uint8Array(Float32Array.from(w.value!.data).buffer));
          const external = { file, offset: 0, bytes: w.value!.data.length * 4, format: 'F32' as const, name: 'w' };
          const g = { ...inline, constants: inline.constants.map((c) => (c.name === 'w' ? { name: 'w', type: c.type, external } : c)) };
          const [fromFile, fromInline] = [arrange(g, f16).graphs.g!, arrange(inline, f16).graphs.g!];
          const [a, b] = [fromFile, fromInline].map((out) => out.constants.find((c) => c.name === 'w')!);
          expect(a!.type).toEqual(b!.type);
          expect(a!.external).toEqual(external);
          expect(a!.value).toBeUndefined();
          if (a!.type.layout.kind === 'blocked') arranged++;
          // The interpreter reads the file logical; the packed bytes are the inline constant's stored bytes.
          const x = inputs(inline, o.seed);
          const [want, got] = [interpret(fromInline, x), interpret(fromFile, x)];
          for (const k of Object.keys(want)) expect(tensorsIdentical(got[k]!, want[k]!)).toBe(true);
          const bytes = (c: typeof a) => Buffer.concat(storageDecls(c!).flatMap((d) => [...constantChunks(d)]));
          expect(bytes(a).equals(bytes(b))).toBe(true);
        }),
        { numRuns: 30 },
      );
      expect(arranged).toBeGreaterThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
