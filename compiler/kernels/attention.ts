// Attention(q[T,Hq,D], k[S,Hkv,D], v[S,Hkv,D], pos?, len){scale, causal} as ONE fused kernel that never writes
// the [T, S] scores to memory (flash-attention style, computed in f32):
//
//   * one workgroup per (row t, query head h); query head h reads kv head h / (Hq / Hkv) (grouped-query);
//   * the query row is cached in workgroup memory, then the visible keys are visited in blocks of keysPerLane
//     times the workgroup size: each lane scores keysPerLane keys, the block's max comes from a tree reduction,
//     and a running max m and denominator l are rescaled by exp(m_old - m_new) whenever the max grows (online
//     softmax);
//   * the head dim is read in groups of `width` elements: 4 (one vec4 load of K or V, f32 or f16, when D is a
//     multiple of 4) or 1. On lavapipe every per-lane storage load is a loop over the SIMD lanes with a bounds
//     check, so a vec4 load costs about what a scalar one does and the groups cut the loads fourfold;
//   * for the weighted sum of v the lanes split into `parts` key subsets of G = D / width lanes each (lane owns
//     group lane % G and walks keys lane / G, + parts, ...); with G above the workgroup size a lane owns several
//     groups and walks every key. Each lane keeps its groups' sums and its subset's share of the denominator in
//     registers, rescaled by the same exp(m_old - m_new); the subsets are added in workgroup memory at the end.
//
// Key j is visible to row t when j < pos + len and, if causal, j <= pos + t; rows t >= len are written as zeros.
// pos and len are read from uniforms and bound the key loop at run time, so no kernel is rebuilt per position.
//
// With `fold` the kernel also does the step's two KV-cache writes (compiler/lower/fuse-cache-write.ts): k and v
// are the f32 caches, bound read_write; keys j >= pos are read from the new rows (row j - pos) and the older ones
// from the caches (a block of keys wholly before pos reads the caches alone, one wholly at or past pos the new
// rows alone, as a prefill from position 0 does); and the workgroup of row t < len and the first query head of
// each kv head copies that row's new key and value into cache row pos + t. No workgroup reads a cache row at or
// past pos, so the copies race with nothing.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr, Type } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { T, add, builtin, construct, div, eq, ge, gt, index, land, le, lit, lt, mod, mul, mulConst, select, sub, vecType } from '../wgsl/dsl.js';
import { type Lanes, type TensorSpec, ceilDiv, fromCompute, laneCoords, opaque, pick, pow2ceil, stepLen, stepPos, toCompute, vec4FloatInput, workgroupReduce } from './lib/index.js';

export interface AttentionSpec extends KernelSpecBase {
  readonly kernel: 'attention';
  readonly q: TensorSpec;
  readonly k: TensorSpec;
  readonly v: TensorSpec;
  /** q's shape; q's dtype, or f32 when that dtype is packed (the lowering converts afterwards). */
  readonly output: TensorSpec;
  readonly scale: number;
  readonly causal: boolean;
  /** Whether a pos uniform is bound; without it pos is 0 (no cache). */
  readonly hasPos: boolean;
  /** Lanes per workgroup = keys per block. */
  readonly workgroupSize: number;
  /** Head-dim elements per K/V load: 4 (vec4 bindings) or 1. */
  readonly width: 1 | 4;
  /** Keys each lane scores per block (a block is workgroupSize * keysPerLane keys). */
  readonly keysPerLane: number;
  /** The new rows [T', Hkv, D] (f32) the kernel writes into the caches k and v at pos (a folded CacheWrite pair). */
  readonly fold?: { readonly k: TensorSpec; readonly v: TensorSpec };
}

/**
 * Most keys a lane scores per block. Each block costs a max reduction (log2(lanes) barriers) and two barriers
 * more, and on lavapipe a barrier switches every SIMD group of the workgroup: fewer, longer blocks are cheaper.
 * Decode attention, 12 heads x 131 keys x D 64 (24 chained, timestamp queries, lavapipe): 0.32 ms at 8 lanes with
 * 4 keys per lane, 0.34 with 8; 0.49 and 0.51 at 64 lanes (one dispatch alone at 64 lanes, 1 key per lane: 0.59).
 */
const MAX_KEYS_PER_LANE = 4;

/** Whether K and V can be bound as vec4s: D a multiple of 4, both f32 or both f16. */
const vec4Ready = (k: TensorSpec, v: TensorSpec, dim: number): boolean =>
  dim % 4 === 0 && k.dtype === v.dtype && (k.dtype === 'f32' || k.dtype === 'f16');

