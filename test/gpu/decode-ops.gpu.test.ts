// The decoding ops (Attention, Rope, CacheWrite, LastRow, Positions) on the adapter against the interpreter,
// through the real compiler and runtime (lowering, uniform planning, the in-place cache write, artifact, session).
// Attention: random shapes, positions and masks (fast-check), plus the edges one by one: padded rows (len < T),
// pos > 0, pos + len = S, no pos, grouped-query sharing (Hq/Hkv = 1, 2, 4), D not a multiple of 4 and D above
// the workgroup size, several key blocks, the T = 1 decode shape, scores that grow along the keys (so the
// running max is rescaled block after block), K and V as vec4s (f32, f16 with and without shader-f16) with the lanes
// split into key subsets or owning several groups, at 64 lanes and at the lavapipe profile's 8. Rope at positions up to 2^31 (the angle is reduced exactly).
// CacheWrite near capacity and with packed f16 words straddling the written rows; a CacheWrite feeding Attention
// in the same graph; and one compiled artifact (one session) run at three pos/len pairs without recompiling.
// f32 within rtol 1e-5, atol 1e-6 (values in [-1, 1]); copies exact; f16 within about one f16 ulp.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DType, type Graph, GraphBuilder, type Tensor, interpret, makeTensor, tensorType, toleranceExcess } from '../../ir/index.js';
import { compileGraph } from '../../compiler/compile.js';
import { PROFILES } from '../../passes/index.js';
import { Session } from '../../runtime/index.js';
import { i32Scalar as scalar, randomTensor, unitValues as values } from './data.js';
import { expectGpuMatchesInterpreter, inMemory, runGraphOnGpu } from './graph-harness.js';
import { testGpu } from './harness.js';

const F32 = { rtol: 1e-5, atol: 1e-6 };
const F16 = { rtol: 2e-3, atol: 1e-3 };
const EXACT = { rtol: 0, atol: 0 };
const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);

// ---- Attention ----------------------------------------------------------------------------------------------------

interface AttentionCase {
  readonly rows: number;
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly dim: number;
  readonly keys: number;
  /** undefined: the pos input is omitted (pos = 0). */
  readonly pos?: number;
  readonly len: number;
  readonly causal: boolean;
  readonly dtype?: DType;
  readonly seed?: number;
  /** Compile for the lavapipe profile, whose barriers cost every invocation: 8-lane workgroups (else 64). */
  readonly narrow?: boolean;
}

function attentionGraph(c: AttentionCase): Graph {
  const dt = c.dtype ?? 'f32';
  const b = new GraphBuilder('attention');
  const q = b.input('q', tensorType(dt, [c.rows, c.qHeads, c.dim]));
  const k = b.input('k', tensorType(dt, [c.keys, c.kvHeads, c.dim]));
  const v = b.input('v', tensorType(dt, [c.keys, c.kvHeads, c.dim]));
  const pos = c.pos === undefined ? '' : b.input('pos', tensorType('i32', []));
  const len = b.input('len', tensorType('i32', []));
  b.output(b.op('Attention', [q, k, v, pos, len], { scale: 1 / Math.sqrt(c.dim), causal: c.causal }));
  return b.build();
}

function attentionInputs(c: AttentionCase): Record<string, Tensor> {
  const dt = c.dtype ?? 'f32';
  const seed = c.seed ?? 1;
  return {
    q: values(dt, [c.rows, c.qHeads, c.dim], seed),
    k: values(dt, [c.keys, c.kvHeads, c.dim], seed + 1),
    v: values(dt, [c.keys, c.kvHeads, c.dim], seed + 2),
    ...(c.pos === undefined ? {} : { pos: scalar(c.pos) }),
    len: scalar(c.len),
  };
}

async function checkAttention(c: AttentionCase, tol = F32, opts: { shaderF16?: boolean } = {}): Promise<void> {
  const compile = c.narrow ? { profile: PROFILES.lavapipe! } : {};
  // The kernel's form: K and V bound as vec4s exactly when D is a multiple of 4; the lanes the profile asks for.
  const artifact = compileGraph(attentionGraph(c), { ...compile, source: 'test', target: { shaderF16: !!opts.shaderF16 } });
  const wgsl = new TextDecoder().decode([...artifact.files].find(([p]) => p.includes('attention'))![1] as Uint8Array);
  const vec = c.dim % 4 === 0;
  expect(/var<storage, read> k: array<vec(4<f32>|4<f16>|2<u32>)>/.test(wgsl), `vec4 K for D = ${c.dim}`).toBe(vec);
  const lanes = Math.min(c.narrow ? 8 : 64, 2 ** Math.ceil(Math.log2(Math.max(c.keys, vec ? c.dim / 4 : c.dim))));
  expect(wgsl).toContain(`@workgroup_size(${lanes}, 1, 1)`);
  await expectGpuMatchesInterpreter(attentionGraph(c), attentionInputs(c), tol, { ...opts, compile });
}

