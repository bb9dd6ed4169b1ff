// Constants under every layout and encoding kind, compiled and run on the adapter against the interpreter: the
// compile pipeline puts a Materialize in front of their readers (passes/materialize-encodings.ts) and its kernel
// decodes the storage on the GPU (compiler/kernels/materialize.ts); a Tiled-CSL weight is read in place by the
// sparse kernels. Random shapes (ragged blocks and groups), codes and scales; the hand-written example
// examples/quant-mlp.kir too.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Encoding,
  GraphBuilder,
  type Layout,
  ROW_MAJOR,
  TRANSPOSED,
  bindSymbols,
  blocked,
  encodeStored,
  interpret,
  makeTensor,
  parseKir,
  quantCodeDType,
  quantCodeRange,
  quantEncoding,
  quantGroupShape,
  quantPlaneWords,
  tensorType,
  tiledCslEncoding,
} from '../../ir/index.js';
import { compileGraph } from '../../compiler/compile.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';
import { rng } from './data.js';

const TOL = { rtol: 1e-5, atol: 1e-6 };

interface Case {
  readonly rows: number;
  readonly cols: number;
  readonly layout: 'row-major' | 'transposed' | 'blocked-row' | 'blocked-col';
  readonly tile: readonly [number, number];
  readonly quant?: { bits: number; scheme: 'signed' | 'unsigned' | 'bipolar'; axis: number; group: number; packing: 'planes' | 'packed'; zeros: boolean; scale: 'f16' | 'f32' };
  readonly seed: number;
}

function layoutOf(c: Case): Layout {
  if (c.layout === 'transposed') return TRANSPOSED;
  if (c.layout === 'row-major') return ROW_MAJOR;
  return blocked(c.tile, c.layout === 'blocked-row' ? 'row' : 'col');
}

/** x[2, rows] . W[rows, cols], with W stored as the case says; the graph returns the product and W + 1. */
async function check(c: Case): Promise<void> {
  const r = rng(c.seed);
  const b = new GraphBuilder('enc');
  const x = b.input('x', tensorType('f32', [2, c.rows]));
  const layout = layoutOf(c);
  let w: string;
  if (!c.quant) {
    const type = tensorType('f32', [c.rows, c.cols], layout);
    w = b.declareConstant({ name: 'w', type, value: encodeStored(type, makeTensor('f32', [c.rows, c.cols], () => r() * 2 - 1)) });
  } else {
    const q = c.quant;
    const groups = quantGroupShape(q, [c.rows, c.cols]);
    const scales = b.constant(makeTensor(q.scale, groups, () => (r() + 0.1) * 0.5), 'w.scales');
    const zeroDt = quantCodeDType(q);
    const [lo, hi] = quantCodeRange(q);
    const { zeros: wantZeros, ...qp } = q;
    const zeros = wantZeros && q.scheme !== 'bipolar' ? b.constant(makeTensor(zeroDt, groups, () => lo + Math.floor(r() * (hi - lo + 1))), 'w.zeros') : undefined;
    const encoding: Encoding = quantEncoding({ ...qp, zero: zeros ? 'per-group' : 'none', scales, ...(zeros ? { zeros } : {}) });
    const type = tensorType('f32', [c.rows, c.cols], layout, encoding);
    const count = layout.kind === 'blocked' ? Math.ceil(c.rows / c.tile[0]) * Math.ceil(c.cols / c.tile[1]) * c.tile[0] * c.tile[1] : c.rows * c.cols;
    const codes = Array.from({ length: count }, () => lo + Math.floor(r() * (hi - lo + 1)));
    let value;
    if (q.packing === 'packed') value = makeTensor(zeroDt, layout.kind === 'transposed' ? [c.cols, c.rows] : layout.kind === 'blocked' ? [count] : [c.rows, c.cols], codes);
    else {
      const words = Math.ceil(count / 32);
      const planes = new Array<number>(quantPlaneWords(q.bits, count)).fill(0);
      codes.forEach((code, e) => {
        const raw = code < 0 ? code + 2 ** q.bits : code;
        for (let bit = 0; bit < q.bits; bit++) if ((raw >> bit) & 1) planes[bit * words + (e >> 5)]! += 2 ** (e & 31);
      });
      value = makeTensor('u32', [planes.length], planes);
    }
    w = b.declareConstant({ name: 'w', type, value });
  }
  const plus1 = b.op('Add', [w, b.constant(makeTensor('f32', [], [1]))]);
  b.output(b.op('MatMul', [x, w]), plus1);
  const graph = b.build();
  const inputs = { x: makeTensor('f32', [2, c.rows], () => r() * 2 - 1) };
  // The decode is exact; the MatMul sums `rows` products in f32 (|x| <= 1), so its error scales with rows * max|W|
  // (8-bit bipolar codes times a scale reach 140, and cancellation leaves small outputs of large terms).
  const maxW = Math.max(1, ...interpret(graph, inputs)[plus1]!.data.map((v) => Math.abs(v - 1)));
  await expectGpuMatchesInterpreter(graph, inputs, { rtol: TOL.rtol, atol: TOL.atol * c.rows * maxW });
}

