// LinearAttention (ONNX 27): causal linear attention as a recurrence over a per-head state S [dk, dv], in f32.
// Per step t of each batch row and kv head h (keys and values [B, T, H*d] rows, as ONNX lays them out):
//
//   gated rules:  S = S * exp(decay_t)[:, None]          decay per key dim [Hkv*dk] or per head [Hkv]
//   delta rules:  u = beta_t * (v_t - S^T k_t)           beta per head [Hkv] or shared [1]
//   otherwise:    u = v_t
//                 S = S + k_t u^T
//                 y_t = scale * q_t^T S                   for each query head of the group sharing h
//
// update_rule is 'linear', 'gated', 'delta' or 'gated_delta'. The state input is the initial S (zeros when the
// model gives none: the importer supplies them); the second output is the final S. The reference accumulates in
// float64 and rounds the outputs to f32 once.
import { OpError, registerOp } from '../op.js';
import { type Dim, formatShape } from '../shape.js';
import { type Tensor, makeTensor } from '../tensor.js';
import { type TensorType, tensorType } from '../types.js';
import { checkInputs } from './common.js';

export const UPDATE_RULES = ['linear', 'gated', 'delta', 'gated_delta'] as const;

export interface LinearAttentionDims {
  readonly batch: number;
  readonly steps: number;
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  /** Decay entries per kv head and step: keyDim, or 1 for one rate per head. */
  readonly decayWidth: number;
  /** Beta entries per step: kvHeads, or 1 shared by every head. */
  readonly betaWidth: number;
}

const rank3 = (t: TensorType, what: string): readonly Dim[] => {
  if (t.shape.length !== 3) throw new OpError(`LinearAttention needs ${what} as [batch, steps, heads*dim], got ${formatShape(t.shape)}`);
  if (t.dtype !== 'f32') throw new OpError(`LinearAttention computes in f32; ${what} is ${t.dtype}`);
  return t.shape;
};

/** The problem's sizes from static operand shapes, every relation checked. */
export function linearAttentionDims(types: readonly (TensorType | undefined)[], qHeads: number, kvHeads: number, rule: string): LinearAttentionDims {
  const [q, k, v, state, decay, beta] = types;
  if (!(UPDATE_RULES as readonly string[]).includes(rule)) throw new OpError(`LinearAttention update_rule must be one of ${UPDATE_RULES.join(', ')}, got '${rule}'`);
  if (qHeads <= 0 || kvHeads <= 0 || qHeads % kvHeads !== 0) throw new OpError(`LinearAttention: ${qHeads} query heads cannot share ${kvHeads} kv heads evenly`);
  const [qs, ks, vs] = [rank3(q!, 'query'), rank3(k!, 'key'), rank3(v!, 'value')];
  const all = [...qs, ...ks, ...vs, ...state!.shape];
  if (!all.every((d) => typeof d === 'number')) throw new OpError('LinearAttention needs static shapes');
  const [batch, steps, qWidth] = qs as number[];
  if (ks[0] !== batch || vs[0] !== batch || ks[1] !== steps || vs[1] !== steps) throw new OpError(`LinearAttention: query ${formatShape(qs)}, key ${formatShape(ks)} and value ${formatShape(vs)} differ in batch or steps`);
  if (qWidth! % qHeads !== 0 || (ks[2] as number) % kvHeads !== 0 || (vs[2] as number) % kvHeads !== 0)
    throw new OpError(`LinearAttention: widths ${qWidth}, ${ks[2]}, ${vs[2]} are not multiples of the head counts ${qHeads}, ${kvHeads}`);
  const keyDim = qWidth! / qHeads;
  if ((ks[2] as number) / kvHeads !== keyDim) throw new OpError(`LinearAttention: query heads have ${keyDim} dims but key heads ${(ks[2] as number) / kvHeads}`);
  const valueDim = (vs[2] as number) / kvHeads;
  const want = [batch, kvHeads, keyDim, valueDim];
  if (state!.dtype !== 'f32' || state!.shape.join() !== want.join()) throw new OpError(`LinearAttention needs the state as f32${formatShape(want)}, got ${state!.dtype}${formatShape(state!.shape)}`);
  const gated = rule.startsWith('gated');
  const delta = rule.endsWith('delta');
  if (gated !== !!decay) throw new OpError(`LinearAttention '${rule}' ${gated ? 'needs' : 'takes no'} decay (input 4)`);
  if (delta !== !!beta) throw new OpError(`LinearAttention '${rule}' ${delta ? 'needs' : 'takes no'} beta (input 5)`);
  /** The width of decay or beta per step, which must be one of `widths`. */
  const width = (t: TensorType | undefined, what: string, widths: number[]): number => {
    if (!t) return 1;
    const s = rank3(t, what);
    if (s[0] !== batch || s[1] !== steps || !widths.includes(s[2] as number)) throw new OpError(`LinearAttention ${what} must be [${batch}, ${steps}, ${widths.join(' or ')}], got ${formatShape(s)}`);
    return s[2] as number;
  };
  const decayWidth = width(decay, 'decay', [kvHeads * keyDim, kvHeads]) === kvHeads * keyDim ? keyDim : 1;
  const betaWidth = width(beta, 'beta', [kvHeads, 1]);
  return { batch: batch!, steps: steps!, qHeads, kvHeads, keyDim, valueDim, decayWidth, betaWidth };
}