export function attentionSpec(
  target: Target,
  tensors: { q: TensorSpec; k: TensorSpec; v: TensorSpec; output: TensorSpec },
  attrs: { scale: number; causal: boolean; hasPos: boolean },
  maxLanes: number,
  fold?: AttentionSpec['fold'],
): AttentionSpec {
  const [keys, , dim] = tensors.k.shape as [number, number, number];
  const width = vec4Ready(tensors.k, tensors.v, dim) ? 4 : 1;
  // Lanes serve twice: one key each when scoring, groups of the head dim when accumulating, so the size follows
  // the larger of S and D / width (few lanes for a short cache would leave each one dozens of accumulators).
  const workgroupSize = Math.min(pow2ceil(maxLanes), pow2ceil(Math.max(keys, dim / width)));
  const keysPerLane = Math.min(MAX_KEYS_PER_LANE, Math.ceil(keys / workgroupSize));
  return { kernel: 'attention', target: { shaderF16: target.shaderF16 }, ...tensors, ...attrs, workgroupSize, width, keysPerLane, ...(fold ? { fold } : {}) };
}

const u = lit.u32;
/**
 * Start of the running max and the score of an invisible lane: finite, so no inf - inf appears anywhere. Not
 * -FLT_MAX itself: its shortest decimal (3.4028235e38) lies past FLT_MAX and Tint rejects the literal.
 */
const LOWEST = -3.4e38;

/** Group `g` (an index in units of `width` elements) of K or V, as f32 or vec4<f32>. */
function groupReader(k: KernelBuilder, name: string, t: TensorSpec, width: 1 | 4): (g: Expr) => Expr {
  if (width === 1) {
    const acc = k.input(name, t);
    return (g) => toCompute(acc.load(g), acc.value);
  }
  return vec4FloatInput(k, name, t);
}

/** An f32 cache the kernel also writes, in groups of `width` elements. */
function cacheBinding(k: KernelBuilder, name: string, t: TensorSpec, width: 1 | 4): { load(g: Expr): Expr; store(g: Expr, value: Expr): void } {
  if (width === 1) {
    const acc = k.output(name, t);
    return { load: (g) => acc.load(g), store: (g, value) => acc.store(g, value) };
  }
  const arr = k.vec4Input(name, t, 'read_write');
  return { load: (g) => index(arr, g), store: (g, value) => k.assign(index(arr, g), value) };
}

