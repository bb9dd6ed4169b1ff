// Attention(q[T,Hq,D], k[S,Hkv,D], v[S,Hkv,D], pos?, len){scale, causal} as ONE fused kernel that never writes
// the [T, S] scores to memory (flash-attention style, computed in f32):
//
//   * one workgroup per (row t, query head h); query head h reads kv head h / (Hq / Hkv) (grouped-query);
//   * the query row is cached in workgroup memory, then the visible keys are visited in blocks of the
//     workgroup size: each lane computes one key's score, the block's max comes from a tree reduction, and a
//     running max m and denominator l are rescaled by exp(m_old - m_new) whenever the max grows (online softmax);
//   * each lane owns output elements d = lane, lane + WG, ... (so D may exceed the workgroup size) and keeps
//     their weighted sums of v in registers, rescaled the same way; the block's probabilities are shared through
//     workgroup memory. The block sum needs no second tree: every lane adds the block's probabilities while it
//     walks them for the weighted sum, in the same order, so all lanes agree on l bit for bit.
//
// Key j is visible to row t when j < pos + len and, if causal, j <= pos + t; rows t >= len are written as zeros.
// pos and len are read from uniforms and bound the key loop at run time, so no kernel is rebuilt per position.
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { T, add, builtin, div, ge, gt, index, lit, lt, mod, mul, mulConst, select, sub } from '../wgsl/dsl.js';
import { type Lanes, type TensorSpec, ceilDiv, fromCompute, laneCoords, opaque, pick, pow2ceil, stepLen, stepPos, toCompute, workgroupReduce } from './lib/index.js';

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
}

/**
 * Most lanes per workgroup (keys per block). Lanes serve twice: one key each when scoring, ceil(D / lanes)
 * output elements each when accumulating, so the size follows the larger of S and D (few lanes for a short
 * cache would leave each one dozens of accumulators).
 */
const MAX_BLOCK = 64;

export function attentionSpec(
  target: Target,
  tensors: { q: TensorSpec; k: TensorSpec; v: TensorSpec; output: TensorSpec },
  attrs: { scale: number; causal: boolean; hasPos: boolean },
): AttentionSpec {
  const [keys, , dim] = tensors.k.shape as [number, number, number];
  const workgroupSize = Math.min(MAX_BLOCK, pow2ceil(Math.max(keys, dim)));
  return { kernel: 'attention', target: { shaderF16: target.shaderF16 }, ...tensors, ...attrs, workgroupSize };
}

const u = lit.u32;
/**
 * Start of the running max and the score of an invisible lane: finite, so no inf - inf appears anywhere. Not
 * -FLT_MAX itself: its shortest decimal (3.4028235e38) lies past FLT_MAX and Tint rejects the literal.
 */
const LOWEST = -3.4e38;