/** Any consistent case: len <= rows, pos + len <= keys, pos omitted (0) half the time. */
const attentionCase: fc.Arbitrary<AttentionCase> = fc
  .record({
    rows: fc.integer({ min: 1, max: 4 }),
    kvHeads: fc.integer({ min: 1, max: 2 }),
    group: fc.constantFrom(1, 2, 4),
    dim: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(16, 64, 67, 80, 272)),
    keys: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 60, max: 200 })),
    withPos: fc.boolean(),
    causal: fc.boolean(),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    fill: fc.double({ min: 0, max: 1, noNaN: true }),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
    narrow: fc.boolean(),
  })
  .map(({ rows, kvHeads, group, dim, keys, withPos, causal, at, fill, seed, narrow }) => {
    const len = Math.round(fill * Math.min(rows, keys));
    const pos = withPos ? Math.min(keys - len, Math.floor(at * (keys - len + 1))) : undefined;
    return { rows, qHeads: kvHeads * group, kvHeads, dim, keys, len, causal, seed, narrow, ...(pos === undefined ? {} : { pos }) };
  });

describe('Attention on the adapter', () => {
  it('random shapes, positions and masks', async () => {
    await fc.assert(
      fc.asyncProperty(attentionCase, (c) => checkAttention(c)),
      { numRuns: 16 * RUNS },
    );
  });

  it('the decode shape (T = 1) at a position deep in a cache of several key blocks', async () => {
    await checkAttention({ rows: 1, qHeads: 4, kvHeads: 2, dim: 64, keys: 300, pos: 257, len: 1, causal: true });
    await checkAttention({ rows: 1, qHeads: 2, kvHeads: 2, dim: 6, keys: 129, pos: 0, len: 1, causal: true });
  });

  it('padded rows (len < T) at pos > 0, causal and not', async () => {
    for (const causal of [true, false]) await checkAttention({ rows: 5, qHeads: 2, kvHeads: 1, dim: 7, keys: 90, pos: 33, len: 2, causal, seed: 5 });
  });

  it('pos + len = S: the last key of the cache is visible, and no later one', async () => {
    await checkAttention({ rows: 3, qHeads: 4, kvHeads: 2, dim: 5, keys: 70, pos: 67, len: 3, causal: true, seed: 7 });
    await checkAttention({ rows: 3, qHeads: 4, kvHeads: 2, dim: 5, keys: 70, pos: 67, len: 3, causal: false, seed: 8 });
  });

  it('no pos input (an encoder over its own rows), causal and not', async () => {
    for (const causal of [true, false]) await checkAttention({ rows: 4, qHeads: 3, kvHeads: 3, dim: 9, keys: 4, len: 3, causal, seed: 9 });
  });

  it('grouped-query sharing: Hq/Hkv = 4 (one kv head), 2 and 1', async () => {
    await checkAttention({ rows: 2, qHeads: 4, kvHeads: 1, dim: 8, keys: 40, pos: 10, len: 2, causal: true, seed: 11 });
    await checkAttention({ rows: 2, qHeads: 4, kvHeads: 2, dim: 8, keys: 40, pos: 10, len: 2, causal: true, seed: 12 });
    await checkAttention({ rows: 2, qHeads: 4, kvHeads: 4, dim: 8, keys: 40, pos: 10, len: 2, causal: true, seed: 13 });
  });

  it('head dims above the workgroup size (each lane owns several elements), ragged', async () => {
    await checkAttention({ rows: 2, qHeads: 2, kvHeads: 1, dim: 130, keys: 100, pos: 40, len: 2, causal: true, seed: 15 });
    // A single key: a workgroup of one lane owning all 67 elements.
    await checkAttention({ rows: 1, qHeads: 1, kvHeads: 1, dim: 67, keys: 1, len: 1, causal: false, seed: 16 });
  });

  it('scores rising along the keys: the running max grows in every block and earlier sums are rescaled', async () => {
    const c: AttentionCase = { rows: 2, qHeads: 2, kvHeads: 1, dim: 4, keys: 260, pos: 200, len: 2, causal: true };
    const inputs = attentionInputs(c);
    // q = (1, 1, 1, 1) and key j = j/40 * (1, ...): score j/40 rises to about 5, so the max changes each block.
    const q = makeTensor('f32', [2, 2, 4], () => 1);
    const k = makeTensor('f32', [260, 1, 4], (i) => Math.floor(i / 4) / 40);
    await expectGpuMatchesInterpreter(attentionGraph(c), { ...inputs, q, k }, F32);
  });

  it.each([true, false])('f16 tensors (shader-f16: %s)', async (shaderF16) => {
    await checkAttention({ rows: 3, qHeads: 4, kvHeads: 2, dim: 5, keys: 80, pos: 20, len: 2, causal: true, dtype: 'f16', seed: 21 }, F16, { shaderF16 });
    // D a multiple of 4: K and V as vec4<f16> (shader-f16) or pairs of words unpacked.
    await checkAttention({ rows: 2, qHeads: 4, kvHeads: 2, dim: 12, keys: 90, pos: 60, len: 2, causal: true, dtype: 'f16', seed: 22 }, F16, { shaderF16 });
  });

  it.each([false, true])('vec4 K and V, lanes split into key subsets or owning several groups (8 lanes: %s)', async (narrow) => {
    // 64 lanes: D 16 is 4 groups (16 key subsets), D 64 is 16 (4 subsets); D 272 is 68 groups, 2 per lane. 8 lanes:
    // every lane owns 2, 9 or 34 groups and walks every key; 4 keys per lane per block.
    for (const [dim, seed] of [[16, 31], [64, 32], [272, 33]] as const) {
      await checkAttention({ rows: 1, qHeads: 4, kvHeads: 2, dim, keys: 256, pos: 130, len: 1, causal: true, seed, narrow });
      await checkAttention({ rows: 3, qHeads: 2, kvHeads: 1, dim, keys: 70, pos: 5, len: 2, causal: false, seed: seed + 10, narrow });
    }
  });
});

