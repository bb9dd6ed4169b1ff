// A decoder layer's two KV-cache writes folded into its attention (compiler/lower/fuse-cache-write.ts): one
// dispatch reads keys at or past pos from the new rows, older ones from the caches, and writes the new rows into
// the caches. Against the interpreter (the attention's output and both updated caches, every row of them): random
// shapes, positions and masks (fast-check); the decode shape deep in a cache of several key blocks, at the
// lavapipe profile's 8 lanes and at 64; grouped-query heads (one writer per kv head); padded rows (len < T, not
// written); pos + len = S; the vec4 (D a multiple of 4) and scalar paths. And where it must not fold: f16 caches,
// a write whose result another node reads, writes at another position than the attention's.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { type DType, type Graph, GraphBuilder, type Tensor, tensorType } from '../../ir/index.js';
import { PROFILES } from '../../passes/index.js';
import { i32Scalar as scalar, unitValues as values } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const F32 = { rtol: 1e-5, atol: 1e-6 };
const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);

interface FoldCase {
  readonly rows: number;
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly dim: number;
  readonly capacity: number;
  readonly pos: number;
  readonly len: number;
  readonly causal: boolean;
  readonly seed: number;
  readonly narrow?: boolean;
  readonly dtype?: DType;
  /** Another node reads the updated key cache (an extra output through Neg): no fold. */
  readonly extraReader?: boolean;
  /** The writes take a position of their own (not the attention's): no fold. */
  readonly ownPos?: boolean;
}

function foldGraph(c: FoldCase): Graph {
  const dt = c.dtype ?? 'f32';
  const b = new GraphBuilder('fold');
  const t = (shape: number[]) => tensorType(dt, shape);
  const q = b.input('q', t([c.rows, c.qHeads, c.dim]));
  const k = b.input('k', t([c.rows, c.kvHeads, c.dim]));
  const v = b.input('v', t([c.rows, c.kvHeads, c.dim]));
  const kCache = b.input('k_cache', t([c.capacity, c.kvHeads, c.dim]));
  const vCache = b.input('v_cache', t([c.capacity, c.kvHeads, c.dim]));
  const pos = b.input('pos', tensorType('i32', []));
  const len = b.input('len', tensorType('i32', []));
  const at = c.ownPos ? b.input('write_pos', tensorType('i32', [])) : pos;
  const kNext = b.op('CacheWrite', [kCache, k, at, len], {}, { names: ['k_next'] });
  const vNext = b.op('CacheWrite', [vCache, v, at, len], {}, { names: ['v_next'] });
  const y = b.op('Attention', [q, kNext, vNext, pos, len], { scale: 1 / Math.sqrt(c.dim), causal: c.causal }, { names: ['y'] });
  b.output(y, kNext, vNext, ...(c.extraReader ? [b.op('Neg', [kNext], {}, { names: ['k_seen'] })] : []));
  return b.build();
}

function foldInputs(c: FoldCase): Record<string, Tensor> {
  const dt = c.dtype ?? 'f32';
  return {
    q: values(dt, [c.rows, c.qHeads, c.dim], c.seed),
    k: values(dt, [c.rows, c.kvHeads, c.dim], c.seed + 1),
    v: values(dt, [c.rows, c.kvHeads, c.dim], c.seed + 2),
    k_cache: values(dt, [c.capacity, c.kvHeads, c.dim], c.seed + 3),
    v_cache: values(dt, [c.capacity, c.kvHeads, c.dim], c.seed + 4),
    pos: scalar(c.pos),
    len: scalar(c.len),
    ...(c.ownPos ? { write_pos: scalar(c.pos) } : {}),
  };
}