export const attention: KernelGen<AttentionSpec> = (spec) => {
  const [rows, qHeads, dim] = spec.q.shape as [number, number, number];
  const [capacity, kvHeads] = spec.k.shape as [number, number];
  const block = spec.workgroupSize;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: block });
  const lanes: Lanes = { tx: 1, ty: block, xFast: false };
  const c = laneCoords(k, lanes);
  const lane = c.lid;
  // Binding order is the lowering's argument order: q, k, v, pos (when given), len, output.
  const q = k.input('q', spec.q);
  const key = k.input('k', spec.k);
  const val = k.input('v', spec.v);
  const pos = spec.hasPos ? stepPos(k) : u(0);
  const len = stepLen(k, rows);
  const out = k.output('y', spec.output);

  const row = k.workgroupIndex(rows * qHeads); // t * Hq + h: also the row's offset in q and y, in units of D
  k.if(ge(row, u(rows * qHeads)), () => k.return());
  const t = k.let('t', div(row, u(qHeads)));
  const kvHead = k.let('kv_head', div(mod(row, u(qHeads)), u(qHeads / kvHeads)));
  const qBase = k.let('q_base', mulConst(row, dim));
  const kvBase = k.let('kv_base', mulConst(kvHead, dim));
  const kvStride = kvHeads * dim;

  // The output elements this lane owns: d = lane + r * block for r < owned (the last may fall past D).
  const owned = ceilDiv(dim, block);
  const ownedElement = (r: number, body: (d: Expr) => void): void => {
    const d = k.let('d', add(lane, u(r * block)));
    if ((r + 1) * block <= dim) body(d);
    else k.if(lt(d, u(dim)), () => body(d));
  };
  const store = (d: Expr, value: Expr): void => out.store(add(qBase, d), fromCompute(value, out.value));

  // Padding rows (t >= len) are zeros. t and len are the same for the whole workgroup, so returning here keeps
  // the barriers below in uniform control flow.
  k.if(ge(t, len), () => {
    for (let r = 0; r < owned; r++) ownedElement(r, (d) => store(d, lit.f32(0)));
    k.return();
  });

  const qRow = k.workgroupArray('q_row', T.f32, Math.max(1, dim));
  // Loop bounds over D are opaque (`D * one`): lavapipe's LLVM would otherwise unroll them fully, and its
  // compile time grows with the unrolled body (seconds per kernel at D = 128).
  k.for('d', lane, opaque(c, dim), (d) => k.assign(index(qRow, d), toCompute(q.load(add(qBase, d)), q.value)), block);
  k.workgroupBarrier();

  const all = k.let('all', builtin('min', add(pos, len), u(capacity)));
  const visible = spec.causal ? k.let('visible', builtin('min', all, add(add(pos, t), u(1)))) : all;
  const m = k.var('m', T.f32, lit.f32(LOWEST));
  const l = k.var('l', T.f32, lit.f32(0));
  const acc = Array.from({ length: owned }, () => k.var('acc', T.f32, lit.f32(0)));
  const probs = k.workgroupArray('p', T.f32, block);

  k.for(
    'start',
    u(0),
    visible,
    (start) => {
      // This lane's key: its scaled score, or LOWEST past the visible keys.
      const j = k.let('j', add(start, lane));
      const score = k.var('score', T.f32, lit.f32(LOWEST));
      k.if(lt(j, visible), () => {
        const kRow = k.let('k_row', add(mulConst(j, kvStride), kvBase));
        const dot = k.var('dot', T.f32, lit.f32(0));
        k.for('d', u(0), opaque(c, dim), (d) => k.assign(dot, add(dot, mul(index(qRow, d), toCompute(key.load(add(kRow, d)), key.value)))));
        k.assign(score, mul(dot, lit.f32(spec.scale)));
      });
      // NaN-propagating max, so a NaN score poisons the row as it does in the interpreter.
      const [blockMax] = workgroupReduce(k, lanes, c, ['f32'], [score], (_k, [a], [b]) => [pick('max', 'f32', a!, b!)]);
      const mNew = k.let('m_new', pick('max', 'f32', m, blockMax!));
      const rescale = k.let('rescale', builtin('exp', sub(m, mNew)));
      k.assign(index(probs, lane), select(lt(j, visible), builtin('exp', sub(score, mNew)), lit.f32(0)));
      k.workgroupBarrier();

      // Every lane walks the block's probabilities: its owned weighted sums, and the block's sum.
      // Opaque like the D loops: a known bound of `block` would let LLVM unroll this loop, accumulators and all.
      const count = k.let('count', builtin('min', opaque(c, block), sub(visible, start)));
      const sum = k.var('sum', T.f32, lit.f32(0));
      for (const a of acc) k.assign(a, mul(a, rescale));
      k.for('jj', u(0), count, (jj) => {
        const p = k.let('pj', index(probs, jj));
        k.assign(sum, add(sum, p));
        const vRow = k.let('v_row', add(mulConst(add(start, jj), kvStride), kvBase));
        acc.forEach((a, r) => ownedElement(r, (d) => k.assign(a, add(a, mul(p, toCompute(val.load(add(vRow, d)), val.value))))));
      });
      k.assign(l, add(mul(l, rescale), sum));
      k.assign(m, mNew);
      // No barrier needed here: the next block writes `probs` only after its max reduction's barriers, which
      // every lane reaches after finishing this block's walk.
    },
    block,
  );

  // l > 0 whenever a key is visible (always, for a valid row of a consistent pos/len); otherwise zeros.
  acc.forEach((a, r) => ownedElement(r, (d) => store(d, select(gt(l, lit.f32(0)), div(a, l), lit.f32(0)))));
  return k.finish();
};