export const attention: KernelGen<AttentionSpec> = (spec) => {
  const [rows, qHeads, dim] = spec.q.shape as [number, number, number];
  const [capacity, kvHeads] = spec.k.shape as [number, number];
  const { workgroupSize: block, width } = spec;
  const groups = dim / width;
  const groupType: Type = width === 4 ? vecType(4, 'f32') : T.f32;
  const zero = width === 4 ? construct(groupType, lit.f32(0)) : lit.f32(0);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: block });
  const lanes: Lanes = { tx: 1, ty: block, xFast: false };
  const c = laneCoords(k, lanes);
  const lane = c.lid;
  // Binding order is the lowering's argument order: q, k, v, (with fold: the new k and v rows,) pos (when given),
  // len, output.
  const q = k.input('q', spec.q);
  const fold = spec.fold;
  const kCache = fold ? cacheBinding(k, 'k', spec.k, width) : undefined;
  const vCache = fold ? cacheBinding(k, 'v', spec.v, width) : undefined;
  const keyAt = kCache?.load ?? groupReader(k, 'k', spec.k, width);
  const valAt = vCache?.load ?? groupReader(k, 'v', spec.v, width);
  const newKeyAt = fold ? groupReader(k, 'k_new', fold.k, width) : undefined;
  const newValAt = fold ? groupReader(k, 'v_new', fold.v, width) : undefined;
  const pos = spec.hasPos ? stepPos(k) : u(0);
  const len = stepLen(k, rows);
  const out = k.output('y', spec.output);

  const row = k.workgroupIndex(rows * qHeads); // t * Hq + h: also the row's offset in q and y, in units of D
  k.if(ge(row, u(rows * qHeads)), () => k.return());
  const t = k.let('t', div(row, u(qHeads)));
  const kvHead = k.let('kv_head', div(mod(row, u(qHeads)), u(qHeads / kvHeads)));
  const qBase = k.let('q_base', mulConst(row, dim));
  const kvBase = k.let('kv_base', mulConst(kvHead, groups));
  const kvStride = kvHeads * groups; // in groups

  // The lanes' split for the weighted sum: `parts` key subsets of `groups` lanes, or one subset in which each lane
  // owns `owned` groups g = lane + r * block (the last may fall past G).
  const parts = groups <= block ? Math.floor(block / groups) : 1;
  const owned = parts > 1 ? 1 : ceilDiv(groups, block);
  const part = parts > 1 ? k.let('part', div(lane, u(groups))) : u(0);
  const ownGroup = parts > 1 ? k.let('g', mod(lane, u(groups))) : lane;
  const ownedGroup = (r: number, body: (g: Expr) => void): void => {
    const g = r === 0 ? ownGroup : k.let('g', add(ownGroup, u(r * block)));
    // Lanes past parts * G (when G does not divide the workgroup) own nothing; so does a group past G.
    if (parts > 1) parts * groups === block ? body(g) : k.if(lt(part, u(parts)), () => body(g));
    else if ((r + 1) * block <= groups) body(g);
    else k.if(lt(g, u(groups)), () => body(g));
  };
  // Stores group g's value (f32 or vec4<f32>) at the row's elements g * width ...
  const store = (g: Expr, value: Expr): void => {
    if (width === 1) return out.store(add(qBase, g), fromCompute(value, out.value));
    const v = k.let('o', value);
    const first = k.let('e', add(qBase, mulConst(g, 4)));
    (['x', 'y', 'z', 'w'] as const).forEach((m, i) => out.store(add(first, u(i)), fromCompute({ kind: 'member', base: v, member: m }, out.value)));
  };

  // Padding rows (t >= len) are zeros. t and len are the same for the whole workgroup, so returning here keeps
  // the barriers below in uniform control flow.
  k.if(ge(t, len), () => {
    k.for('g', lane, opaque(c, groups), (g) => store(g, zero), block);
    k.return();
  });

  if (fold) {
    // Row t's new key and value into cache row pos + t, by the first query head of the kv head (rows that would
    // land past the cache are dropped, as CacheWrite drops them).
    const leader = eq(mod(mod(row, u(qHeads)), u(qHeads / kvHeads)), u(0));
    k.if(land(leader, lt(add(pos, t), u(capacity))), () => {
      const from = k.let('src_row', add(mulConst(t, kvStride), kvBase));
      const to = k.let('dst_row', add(mulConst(add(pos, t), kvStride), kvBase));
      k.for('g', lane, opaque(c, groups), (g) => {
        kCache!.store(add(to, g), newKeyAt!(add(from, g)));
        vCache!.store(add(to, g), newValAt!(add(from, g)));
      }, block);
    });
  }
  /** Key j's row in the new rows, in groups (j >= pos; clamped into them for the masked keys past the last). */
  const newRow = (j: Expr): Expr => k.let('new_row', add(mulConst(builtin('min', select(ge(j, pos), sub(j, pos), u(0)), u(fold ? fold.k.shape[0]! - 1 : 0)), kvStride), kvBase));
  /**
   * Where a block's keys [first, end) come from (workgroup-uniform branches): all below pos, the cache; all at or
   * past pos (a prefill from position 0), the new rows; else each key from either (both loads and a select).
   */
  type Source = 'cache' | 'new' | 'mixed';
  const byBlock = (first: Expr, end: Expr, body: (from: Source) => void): void =>
    fold ? k.if(le(end, pos), () => body('cache'), () => k.if(ge(first, pos), () => body('new'), () => body('mixed'))) : body('cache');
  /** Key `key`'s group: the cache's (`cached`) or the new rows' (`fresh`, built only when read). */
  const groupFrom = (from: Source, key: Expr, cached: () => Expr, fresh: () => Expr): Expr =>
    from === 'cache' ? cached() : from === 'new' ? fresh() : select(ge(key, pos), fresh(), cached());

  const qRow = k.workgroupArray('q_row', groupType, Math.max(1, groups));
  // Loop bounds over D are opaque (`D * one`): lavapipe's LLVM would otherwise unroll them fully, and its
  // compile time grows with the unrolled body (seconds per kernel at D = 128).
  k.for('g', lane, opaque(c, groups), (g) => {
    const at = (i: number): Expr => toCompute(q.load(add(qBase, add(mulConst(g, width), u(i)))), q.value);
    k.assign(index(qRow, g), width === 4 ? construct(groupType, at(0), at(1), at(2), at(3)) : at(0));
  }, block);
  k.workgroupBarrier();

  const all = k.let('all', builtin('min', add(pos, len), u(capacity)));
  const visible = spec.causal ? k.let('visible', builtin('min', all, add(add(pos, t), u(1)))) : all;
  const m = k.var('m', T.f32, lit.f32(LOWEST));
  const l = k.var('l', T.f32, lit.f32(0)); // this lane's key subset's share of the denominator
  const acc = Array.from({ length: owned }, () => k.var('acc', groupType, zero));
  const keysPerBlock = block * spec.keysPerLane;
  const probs = k.workgroupArray('p', T.f32, keysPerBlock);
  const dot = (a: Expr, b: Expr): Expr => (width === 4 ? builtin('dot', a, b) : mul(a, b));

  k.for(
    'start',
    u(0),
    visible,
    (start) => {
      // This lane's keys j = start + i * block + lane: their scaled scores (LOWEST past the visible keys), and
      // their max for the block's. Each group of q is read once for all of them; keys past the visible ones read
      // the cache's last row (in bounds) and are masked after.
      const keys = Array.from({ length: spec.keysPerLane }, (_, i) => k.let('j', add(start, add(u(i * block), lane))));
      const kRows = keys.map((j) => k.let('k_row', add(mulConst(builtin('min', j, u(capacity - 1)), kvStride), kvBase)));
      const qk = keys.map(() => k.var('qk', T.f32, lit.f32(0)));
      byBlock(start, add(start, u(keysPerBlock)), (from) => {
        const nRows = from === 'cache' ? [] : keys.map(newRow);
        k.for('g', u(0), opaque(c, groups), (g) => {
          const qg = k.let('qg', index(qRow, g));
          qk.forEach((s, i) => {
            const key = groupFrom(from, keys[i]!, () => keyAt(add(kRows[i]!, g)), () => newKeyAt!(add(nRows[i]!, g)));
            k.assign(s, add(s, dot(qg, key)));
          });
        });
      });
      const scores = qk.map((s, i) => k.let('score', select(lt(keys[i]!, visible), mul(s, lit.f32(spec.scale)), lit.f32(LOWEST))));
      // NaN-propagating max, so a NaN score poisons the row as it does in the interpreter.
      const laneMax = scores.reduce((a, b) => k.let('lane_max', pick('max', 'f32', a, b)));
      const [blockMax] = workgroupReduce(k, lanes, c, ['f32'], [laneMax], (_k, [a], [b]) => [pick('max', 'f32', a!, b!)]);
      const mNew = k.let('m_new', pick('max', 'f32', m, blockMax!));
      const rescale = k.let('rescale', builtin('exp', sub(m, mNew)));
      // The reduction's first barrier is past every lane's walk of the previous block, so `probs` is free.
      scores.forEach((score, i) =>
        k.assign(index(probs, add(u(i * block), lane)), select(lt(keys[i]!, visible), builtin('exp', sub(score, mNew)), lit.f32(0))),
      );
      k.workgroupBarrier();

      // Each lane walks its subset of the block's keys: its groups' weighted sums, and the subset's sum.
      // Opaque like the D loops: a known bound of `block` would let LLVM unroll this loop, accumulators and all.
      const count = k.let('count', builtin('min', opaque(c, keysPerBlock), sub(visible, start)));
      k.assign(l, mul(l, rescale));
      for (const a of acc) k.assign(a, mul(a, rescale));
      byBlock(start, add(start, count), (from) => k.for('jj', part, count, (jj) => {
        const p = k.let('pj', index(probs, jj));
        k.assign(l, add(l, p));
        const key = k.let('key', add(start, jj));
        const vRow = from === 'new' ? u(0) : k.let('v_row', add(mulConst(key, kvStride), kvBase));
        const nRow = from === 'cache' ? u(0) : newRow(key);
        acc.forEach((a, r) => ownedGroup(r, (g) => {
          const value = groupFrom(from, key, () => valAt(add(vRow, g)), () => newValAt!(add(nRow, g)));
          k.assign(a, add(a, mul(p, value)));
        }));
      }, parts));
      k.assign(m, mNew);
      // No barrier needed here: the next block writes `probs` only after its max reduction's barriers, which
      // every lane reaches after finishing this block's walk.
    },
    keysPerBlock,
  );

  // l > 0 whenever a key is visible (always, for a valid row of a consistent pos/len); otherwise zeros.
  const finish = (sum: Expr, total: Expr, g: Expr): void => store(g, select(gt(total, lit.f32(0)), div(sum, total), zero));
  if (parts === 1) {
    acc.forEach((a, r) => ownedGroup(r, (g) => finish(a, l, g)));
    return k.finish();
  }
  // The subsets' sums meet in workgroup memory; lane p * G holds subset p's denominator share.
  const sums = k.workgroupArray('sums', groupType, block);
  const shares = k.workgroupArray('shares', T.f32, block);
  k.assign(index(sums, lane), acc[0]!);
  k.assign(index(shares, lane), l);
  k.workgroupBarrier();
  k.if(lt(lane, u(groups)), () => {
    const sum = k.var('sum', groupType, index(sums, lane));
    const total = k.var('total', T.f32, index(shares, u(0)));
    for (let p = 1; p < parts; p++) {
      k.assign(sum, add(sum, index(sums, add(lane, u(p * groups)))));
      k.assign(total, add(total, index(shares, u(p * groups))));
    }
    finish(sum, total, lane);
  });
  return k.finish();
};