/** Compiles the case, asserts whether the writes were folded (no cache-write kernel, the new rows bound), runs it. */
async function checkFold(c: FoldCase, folds: boolean, opts: { shaderF16?: boolean } = {}): Promise<void> {
  const compile = c.narrow ? { profile: PROFILES.lavapipe! } : {};
  const artifact = compileGraph(foldGraph(c), { ...compile, source: 'test', target: { shaderF16: !!opts.shaderF16 } });
  const files = [...artifact.files].map(([p]) => p);
  expect(files.some((p) => p.includes('cache-write')), `cache-write kernel for ${JSON.stringify(c)}`).toBe(!folds);
  const wgsl = new TextDecoder().decode([...artifact.files].find(([p]) => p.includes('attention'))![1] as Uint8Array);
  expect(wgsl.includes('k_new'), 'the attention binds the new rows').toBe(folds);
  if (folds) expect(/var<storage, read_write> k: array<(vec4<f32>|f32)>/.test(wgsl), 'the key cache bound read_write').toBe(true);
  await expectGpuMatchesInterpreter(foldGraph(c), foldInputs(c), c.dtype === 'f16' ? { rtol: 2e-3, atol: 1e-3 } : F32, { ...opts, compile });
}

const foldCase: fc.Arbitrary<FoldCase> = fc
  .record({
    rows: fc.integer({ min: 1, max: 4 }),
    kvHeads: fc.integer({ min: 1, max: 2 }),
    group: fc.constantFrom(1, 2, 4),
    dim: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(16, 64, 67, 272)),
    capacity: fc.oneof(fc.integer({ min: 4, max: 12 }), fc.integer({ min: 60, max: 200 })),
    causal: fc.boolean(),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    fill: fc.double({ min: 0, max: 1, noNaN: true }),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
    narrow: fc.boolean(),
  })
  .map(({ rows, kvHeads, group, dim, capacity, causal, at, fill, seed, narrow }) => {
    const len = Math.max(1, Math.round(fill * rows));
    const pos = Math.min(capacity - len, Math.floor(at * (capacity - len + 1)));
    return { rows, qHeads: kvHeads * group, kvHeads, dim, capacity, pos, len, causal, seed, narrow };
  });

describe('KV-cache writes folded into the attention', () => {
  it('random shapes, positions and masks: output and both caches as the interpreter says', async () => {
    await fc.assert(fc.asyncProperty(foldCase, (c) => checkFold(c, true)), { numRuns: 15 * RUNS });
  });

  it('the decode shape (T = 1, 12 heads, D 64) deep in a cache of several key blocks, at 8 and 64 lanes', async () => {
    for (const narrow of [true, false]) {
      await checkFold({ rows: 1, qHeads: 12, kvHeads: 12, dim: 64, capacity: 256, pos: 130, len: 1, causal: true, seed: 3, narrow }, true);
      // The new key is the first of a block (pos a multiple of the block), and the last row of the cache.
      await checkFold({ rows: 1, qHeads: 4, kvHeads: 2, dim: 16, capacity: 97, pos: 64, len: 1, causal: true, seed: 4, narrow }, true);
      await checkFold({ rows: 1, qHeads: 4, kvHeads: 2, dim: 16, capacity: 97, pos: 96, len: 1, causal: true, seed: 5, narrow }, true);
    }
  });

  it('a prefill chunk: several new rows, padded (len < T, the padding rows not written), causal and not', async () => {
    for (const causal of [true, false]) {
      await checkFold({ rows: 5, qHeads: 4, kvHeads: 1, dim: 12, capacity: 40, pos: 7, len: 3, causal, seed: 6 }, true);
      await checkFold({ rows: 6, qHeads: 2, kvHeads: 2, dim: 7, capacity: 80, pos: 0, len: 6, causal, seed: 7, narrow: true }, true);
      await checkFold({ rows: 3, qHeads: 6, kvHeads: 3, dim: 8, capacity: 20, pos: 17, len: 3, causal, seed: 8 }, true);
    }
  });

  it('does not fold f16 caches, a write another node reads, or writes at their own position', async () => {
    await checkFold({ rows: 2, qHeads: 2, kvHeads: 1, dim: 8, capacity: 16, pos: 5, len: 2, causal: true, seed: 9, dtype: 'f16' }, false, { shaderF16: true });
    await checkFold({ rows: 2, qHeads: 2, kvHeads: 1, dim: 8, capacity: 16, pos: 5, len: 2, causal: true, seed: 10, extraReader: true }, false);
    await checkFold({ rows: 2, qHeads: 2, kvHeads: 1, dim: 8, capacity: 16, pos: 5, len: 2, causal: true, seed: 11, ownPos: true }, false);
  });
});
