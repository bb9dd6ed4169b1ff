// RMSNormalization (23), RotaryEmbedding (23), CausalConvWithState (27) and LinearAttention (27) imported from
// hand-built models and run through the reference interpreter, against float64 implementations of their specs
// written here element by element (SwiGLU is checked with the opset ceiling).
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { interpret } from '../../ir/interp.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import { DT, attrFloat, attrInt, attrString, encodeModel, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';
import { seededRandom } from '../../runtime/random.js';

type Obj = Record<string, unknown>;
const ONNX_TYPE: Record<string, number> = { f32: DT.FLOAT, f16: DT.FLOAT16, i32: DT.INT64 };

const rand = (shape: number[], seed: number): Tensor => {
  const r = seededRandom(seed);
  return makeTensor('f32', shape, () => r() * 4 - 2);
};

/** One node over named inputs ('' skips an optional one); returns the interpreted outputs. */
function run(op: string, opset: number, inputs: [string, Tensor | undefined][], outputs: string[], attrs: Record<string, Obj> = {}): Record<string, Tensor> {
  const given = inputs.filter((e): e is [string, Tensor] => e[1] !== undefined);
  const bytes = encodeModel(
    model({
      opset,
      nodes: [node(op, inputs.map(([n, t]) => (t ? n : '')), outputs, attrs)],
      inputs: given.map(([n, t]) => valueInfo(n, ONNX_TYPE[t.dtype]!, t.shape)),
      outputs: outputs.map((o) => valueInfo(o, DT.FLOAT)),
    }),
  );
  return interpret(importOnnx(bytes).graph, Object.fromEntries(given));
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) > tol * (1 + Math.abs(want[i]!))) expect.fail(`element ${i}: got ${got[i]}, want ${want[i]}`);
}

describe('RMSNormalization', () => {
  it('normalises over [axis, rank) with epsilon, then scales', () => {
    const x = rand([2, 3, 5], 1);
    const w = rand([3, 5], 2);
    const y = run('RMSNormalization', 23, [['X', x], ['W', w]], ['Y'], { axis: attrInt(-2), epsilon: attrFloat(0.1) }).Y!;
    const want = [...x.data].map((v, i) => {
      const row = Math.floor(i / 15) * 15;
      const ms = x.data.subarray(row, row + 15).reduce((a, t) => a + t * t, 0) / 15;
      return (v / Math.sqrt(ms + 0.1)) * w.data[i % 15]!;
    });
    expectClose(y.data, want);
  });
});

/** RotaryEmbedding on [B, H, S, D] (4-D layout) with per-(b, s) angles cos/sin [B, S, D/2]. */
function rope(x: Tensor, cos: (b: number, s: number, i: number) => number, sin: typeof cos, rot: number, interleaved: boolean): number[] {
  const [B, H, S, D] = x.shape as number[];
  const y = [...x.data];
  for (let b = 0; b < B!; b++)
    for (let h = 0; h < H!; h++)
      for (let s = 0; s < S!; s++) {
        const base = ((b * H! + h) * S! + s) * D!;
        for (let i = 0; i < rot / 2; i++) {
          const [p, q] = interleaved ? [2 * i, 2 * i + 1] : [i, i + rot / 2];
          const [x1, x2] = [x.data[base + p]!, x.data[base + q]!];
          y[base + p] = cos(b, s, i) * x1 - sin(b, s, i) * x2;
          y[base + q] = sin(b, s, i) * x1 + cos(b, s, i) * x2;
        }
      }
  return y;
}