registerOp({
  name: 'LinearAttention',
  inputs: { min: 4, max: 6 },
  outputs: 2,
  attrs: {
    q_num_heads: { kind: 'int', required: true },
    kv_num_heads: { kind: 'int', required: true },
    update_rule: { kind: 'string', required: true },
    scale: { kind: 'float', required: true },
  },
  infer(inputs, attrs) {
    checkInputs('LinearAttention', inputs, 4, 6);
    const d = linearAttentionDims(inputs, attrs.int('q_num_heads'), attrs.int('kv_num_heads'), attrs.string('update_rule'));
    return [tensorType('f32', [d.batch, d.steps, d.qHeads * d.valueDim]), tensorType('f32', [d.batch, d.kvHeads, d.keyDim, d.valueDim])];
  },
  reference(inputs, attrs) {
    const [q, k, v, state, decay, beta] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor | undefined, Tensor | undefined];
    const types = inputs.map((t) => t && tensorType(t.dtype, t.shape));
    const d = linearAttentionDims(types, attrs.int('q_num_heads'), attrs.int('kv_num_heads'), attrs.string('update_rule'));
    const { batch, steps, qHeads, kvHeads, keyDim: dk, valueDim: dv } = d;
    const group = qHeads / kvHeads;
    const scale = attrs.float('scale');
    const y = new Float64Array(batch * steps * qHeads * dv);
    const s = Float64Array.from(state.data);
    const u = new Float64Array(dv);
    for (let b = 0; b < batch; b++)
      for (let h = 0; h < kvHeads; h++) {
        const S = s.subarray((b * kvHeads + h) * dk * dv, (b * kvHeads + h + 1) * dk * dv);
        for (let t = 0; t < steps; t++) {
          const row = b * steps + t;
          const kAt = (i: number): number => k.data[(row * kvHeads + h) * dk + i]!;
          if (decay) for (let i = 0; i < dk; i++) {
            const g = Math.exp(decay.data[row * kvHeads * d.decayWidth + h * d.decayWidth + (d.decayWidth === 1 ? 0 : i)]!);
            for (let j = 0; j < dv; j++) S[i * dv + j] *= g;
          }
          for (let j = 0; j < dv; j++) {
            const vj = v.data[(row * kvHeads + h) * dv + j]!;
            if (!beta) u[j] = vj;
            else {
              let r = 0;
              for (let i = 0; i < dk; i++) r += S[i * dv + j]! * kAt(i);
              u[j] = beta.data[row * d.betaWidth + (d.betaWidth === 1 ? 0 : h)]! * (vj - r);
            }
          }
          for (let i = 0; i < dk; i++) for (let j = 0; j < dv; j++) S[i * dv + j] += kAt(i) * u[j]!;
          for (let g = 0; g < group; g++) {
            const hq = h * group + g;
            for (let j = 0; j < dv; j++) {
              let o = 0;
              for (let i = 0; i < dk; i++) o += q.data[(row * qHeads + hq) * dk + i]! * S[i * dv + j]!;
              y[(row * qHeads + hq) * dv + j] = scale * o;
            }
          }
        }
      }
    return [makeTensor('f32', [batch, steps, qHeads * dv], y), makeTensor('f32', state.shape, s)];
  },
});