// ---- Rope ---------------------------------------------------------------------------------------------------------

interface RopeCase {
  readonly shape: readonly [number, number, number];
  readonly rotaryDim: number;
  readonly theta: number;
  readonly pos: number;
  readonly dtype?: DType;
  readonly seed?: number;
}

async function checkRope(c: RopeCase, tol = F32, opts: { shaderF16?: boolean } = {}): Promise<void> {
  const dt = c.dtype ?? 'f32';
  const b = new GraphBuilder('rope');
  const x = b.input('x', tensorType(dt, c.shape));
  const pos = b.input('pos', tensorType('i32', []));
  b.output(b.op('Rope', [x, pos], { theta: c.theta, rotary_dim: c.rotaryDim }));
  await expectGpuMatchesInterpreter(b.build(), { x: values(dt, c.shape, c.seed ?? 3), pos: scalar(c.pos) }, tol, opts);
}

const ropeCase: fc.Arbitrary<RopeCase> = fc
  .record({
    rows: fc.integer({ min: 1, max: 4 }),
    heads: fc.integer({ min: 1, max: 3 }),
    halfDim: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constant(32)),
    partial: fc.boolean(),
    cut: fc.double({ min: 0, max: 1, noNaN: true }),
    theta: fc.constantFrom(10000, 500000, 7.5),
    pos: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 200000 })),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map(({ rows, heads, halfDim, partial, cut, theta, pos, seed }) => ({
    shape: [rows, heads, 2 * halfDim] as const,
    rotaryDim: partial ? 2 * Math.max(1, Math.round(cut * halfDim)) : 0,
    theta,
    pos,
    seed,
  }));

describe('Rope on the adapter', () => {
  it('random shapes, partial rotary, thetas and positions', async () => {
    await fc.assert(
      fc.asyncProperty(ropeCase, (c) => checkRope(c)),
      { numRuns: 10 * RUNS },
    );
  });

  it('positions far out (a 128k context, and near 2^31): the angle is reduced exactly, not in f32', async () => {
    // Plain f32 (pos * inv_freq) is off by ~pos * 6e-8 rad: 8e-3 at 131072, a hundred times the tolerance.
    await checkRope({ shape: [2, 2, 8], rotaryDim: 0, theta: 10000, pos: 131072 });
    await checkRope({ shape: [3, 1, 6], rotaryDim: 4, theta: 500000, pos: 2 ** 31 - 3 });
  });

  it.each([true, false])('f16 tensors, partial rotary (shader-f16: %s)', async (shaderF16) => {
    await checkRope({ shape: [3, 2, 6], rotaryDim: 4, theta: 10000, pos: 17, dtype: 'f16' }, F16, { shaderF16 });
  });
});

// ---- CacheWrite ---------------------------------------------------------------------------------------------------

interface CacheCase {
  readonly cache: readonly [number, number, number];
  readonly rows: number;
  readonly pos: number;
  readonly len: number;
  readonly dtype?: DType;
}

