// LinearAttention (ir/ops/linear-attention.ts): one invocation per (batch row, kv head, value column j). Column j
// of the state S [dk, dv] is all an invocation needs: the retrieval S^T k, the rank-1 update k u^T and the read
// q^T S each touch column j alone, so the recurrence over the steps runs with no barrier and no workgroup memory.
// The column lives in a private array of dk floats; q, k, decay and beta rows are read by every invocation of the
// head (the same addresses, so caches serve them). Loop bounds are opaque (`n * one`) so that lavapipe's LLVM does
// not unroll them (compile time grows with the unrolled body).
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { T, add, arrayType, builtin, div, index, lit, lt, mod, mul, mulConst, sub } from '../wgsl/dsl.js';
import { type TensorSpec, opaqueOne } from './lib/index.js';
import type { LinearAttentionDims } from '../../ir/ops/linear-attention.js';

export interface LinearAttentionSpec extends KernelSpecBase {
  readonly kernel: 'linear-attention';
  readonly dims: LinearAttentionDims;
  readonly gated: boolean;
  readonly delta: boolean;
  readonly scale: number;
  /** Every operand and result is f32 (the importer casts half inputs). */
  readonly q: TensorSpec;
  readonly k: TensorSpec;
  readonly v: TensorSpec;
  readonly state: TensorSpec;
  readonly decay?: TensorSpec;
  readonly beta?: TensorSpec;
  readonly y: TensorSpec;
  readonly present: TensorSpec;
}

export function linearAttentionSpec(
  target: Target,
  dims: LinearAttentionDims,
  rule: string,
  scale: number,
  t: Pick<LinearAttentionSpec, 'q' | 'k' | 'v' | 'state' | 'decay' | 'beta' | 'y' | 'present'>,
): LinearAttentionSpec {
  return { kernel: 'linear-attention', target: { shaderF16: target.shaderF16 }, dims, gated: rule.startsWith('gated'), delta: rule.endsWith('delta'), scale, ...t };
}

const u = lit.u32;

export const linearAttention: KernelGen<LinearAttentionSpec> = (spec) => {
  const { batch, steps, qHeads, kvHeads, keyDim: dk, valueDim: dv, decayWidth, betaWidth } = spec.dims;
  const group = qHeads / kvHeads;
  const k = new KernelBuilder({ target: spec.target });
  // Binding order is the lowering's argument order.
  const q = k.input('q', spec.q);
  const key = k.input('k', spec.k);
  const val = k.input('v', spec.v);
  const state = k.input('state', spec.state);
  const decay = spec.decay && k.input('decay', spec.decay);
  const beta = spec.beta && k.input('beta', spec.beta);
  const y = k.output('y', spec.y);
  const present = k.output('present', spec.present);

  const total = batch * kvHeads * dv;
  const gi = k.globalIndex(total);
  k.if(lt(gi, u(total)), () => {
    const one = opaqueOne(k);
    const bound = (n: number): Expr => mul(u(n), one);
    const j = k.let('j', mod(gi, u(dv)));
    const bh = k.let('bh', div(gi, u(dv))); // b * Hkv + h
    const b = k.let('b', div(bh, u(kvHeads)));
    const h = k.let('h', mod(bh, u(kvHeads)));
    const col = k.var('s', arrayType(T.f32, dk));
    const stateAt = (i: Expr): Expr => add(mulConst(add(mulConst(bh, dk), i), dv), j);
    k.for('i', u(0), bound(dk), (i) => k.assign(index(col, i), state.load(stateAt(i))));

    k.for('t', u(0), bound(steps), (t) => {
      const row = k.let('row', add(mulConst(b, steps), t)); // b * T + t
      const kBase = k.let('k_base', mulConst(add(mulConst(row, kvHeads), h), dk));
      if (decay) {
        const dBase = k.let('d_base', mulConst(add(mulConst(row, kvHeads), h), decayWidth));
        const shared = decayWidth === 1 ? k.let('g', builtin('exp', decay.load(dBase))) : undefined;
        k.for('i', u(0), bound(dk), (i) => k.assign(index(col, i), mul(index(col, i), shared ?? builtin('exp', decay.load(add(dBase, i))))));
      }
      const vj = val.load(add(mulConst(add(mulConst(row, kvHeads), h), dv), j));
      let update: Expr = vj;
      if (beta) {
        const r = k.var('r', T.f32, lit.f32(0));
        k.for('i', u(0), bound(dk), (i) => k.assign(r, add(r, mul(index(col, i), key.load(add(kBase, i))))));
        const betaAt = betaWidth === 1 ? mulConst(row, 1) : add(mulConst(row, betaWidth), h);
        update = k.let('u', mul(beta.load(betaAt), sub(vj, r)));
      } else update = k.let('u', vj);
      k.for('i', u(0), bound(dk), (i) => k.assign(index(col, i), add(index(col, i), mul(key.load(add(kBase, i)), update))));
      for (let g = 0; g < group; g++) {
        const hq = k.let('hq', add(mulConst(h, group), u(g)));
        const qBase = k.let('q_base', mulConst(add(mulConst(row, qHeads), hq), dk));
        const o = k.var('o', T.f32, lit.f32(0));
        k.for('i', u(0), bound(dk), (i) => k.assign(o, add(o, mul(q.load(add(qBase, i)), index(col, i)))));
        y.store(add(mulConst(add(mulConst(row, qHeads), hq), dv), j), mul(o, lit.f32(spec.scale)));
      }
    });
    k.for('i', u(0), bound(dk), (i) => present.store(stateAt(i), index(col, i)));
  });
  return k.finish();
};
