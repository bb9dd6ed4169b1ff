// How the sparse matmul kernels read a Tiled-CSL weight (ir/formats/tiled-csl-layout.ts) in WGSL: binding the
// buffers, the entry range of a tile, an entry's value and location, the first entry of a row (rows are sorted
// within a tile, so a binary search finds it), and a location's row and unswizzled column.
//
// `items` is bound as a runtime-sized array whose length stays out of the kernel spec: it is the one thing that
// differs between weights of the same shape (their non-zero counts), so every layer of a model with that shape
// shares one kernel (one shader compile) instead of getting its own.
import type { Expr } from '../wgsl/ast.js';
import type { KernelBuilder } from '../wgsl/build.js';
import { T, add, and, bitcast, builtin, gt, index, land, le, lit, lt, member, mul, mulConst, select, shl, shr, sub, xor } from '../wgsl/dsl.js';
import { type TensorSpec, forLoop } from './lib/index.js';

const u = lit.u32;

/**
 * The two buffers of a Tiled-CSL weight as a kernel binds them. `items` may be bound as vec4<u32>s (each tile
 * starts on a 16-byte boundary: 4 f16 entries or 2 f32 entries per vector), so a kernel can take a vector of
 * entries in one load; `word` reads single words either way.
 */
export interface TiledCslBuffers {
  readonly values: 'f16' | 'f32';
  readonly tileK: number;
  /** u32 word w of items. */
  word(w: Expr): Expr;
  /** vec4<u32> q of items; only when bound as vectors. */
  readonly vector?: ((q: Expr) => Expr) | undefined;
  /** offsets[t]. */
  offset(t: Expr): Expr;
}

/** Entries per vec4<u32> of items. */
export const entriesPerVector = (values: 'f16' | 'f32'): number => (values === 'f16' ? 4 : 2);

/**
 * Bind items and offsets, in that order. Items are vec4s when `vectors` and the weight stores any entry (an empty
 * buffer cannot be read as vectors); the binding's recorded size is a nominal minimum, the real one is the
 * weight's.
 */
export function bindTiledCsl(
  k: KernelBuilder,
  t: { stored: boolean; offsets: TensorSpec; values: 'f16' | 'f32'; tileK: number },
  vectors: boolean,
): TiledCslBuffers {
  const base = { values: t.values, tileK: t.tileK };
  let word: (w: Expr) => Expr;
  let vector: ((q: Expr) => Expr) | undefined;
  if (vectors && t.stored) {
    const items = k.vec4Input('items', { dtype: 'u32', shape: [4] });
    vector = (q) => index(items, q);
    word = (w) => index(index(items, shr(w, u(2))), and(w, u(3)));
  } else {
    const items = k.input('items', { dtype: 'u32', shape: [1] });
    word = (w) => items.loadWord(w);
  }
  const offsets = k.input('offsets', t.offsets);
  return { ...base, word, vector, offset: (i) => offsets.loadWord(i) };
}

/** Entries [base, end) of tile `tile`: offsets count 4-entry vectors. */
export function tileEntries(k: KernelBuilder, b: TiledCslBuffers, tile: Expr): { base: Expr; end: Expr } {
  const base = k.let('base', mulConst(b.offset(tile), 4));
  const end = k.let('end', mulConst(b.offset(add(tile, u(1))), 4));
  return { base, end };
}

/** The location of entry j (an expression; f16 entries keep it in the high half of their word). */
export function entryLoc(b: TiledCslBuffers, j: Expr): Expr {
  return b.values === 'f16' ? shr(b.word(j), u(16)) : b.word(add(mulConst(j, 2), u(1)));
}

/** An entry's value (f32) and location from its word(s): `lo` is the f16 entry or the f32 value's bits. */
export function decodeEntry(k: KernelBuilder, values: 'f16' | 'f32', lo: Expr, hi?: Expr): { value: Expr; loc: Expr } {
  if (values === 'f16') {
    const e = k.let('entry', lo);
    return { value: k.let('value', member(builtin('unpack2x16float', e), 'x')), loc: k.let('loc', shr(e, u(16))) };
  }
  return { value: k.let('value', bitcast('f32', lo)), loc: k.let('loc', hi!) };
}

/** Entry j's value (as f32) and location, each bound to a `let`. */
export function readEntry(k: KernelBuilder, b: TiledCslBuffers, j: Expr): { value: Expr; loc: Expr } {
  if (b.values === 'f16') return decodeEntry(k, 'f16', b.word(j));
  const w = k.let('w', mulConst(j, 2));
  return decodeEntry(k, 'f32', b.word(w), b.word(add(w, u(1))));
}

/**
 * The first entry in [lo, hi) whose location is >= `target` (hi when there is none): with target = row * tileK,
 * the first entry of that row or a later one. Binary lifting: `first` only ever advances past entries known to be
 * below the target, by steps that halve from the largest power of two <= hi - lo. The step sequence depends only
 * on the range's length, so invocations searching the same range (a tile) loop in lockstep with no divergent
 * exits, and the body is branch-free.
 */
export function lowerBound(k: KernelBuilder, b: TiledCslBuffers, lo: Expr, hi: Expr, target: Expr): Expr {
  const count = k.let('count', sub(hi, lo));
  const first = k.var('first', T.u32, lo);
  const top = select(gt(count, u(0)), shl(u(1), builtin('firstLeadingBit', count)), u(0));
  forLoop(k, 'step', top, (step) => gt(step, u(0)), (step) => shr(step, u(1)), (step) => {
    const next = k.let('next', add(first, step));
    // Entry next - 1 exists whenever next <= hi; past hi the probe is clamped and the step not taken.
    const below = lt(entryLoc(b, sub(builtin('min', next, hi), u(1))), target);
    k.assign(first, select(land(le(next, hi), below), next, first));
  });
  return first;
}

/** log2 of a power of two. */
export const log2 = (n: number): number => Math.round(Math.log2(n));

/** The in-tile row of a location. */
export const locRow = (b: TiledCslBuffers, loc: Expr): Expr => shr(loc, u(log2(b.tileK)));

/** The XOR that row r's 8-column chunks are swizzled with: (r % (tileK/8)) << 3. */
export function rowSwizzle(b: TiledCslBuffers, r: Expr): Expr {
  return b.tileK === 8 ? u(0) : mul(and(r, u(b.tileK / 8 - 1)), u(8));
}

/** The column of a location in row r, given that row's swizzle. */
export function locCol(b: TiledCslBuffers, loc: Expr, swizzle: Expr): Expr {
  const c = and(loc, u(b.tileK - 1));
  return swizzle.kind === 'lit' && swizzle.value === 0 ? c : xor(c, swizzle);
}