function cacheGraph(c: CacheCase): Graph {
  const dt = c.dtype ?? 'f32';
  const [, heads, dim] = c.cache;
  const b = new GraphBuilder('cache');
  const cache = b.input('cache', tensorType(dt, c.cache));
  const rows = b.input('rows', tensorType(dt, [c.rows, heads, dim]));
  const pos = b.input('pos', tensorType('i32', []));
  const len = b.input('len', tensorType('i32', []));
  b.output(b.op('CacheWrite', [cache, rows, pos, len]));
  return b.build();
}

async function checkCacheWrite(c: CacheCase, opts: { shaderF16?: boolean } = {}): Promise<void> {
  const dt = c.dtype ?? 'f32';
  const [, heads, dim] = c.cache;
  const inputs = { cache: values(dt, c.cache, 31), rows: values(dt, [c.rows, heads, dim], 32), pos: scalar(c.pos), len: scalar(c.len) };
  await expectGpuMatchesInterpreter(cacheGraph(c), inputs, EXACT, opts);
}

describe('CacheWrite on the adapter (in place)', () => {
  it('random caches, rows and positions', async () => {
    const cacheCase = fc
      .record({ capacity: fc.integer({ min: 1, max: 40 }), heads: fc.integer({ min: 1, max: 3 }), dim: fc.integer({ min: 1, max: 9 }), rows: fc.integer({ min: 1, max: 5 }), at: fc.double({ min: 0, max: 1, noNaN: true }), fill: fc.double({ min: 0, max: 1, noNaN: true }) })
      .map(({ capacity, heads, dim, rows, at, fill }): CacheCase => {
        const len = Math.round(fill * Math.min(rows, capacity));
        return { cache: [capacity, heads, dim], rows, len, pos: Math.min(capacity - len, Math.floor(at * (capacity - len + 1))) };
      });
    await fc.assert(
      fc.asyncProperty(cacheCase, (c) => checkCacheWrite(c)),
      { numRuns: 8 * RUNS },
    );
  });

  it('near capacity: the padding rows that would land past the end are skipped', async () => {
    await checkCacheWrite({ cache: [10, 2, 3], rows: 4, pos: 9, len: 1 });
    await checkCacheWrite({ cache: [10, 2, 3], rows: 4, pos: 6, len: 4 });
    await checkCacheWrite({ cache: [10, 2, 3], rows: 4, pos: 10, len: 0 });
  });

  it('pos + len past the capacity (the interpreter refuses it): the rows that fit are written, the rest dropped', async () => {
    const c: CacheCase = { cache: [6, 1, 2], rows: 4, pos: 4, len: 4 };
    const cache = makeTensor('f32', c.cache, (i) => -1 - i);
    const rows = makeTensor('f32', [4, 1, 2], (i) => 100 + i);
    const out = await runGraphOnGpu(cacheGraph(c), { cache, rows, pos: scalar(4), len: scalar(4) });
    // Rows 0 and 1 land in cache rows 4 and 5; rows 2 and 3 would be rows 6 and 7, past the end.
    expect([...Object.values(out)[0]!.data]).toEqual([-1, -2, -3, -4, -5, -6, -7, -8, 100, 101, 102, 103]);
  });

  it.each([true, false])('f16, odd row width and odd position: words straddle written and kept rows (shader-f16: %s)', async (shaderF16) => {
    await checkCacheWrite({ cache: [9, 1, 3], rows: 3, pos: 3, len: 2, dtype: 'f16' }, { shaderF16 });
    await checkCacheWrite({ cache: [9, 1, 3], rows: 3, pos: 8, len: 1, dtype: 'f16' }, { shaderF16 });
    await checkCacheWrite({ cache: [8, 2, 3], rows: 2, pos: 0, len: 2, dtype: 'f16' }, { shaderF16 });
  });
});

// ---- LastRow and Positions ----------------------------------------------------------------------------------------

function lastRowGraph(dtype: DType, shape: readonly number[]): Graph {
  const b = new GraphBuilder('last_row');
  b.output(b.op('LastRow', [b.input('x', tensorType(dtype, shape)), b.input('len', tensorType('i32', []))]));
  return b.build();
}

