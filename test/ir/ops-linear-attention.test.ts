// LinearAttention: shape and operand checks per update rule, and a hand-computed two-step recurrence with one
// key dim (every rule's arithmetic visible in a few numbers).
import { describe, expect, it } from 'vitest';
import { type Attrs, type Tensor, makeTensor, tensorType } from '../../ir/index.js';
import { infer, runAll } from './op-harness.js';

const f32 = (shape: number[]) => tensorType('f32', shape);
const attrs = (rule: string, q = 1, kv = 1, scale = 1): Attrs => ({ q_num_heads: q, kv_num_heads: kv, update_rule: rule, scale });

describe('LinearAttention', () => {
  it('infers [B, T, Hq*dv] and the state shape, and checks every operand', () => {
    const [q, k, v, s] = [f32([2, 3, 4 * 5]), f32([2, 3, 2 * 5]), f32([2, 3, 2 * 7]), f32([2, 2, 5, 7])];
    expect(infer('LinearAttention', [q, k, v, s], attrs('linear', 4, 2)).map((t) => t.shape)).toEqual([[2, 3, 28], [2, 2, 5, 7]]);
    expect(() => infer('LinearAttention', [q, k, v, s], attrs('gated', 4, 2))).toThrow(/'gated' needs decay/);
    expect(() => infer('LinearAttention', [q, k, v, s, f32([2, 3, 2])], attrs('linear', 4, 2))).toThrow(/'linear' takes no decay/);
    expect(() => infer('LinearAttention', [q, k, v, s, undefined, f32([2, 3, 3])], attrs('delta', 4, 2))).toThrow(/beta must be \[2, 3, 2 or 1\]/);
    expect(() => infer('LinearAttention', [q, k, v, f32([2, 2, 5, 6])], attrs('linear', 4, 2))).toThrow(/state as f32\[2,2,5,7\]/);
    expect(() => infer('LinearAttention', [q, k, v, s], attrs('linear', 3, 2))).toThrow(/3 query heads cannot share 2 kv heads/);
    expect(() => infer('LinearAttention', [q, k, v, s], attrs('softmax', 4, 2))).toThrow(/update_rule must be one of/);
  });

  it('computes the recurrence: two steps, dk = dv = 1', () => {
    const t = (values: number[]): Tensor => makeTensor('f32', [1, 2, 1], values);
    const [q, k, v] = [t([1, 2]), t([2, 1]), t([3, 4])];
    const s0 = makeTensor('f32', [1, 1, 1, 1], [0.5]);
    const decay = t([Math.log(0.5), Math.log(0.25)]);
    const beta = t([0.5, 1]);
    const outs = (rule: string, ...extra: (Tensor | undefined)[]) => runAll('LinearAttention', [q, k, v, s0, ...extra], attrs(rule, 1, 1, 2)).map((r) => [...r.data]);
    // linear: S = 0.5 + 2*3 = 6.5, y = 2*1*6.5; S = 6.5 + 1*4 = 10.5, y = 2*2*10.5.
    expect(outs('linear')).toEqual([[13, 42], [10.5]]);
    // gated: S = 0.25 + 6 = 6.25, y = 12.5; S = 6.25/4 + 4 = 5.5625, y = 22.25.
    expect(outs('gated', decay)).toEqual([[12.5, 22.25], [5.5625]]);
    // delta: u = 0.5*(3 - 2*0.5) = 1, S = 0.5 + 2 = 2.5, y = 5; u = 1*(4 - 2.5) = 1.5, S = 4, y = 16.
    expect(outs('delta', undefined, beta)).toEqual([[5, 16], [4]]);
    // gated_delta: S = 0.25; u = 0.5*(3 - 0.5) = 1.25, S = 2.75, y = 5.5; S = 0.6875, u = 4 - 0.6875, S = 4, y = 16.
    expect(outs('gated_delta', decay, beta)).toEqual([[5.5, 16], [4]]);
  });
});