describe('RotaryEmbedding', () => {
  const x = rand([2, 3, 4, 8], 3);
  const cosCache = rand([10, 4], 4);
  const sinCache = rand([10, 4], 5);
  const positions = makeTensor('i32', [2, 4], [0, 1, 2, 3, 9, 4, 7, 0]);
  const gathered = (c: Tensor) => (b: number, s: number, i: number) => c.data[positions.data[b * 4 + s]! * 4 + i]!;

  it('gathers angles by position_ids; halves or interleaved pairs; partial rotary dim', () => {
    for (const interleaved of [0, 1])
      for (const rot of [0, 4]) {
        const attrs = { interleaved: attrInt(interleaved), rotary_embedding_dim: attrInt(rot) };
        const y = run('RotaryEmbedding', 23, [['input', x], ['cos_cache', cosCache], ['sin_cache', sinCache], ['position_ids', positions]], ['output'], attrs).output!;
        expectClose(y.data, rope(x, gathered(cosCache), gathered(sinCache), rot || 8, interleaved === 1));
      }
  });

  it('3-D input with num_heads, and [B, S, D/2] caches without position_ids', () => {
    const cos = rand([2, 4, 4], 6);
    const sin = rand([2, 4, 4], 7);
    const at = (c: Tensor) => (b: number, s: number, i: number) => c.data[(b * 4 + s) * 4 + i]!;
    const want = rope(x, at(cos), at(sin), 8, false);
    // x as [B, S, H*D]: the same rows, heads side by side.
    const x3 = makeTensor('f32', [2, 4, 24], (f) => x.data[((Math.floor(f / 96) * 3 + Math.floor((f % 24) / 8)) * 4 + (Math.floor(f / 24) % 4)) * 8 + (f % 8)]!);
    const y = run('RotaryEmbedding', 23, [['input', x3], ['cos_cache', cos], ['sin_cache', sin]], ['output'], { num_heads: attrInt(3) }).output!;
    expect(y.shape).toEqual([2, 4, 24]);
    expectClose(y.data, [...x3.data].map((_, f) => want[((Math.floor(f / 96) * 3 + Math.floor((f % 24) / 8)) * 4 + (Math.floor(f / 24) % 4)) * 8 + (f % 8)]!));
  });
});

describe('CausalConvWithState', () => {
  /** Depthwise causal conv over [past | x] per (b, c), optional SiLU; and the last K-1 columns of [past | x]. */
  function reference(x: Tensor, w: Tensor, bias: Tensor | undefined, past: Tensor | undefined, silu: boolean): { y: number[]; state: number[] } {
    const [B, C, L] = x.shape as number[];
    const K = w.shape[2]!;
    const y: number[] = [];
    const state: number[] = [];
    for (let b = 0; b < B!; b++)
      for (let c = 0; c < C!; c++) {
        const padded = [...Array.from({ length: K - 1 }, (_, j) => (past ? past.data[(b * C! + c) * (K - 1) + j]! : 0)), ...x.data.subarray((b * C! + c) * L!, (b * C! + c + 1) * L!)];
        for (let t = 0; t < L!; t++) {
          let acc = bias ? bias.data[c]! : 0;
          for (let j = 0; j < K; j++) acc += padded[t + j]! * w.data[c * K + j]!;
          y.push(silu ? acc / (1 + Math.exp(-acc)) : acc);
        }
        state.push(...padded.slice(L!));
      }
    return { y, state };
  }

  it('with and without past state and bias, SiLU, K = 1, inputs shorter than the kernel', () => {
    for (const [L, K, withPast, withBias, act] of [[7, 4, true, true, 'silu'], [7, 4, false, false, 'none'], [2, 5, false, true, 'swish'], [3, 1, false, false, 'none']] as const) {
      const x = rand([2, 3, L], L * 10 + K);
      const w = rand([3, 1, K], 20 + K);
      const bias = withBias ? rand([3], 30) : undefined;
      const past = withPast ? rand([2, 3, K - 1], 40) : undefined;
      const out = run('CausalConvWithState', 27, [['input', x], ['weight', w], ['bias', bias], ['past_state', past]], ['output', 'present_state'], { activation: attrString(act) });
      const want = reference(x, w, bias, past, act !== 'none');
      expectClose(out.output!.data, want.y);
      expect(out.present_state!.shape).toEqual([2, 3, K - 1]);
      expectClose(out.present_state!.data, want.state);
    }
  });

  it('refuses a weight that is not depthwise and an unknown activation', () => {
    const x = rand([1, 2, 4], 50);
    expect(() => run('CausalConvWithState', 27, [['input', x], ['weight', rand([2, 2, 3], 51)]], ['output'])).toThrow(/weight must be \[2, 1, K\]/);
    expect(() => run('CausalConvWithState', 27, [['input', x], ['weight', rand([2, 1, 3], 52)]], ['output'], { activation: attrString('gelu') })).toThrow(/activation must be one of/);
  });
});