const arbCase: fc.Arbitrary<Case> = fc
  .record({
    rows: fc.integer({ min: 1, max: 19 }),
    cols: fc.integer({ min: 1, max: 23 }),
    layout: fc.constantFrom<Case['layout']>('row-major', 'transposed', 'blocked-row', 'blocked-col'),
    tile: fc.tuple(fc.integer({ min: 1, max: 6 }), fc.constantFrom(8, 16, 32, 5, 3)),
    quant: fc.option(
      fc.record({
        bits: fc.integer({ min: 1, max: 8 }),
        scheme: fc.constantFrom<'signed' | 'unsigned' | 'bipolar'>('signed', 'unsigned', 'bipolar'),
        axis: fc.integer({ min: 0, max: 1 }),
        group: fc.integer({ min: 1, max: 9 }),
        packing: fc.constantFrom<'planes' | 'packed'>('planes', 'packed'),
        zeros: fc.boolean(),
        scale: fc.constantFrom<'f16' | 'f32'>('f16', 'f32'),
      }),
      { nil: undefined },
    ),
    seed: fc.integer({ min: 1, max: 1e6 }),
  })
  // A blocked layout of packed codes needs whole 32-bit words per block, floor(32 / bits) codes to a word (the
  // verifier refuses the rest).
  .filter((c) => !(c.quant?.packing === 'packed' && c.layout.startsWith('blocked') && (c.tile[0] * c.tile[1]) % Math.floor(32 / c.quant.bits) !== 0));

describe('layouts and encodings decoded on the adapter', () => {
  it('transposed, blocked (both orders, ragged) f32 weights', async () => {
    await check({ rows: 7, cols: 5, layout: 'transposed', tile: [1, 1], seed: 1 });
    await check({ rows: 7, cols: 10, layout: 'blocked-row', tile: [3, 4], seed: 2 });
    await check({ rows: 9, cols: 6, layout: 'blocked-col', tile: [4, 5], seed: 3 });
  });

  it('quant: signed packed per column groups, unsigned with zero points, bipolar, bit planes, f16 scales', async () => {
    await check({ rows: 10, cols: 6, layout: 'row-major', tile: [1, 1], quant: { bits: 4, scheme: 'signed', axis: 0, group: 4, packing: 'packed', zeros: false, scale: 'f32' }, seed: 4 });
    await check({ rows: 5, cols: 9, layout: 'transposed', tile: [1, 1], quant: { bits: 3, scheme: 'unsigned', axis: 1, group: 2, packing: 'packed', zeros: true, scale: 'f16' }, seed: 5 });
    await check({ rows: 6, cols: 7, layout: 'row-major', tile: [1, 1], quant: { bits: 2, scheme: 'bipolar', axis: 1, group: 7, packing: 'planes', zeros: false, scale: 'f32' }, seed: 6 });
    await check({ rows: 8, cols: 16, layout: 'blocked-col', tile: [3, 8], quant: { bits: 4, scheme: 'signed', axis: 0, group: 3, packing: 'packed', zeros: false, scale: 'f32' }, seed: 7 });
    await check({ rows: 33, cols: 3, layout: 'row-major', tile: [1, 1], quant: { bits: 5, scheme: 'signed', axis: 0, group: 33, packing: 'planes', zeros: false, scale: 'f32' }, seed: 8 });
    // Found by the random cases in CI: 8-bit bipolar codes (|W| up to ~140) summed over 19 rows.
    await check({ rows: 19, cols: 6, layout: 'transposed', tile: [1, 8], quant: { bits: 8, scheme: 'bipolar', axis: 0, group: 3, packing: 'planes', zeros: false, scale: 'f32' }, seed: 10 });
  });

  it('random shapes, layouts and quant parameters', async () => {
    await fc.assert(fc.asyncProperty(arbCase, check), { numRuns: 12 });
  });

  it('a Tiled-CSL weight stored transposed is read in place by the sparse kernel (no Materialize)', async () => {
    const r = rng(9);
    const b = new GraphBuilder('csl');
    const x = b.input('x', tensorType('f32', [3, 20]));
    const type = tensorType('f32', [20, 12], TRANSPOSED, tiledCslEncoding([8, 8], 'f32'));
    const w = b.declareConstant({ name: 'w', type, value: encodeStored(type, makeTensor('f32', [20, 12], () => (r() < 0.7 ? 0 : r() - 0.5))) });
    b.output(b.op('MatMul', [x, w]));
    const labels = Object.values(compileGraph(b.build()).manifest.entryPoints).flatMap((e) => e.dispatches.map((d) => d.label));
    expect(labels).toEqual([expect.stringMatching(/^%v\d+ = MatMul\(%x, %w\) \[tiled-csl (direct|scatter)/)]);
    await expectGpuMatchesInterpreter(b.build(), { x: makeTensor('f32', [3, 20], () => r() * 2 - 1) }, TOL);
  });

  it('examples/quant-mlp.kir (hand-written quant and transposed weights) matches the interpreter', async () => {
    const g = bindSymbols(parseKir(readFileSync(new URL('../../examples/quant-mlp.kir', import.meta.url), 'utf8'), 'quant-mlp.kir'), { batch: 2 });
    expect(g.constants.find((c) => c.name === 'w1')!.type.encoding.kind).toBe('quant');
    await expectGpuMatchesInterpreter(g, { x: makeTensor('f32', [2, 4], [0.5, -1, 2, 0.25, -0.3, 0.8, 1.5, -2]) }, TOL);
  });
});