describe('LastRow and Positions on the adapter', () => {
  it('LastRow of f32, i32 and packed f16 (a row starting mid-word) for every len', async () => {
    for (const [dtype, shape] of [['f32', [4, 3, 5]], ['i32', [3, 7]], ['f16', [5, 3]]] as const) {
      const x = randomTensor(dtype, shape, 41, { edges: 0 });
      for (let len = 1; len <= shape[0]; len++) await expectGpuMatchesInterpreter(lastRowGraph(dtype, shape), { x, len: scalar(len) }, EXACT);
    }
  });

  it('LastRow with len = 0 reads row 0 instead of out of bounds', async () => {
    const x = randomTensor('f32', [3, 4], 43, { edges: 0 });
    const out = await runGraphOnGpu(lastRowGraph('f32', [3, 4]), { x, len: scalar(0) });
    expect([...Object.values(out)[0]!.data]).toEqual([...x.data.subarray(0, 4)]);
  });

  it('Positions: pos + t for several counts and positions', async () => {
    for (const [count, pos] of [[1, 0], [7, 5], [100, 123456], [3, 2 ** 31 - 3]]) {
      const b = new GraphBuilder('positions');
      b.output(b.op('Positions', [b.input('pos', tensorType('i32', []))], { count }));
      await expectGpuMatchesInterpreter(b.build(), { pos: scalar(pos) }, EXACT);
    }
  });
});

// ---- a decoding step: the ops together ----------------------------------------------------------------------------

const STEP = { rows: 3, qHeads: 4, kvHeads: 2, dim: 6, capacity: 70 } as const;

/** Rope on q and k, both caches written in place, attention over the updated caches, the last row, positions. */
function decodeStepGraph(): Graph {
  const { rows, qHeads, kvHeads, dim, capacity } = STEP;
  const b = new GraphBuilder('decode_step');
  const f32 = (shape: number[]) => tensorType('f32', shape);
  const q = b.input('q', f32([rows, qHeads, dim]));
  const k = b.input('k', f32([rows, kvHeads, dim]));
  const v = b.input('v', f32([rows, kvHeads, dim]));
  const kCache = b.input('k_cache', f32([capacity, kvHeads, dim]));
  const vCache = b.input('v_cache', f32([capacity, kvHeads, dim]));
  const pos = b.input('pos', tensorType('i32', []));
  const len = b.input('len', tensorType('i32', []));
  const qr = b.op('Rope', [q, pos], { theta: 10000 });
  const kr = b.op('Rope', [k, pos], { theta: 10000 });
  const kNext = b.op('CacheWrite', [kCache, kr, pos, len], {}, { names: ['k_next'] });
  const vNext = b.op('CacheWrite', [vCache, v, pos, len], {}, { names: ['v_next'] });
  const y = b.op('Attention', [qr, kNext, vNext, pos, len], { scale: 1 / Math.sqrt(dim), causal: true }, { names: ['y'] });
  b.output(y, b.op('LastRow', [y, len], {}, { names: ['last'] }), b.op('Positions', [pos], { count: rows }, { names: ['positions'] }), kNext);
  return b.build();
}

function decodeStepInputs(pos: number, len: number, seed: number): Record<string, Tensor> {
  const { rows, qHeads, kvHeads, dim, capacity } = STEP;
  return {
    q: values('f32', [rows, qHeads, dim], seed),
    k: values('f32', [rows, kvHeads, dim], seed + 1),
    v: values('f32', [rows, kvHeads, dim], seed + 2),
    k_cache: values('f32', [capacity, kvHeads, dim], seed + 3),
    v_cache: values('f32', [capacity, kvHeads, dim], seed + 4),
    pos: scalar(pos),
    len: scalar(len),
  };
}

describe('a decoding step on the adapter', () => {
  it('CacheWrite then Attention over the updated caches, in one graph (the writes folded into the attention)', async () => {
    await expectGpuMatchesInterpreter(decodeStepGraph(), decodeStepInputs(11, 2, 51), F32);
  });

  it('one compiled artifact, one session, run at different pos/len: every run matches the interpreter', async () => {
    const graph = decodeStepGraph();
    const gpu = await testGpu();
    const session = await Session.load(inMemory(graph), { device: gpu.acquired });
    try {
      // Prefill of a full chunk at 0, a padded chunk mid-cache, a single token filling the cache's last row.
      for (const [pos, len, seed] of [[0, 3, 61], [20, 2, 62], [69, 1, 63]] as const) {
        const inputs = decodeStepInputs(pos, len, seed);
        const want = interpret(graph, inputs);
        const out = await session.run(Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, t.data])));
        for (const [name, w] of Object.entries(want)) {
          const o = out[name]!;
          const got = makeTensor(o.dtype as DType, o.shape, Float64Array.from(o.data));
          expect(toleranceExcess(got, w, F32.rtol, F32.atol), `%${name} at pos ${pos}, len ${len}`).toBeLessThanOrEqual(0);
        }
      }
    } finally {
      session.dispose();
    }
  });
});