describe('LinearAttention', () => {
  /** The recurrence with the state as whole matrices per (b, kv head): S = diag(g) S + k (beta (v - S^T k))^T. */
  function reference(q: Tensor, k: Tensor, v: Tensor, hq: number, hkv: number, rule: string, decay?: Tensor, beta?: Tensor, past?: Tensor) {
    const [B, T] = q.shape as number[];
    const dk = q.shape[2]! / hq;
    const dv = v.shape[2]! / hkv;
    const y = new Array<number>(B! * T! * hq * dv).fill(0);
    const state: number[] = [];
    for (let b = 0; b < B!; b++)
      for (let h = 0; h < hkv; h++) {
        const S = Array.from({ length: dk }, (_, i) => Array.from({ length: dv }, (_, j) => (past ? past.data[((b * hkv + h) * dk + i) * dv + j]! : 0)));
        for (let t = 0; t < T!; t++) {
          const r = b * T! + t;
          const kv = Array.from({ length: dk }, (_, i) => k.data[(r * hkv + h) * dk + i]!);
          if (rule.startsWith('gated')) {
            const w = decay!.shape[2]! / hkv;
            S.forEach((rowS, i) => rowS.forEach((_, j) => (rowS[j]! *= Math.exp(decay!.data[r * decay!.shape[2]! + h * w + (w === 1 ? 0 : i)]!))));
          }
          const u = Array.from({ length: dv }, (_, j) => {
            const vj = v.data[(r * hkv + h) * dv + j]!;
            if (!rule.endsWith('delta')) return vj;
            const got = kv.reduce((a, ki, i) => a + ki * S[i]![j]!, 0);
            return beta!.data[r * beta!.shape[2]! + (beta!.shape[2] === 1 ? 0 : h)]! * (vj - got);
          });
          S.forEach((rowS, i) => rowS.forEach((_, j) => (rowS[j]! += kv[i]! * u[j]!)));
          for (let g = 0; g < hq / hkv; g++) {
            const qh = h * (hq / hkv) + g;
            for (let j = 0; j < dv; j++) y[(r * hq + qh) * dv + j] = S.reduce((a, rowS, i) => a + q.data[(r * hq + qh) * dk + i]! * rowS[j]!, 0) / Math.sqrt(dk);
          }
        }
        state.push(...S.flat());
      }
    return { y, state };
  }

  it('every update rule, per-key and per-head decay, per-head and shared beta, grouped heads, a past state', () => {
    const [B, T, hq, hkv, dk, dv] = [2, 5, 4, 2, 3, 5];
    const q = rand([B, T, hq * dk], 60);
    const k = rand([B, T, hkv * dk], 61);
    const v = rand([B, T, hkv * dv], 62);
    const logDecay = (w: number): Tensor => makeTensor('f32', [B, T, w], (i) => -((i * 0.37) % 1));
    const past = rand([B, hkv, dk, dv], 63);
    const cases: [string, Tensor | undefined, Tensor | undefined, Tensor | undefined][] = [
      ['linear', undefined, undefined, undefined],
      ['gated', logDecay(hkv), undefined, past],
      ['delta', undefined, rand([B, T, 1], 64), undefined],
      ['gated_delta', logDecay(hkv * dk), rand([B, T, hkv], 65), past],
    ];
    for (const [rule, decay, beta, p] of cases) {
      const out = run('LinearAttention', 27, [['query', q], ['key', k], ['value', v], ['past_state', p], ['decay', decay], ['beta', beta]], ['output', 'present_state'], {
        q_num_heads: attrInt(hq),
        kv_num_heads: attrInt(hkv),
        update_rule: attrString(rule),
      });
      const want = reference(q, k, v, hq, hkv, rule, decay, beta, p);
      expectClose(out.output!.data, want.y);
      expectClose(out.present_state!.data, want.state);
    }
  });

  it('refuses a rule whose operand is missing', () => {
    const x = rand([1, 2, 4], 66);
    expect(() => run('LinearAttention', 27, [['query', x], ['key', x], ['value', x]], ['output'], { q_num_heads: attrInt(2), kv_num_heads: attrInt(2) })).toThrow(/'gated_delta' needs the decay input/);
  });
});
