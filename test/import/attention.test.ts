// ONNX Attention (23, 24) imported from hand-built models and run through the reference interpreter, against an
// independent float64 implementation of the spec written here index by index: 3-D and 4-D inputs, grouped-query
// heads, past key/value with present outputs, bool and float masks of rank 2-4 (short masks padded with -inf),
// causal masks offset by the past or by nonpad_kv_seqlen, scale, softcap, every qk_matmul_output_mode, fully
// masked rows (zeros, not NaN), different v head sizes and half-precision inputs. Bad nodes give one-line errors.
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { interpret } from '../../ir/interp.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import { DT, attrFloat, attrInt, encodeModel, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';
import { seededRandom } from '../../runtime/random.js';

type Obj = Record<string, unknown>;
const ONNX_TYPE: Record<string, number> = { f32: DT.FLOAT, f16: DT.FLOAT16, bool: DT.BOOL, i32: DT.INT64 };
const NAMES = ['Q', 'K', 'V', 'attn_mask', 'past_key', 'past_value', 'nonpad_kv_seqlen'];
const OUTS = ['Y', 'present_key', 'present_value', 'qk_matmul_output'];

interface Case {
  readonly q: Tensor;
  readonly k: Tensor;
  readonly v: Tensor;
  readonly mask?: Tensor;
  readonly pastK?: Tensor;
  readonly pastV?: Tensor;
  /** int64 in the model; fed as i32 (kiln narrows int64 inputs). */
  readonly nonpad?: Tensor;
  readonly attrs?: Record<string, Obj>;
}

const rand = (dtype: 'f32' | 'f16', shape: number[], seed: number): Tensor => {
  const r = seededRandom(seed);
  return makeTensor(dtype, shape, () => r() * 4 - 2);
};
const boolMask = (shape: number[], seed: number): Tensor => {
  const r = seededRandom(seed);
  return makeTensor('bool', shape, () => (r() < 0.7 ? 1 : 0));
};

/** Import a one-node Attention model and interpret it; every output the node names. */
function runOnnx(c: Case, opset: number, outputs: number): Record<string, Tensor> {
  const given = [c.q, c.k, c.v, c.mask, c.pastK, c.pastV, c.nonpad];
  const last = given.reduce((l, t, i) => (t ? i : l), 0);
  const feeds: Record<string, Tensor> = {};
  given.slice(0, last + 1).forEach((t, i) => t && (feeds[NAMES[i]!] = t));
  const inputs = given.slice(0, last + 1).map((t, i) => (t ? NAMES[i]! : ''));
  const outs = OUTS.slice(0, outputs);
  const bytes = encodeModel(
    model({
      opset,
      nodes: [node('Attention', inputs, outs, c.attrs ?? {})],
      inputs: Object.entries(feeds).map(([n, t]) => valueInfo(n, ONNX_TYPE[t.dtype]!, t.shape)),
      outputs: outs.map((o) => valueInfo(o, ONNX_TYPE[c.q.dtype]!)),
    }),
  );
  return interpret(importOnnx(bytes).graph, feeds);
}

/** [B, H, L, E] values of a 3-D [B, L, H*E] or 4-D input. */
function heads(t: Tensor, h?: number): { d: number[]; x: Float64Array } {
  if (t.shape.length === 4) return { d: [...t.shape], x: Float64Array.from(t.data) };
  const [B, L, HE] = t.shape as [number, number, number];
  const E = HE / h!;
  const x = new Float64Array(B * HE * L);
  for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) for (let i = 0; i < HE; i++) x[((b * h! + Math.floor(i / E)) * L + l) * E + (i % E)] = t.data[(b * L + l) * HE + i]!;
  return { d: [B, h!, L, E], x };
}

/** Keys [B, H, S, E] with the past prepended. */
function withPast(cur: { d: number[]; x: Float64Array }, past?: Tensor): { d: number[]; x: Float64Array } {
  if (!past) return cur;
  const [B, H, P, E] = past.shape as number[];
  const S = P! + cur.d[2]!;
  const x = new Float64Array(B! * H! * S * E!);
  for (let bh = 0; bh < B! * H!; bh++)
    for (let s = 0; s < S; s++)
      for (let e = 0; e < E!; e++) x[(bh * S + s) * E! + e] = s < P! ? past.data[(bh * P! + s) * E! + e]! : cur.x[(bh * cur.d[2]! + s - P!) * E! + e]!;
  return { d: [B!, H!, S, E!], x };
}

/** The spec, element by element in float64: Y [B, Hq, L, Ev] and the four qk stages [B, Hq, L, S]. */
function reference(c: Case, opset: number): { y: Float64Array; stages: Float64Array[]; keys: number } {
  const int = (n: string, d = 0): number => ((c.attrs?.[n] as { i?: number } | undefined)?.i ?? d);
  const q = heads(c.q, int('q_num_heads'));
  const k = withPast(heads(c.k, int('kv_num_heads')), c.pastK);
  const v = withPast(heads(c.v, int('kv_num_heads')), c.pastV);
  const [B, Hq, L, E] = q.d as [number, number, number, number];
  const [, Hkv, S] = k.d as [number, number, number];
  const Ev = v.d[3]!;
  const scale = (c.attrs?.scale as { f?: number } | undefined)?.f ?? 1 / Math.sqrt(E);
  const softcap = (c.attrs?.softcap as { f?: number } | undefined)?.f ?? 0;
  const past = c.pastK ? c.pastK.shape[2]! : 0;
  const y = new Float64Array(B * Hq * L * Ev);
  const stages = [0, 1, 2, 3].map(() => new Float64Array(B * Hq * L * S));
  const maskAt = (b: number, h: number, i: number, j: number): number => {
    const m = c.mask;
    if (!m) return 0;
    const dims = [...Array(4 - m.shape.length).fill(1), ...m.shape] as number[];
    if (j >= dims[3]!) return -Infinity;
    const at = [b, h, i, j].map((x, a) => (dims[a] === 1 ? 0 : x));
    const val = m.data[((at[0]! * dims[1]! + at[1]!) * dims[2]! + at[2]!) * dims[3]! + at[3]!]!;
    return m.dtype === 'bool' ? (val ? 0 : -Infinity) : val;
  };
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++)
      for (let i = 0; i < L; i++) {
        const kh = Math.floor(h / (Hq / Hkv));
        const row = ((b * Hq + h) * L + i) * S;
        const n = c.nonpad && opset >= 24 ? c.nonpad.data[b]! : undefined;
        let allMasked = true;
        const s: number[] = [];
        for (let j = 0; j < S; j++) {
          let dot = 0;
          for (let e = 0; e < E; e++) dot += q.x[((b * Hq + h) * L + i) * E + e]! * k.x[((b * Hkv + kh) * S + j) * E + e]!;
          stages[0]![row + j] = dot * scale;
          const capped = softcap > 0 ? softcap * Math.tanh((dot * scale) / softcap) : dot * scale;
          stages[1]![row + j] = capped;
          const offset = n === undefined ? past : n - L;
          const [left, right] = [int('left_window_size', -1), int('right_window_size', -1)];
          const outside = (left >= 0 && j < i + offset - left) || (right >= 0 && j > i + offset + right);
          const bias = maskAt(b, h, i, j) + (int('is_causal') && j > i + offset ? -Infinity : 0) + (n !== undefined && j >= n ? -Infinity : 0) + (outside ? -Infinity : 0);
          if (bias !== -Infinity) allMasked = false;
          stages[2]![row + j] = s[j] = capped + bias;
        }
        const max = Math.max(...s);
        const sum = s.reduce((a, x) => a + Math.exp(x - max), 0);
        for (let j = 0; j < S; j++) stages[3]![row + j] = allMasked ? 0 : Math.exp(s[j]! - max) / sum;
        for (let e = 0; e < Ev; e++) {
          let acc = 0;
          for (let j = 0; j < S; j++) acc += stages[3]![row + j]! * v.x[((b * Hkv + kh) * S + j) * Ev + e]!;
          y[((b * Hq + h) * L + i) * Ev + e] = acc;
        }
      }
  return { y, stages, keys: S };
}

/** Y back in the input's layout (3-D inputs give [B, L, Hq*Ev]). */
function layoutY(c: Case, y: Float64Array, shape: readonly number[]): number[] {
  if (c.q.shape.length === 4) return [...y];
  const [B, L, HEv] = shape as [number, number, number];
  const Hq = (c.attrs!.q_num_heads as { i: number }).i;
  const Ev = HEv / Hq;
  return Array.from({ length: B * L * HEv }, (_, f) => {
    const [b, l, i] = [Math.floor(f / (L * HEv)), Math.floor(f / HEv) % L, f % HEv];
    return y[((b * Hq + Math.floor(i / Ev)) * L + l) * Ev + (i % Ev)]!;
  });
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (Math.abs(g - w) > tol + tol * Math.abs(w)) expect.fail(`element ${i}: got ${g}, want ${w}`);
  }
}

function check(c: Case, opset = 23, outputs = 1, tol = 1e-4): void {
  const got = runOnnx(c, opset, outputs);
  const want = reference(c, opset);
  expectClose(got.Y!.data, layoutY(c, want.y, got.Y!.shape), tol);
  if (outputs > 3) expectClose(got.qk_matmul_output!.data, want.stages[(c.attrs?.qk_matmul_output_mode as { i?: number })?.i ?? 0]!, tol);
  if (outputs > 1) expect(got.present_key!.shape[2]).toBe(want.keys);
}

const heads3 = (qh: number, kvh: number): Record<string, Obj> => ({ q_num_heads: attrInt(qh), kv_num_heads: attrInt(kvh) });

describe('ONNX Attention through the interpreter', () => {
  it('4-D, plain, scaled and softcapped, with a different v head size', () => {
    const base = { q: rand('f32', [2, 3, 4, 8], 1), k: rand('f32', [2, 3, 6, 8], 2), v: rand('f32', [2, 3, 6, 5], 3) };
    check(base);
    check({ ...base, attrs: { scale: attrFloat(0.3) } });
    check({ ...base, attrs: { softcap: attrFloat(1.5) } });
  });

  it('3-D inputs split into heads, grouped-query heads, causal', () => {
    const c = { q: rand('f32', [2, 5, 6 * 4], 4), k: rand('f32', [2, 7, 2 * 4], 5), v: rand('f32', [2, 7, 2 * 3], 6) };
    check({ ...c, attrs: heads3(6, 2) });
    check({ ...c, attrs: { ...heads3(6, 2), is_causal: attrInt(1) } });
    check({ q: rand('f32', [1, 9, 3, 4], 7), k: rand('f32', [1, 3, 5, 4], 8), v: rand('f32', [1, 3, 5, 4], 9), attrs: { is_causal: attrInt(1) } });
  });

  it('past key/value: present outputs, causal offset by the past, masks over past + new keys', () => {
    const c = { q: rand('f32', [2, 4, 3, 8], 10), k: rand('f32', [2, 2, 3, 8], 11), v: rand('f32', [2, 2, 3, 8], 12), pastK: rand('f32', [2, 2, 5, 8], 13), pastV: rand('f32', [2, 2, 5, 8], 14) };
    check({ ...c, attrs: { is_causal: attrInt(1) } }, 23, 3);
    check({ ...c, mask: rand('f32', [2, 1, 3, 8], 15) }, 24, 3);
    const got = runOnnx(c, 23, 3);
    expect(got.present_key!.shape).toEqual([2, 2, 8, 8]);
    expect([...got.present_value!.data.subarray(0, 8)]).toEqual([...c.pastV.data.subarray(0, 8)]);
  });

  it('bool and float masks of rank 2-4, short masks padded with -inf, fully masked rows give zeros', () => {
    const c = { q: rand('f32', [2, 3, 4, 6], 16), k: rand('f32', [2, 3, 7, 6], 17), v: rand('f32', [2, 3, 7, 6], 18) };
    check({ ...c, mask: boolMask([4, 7], 19) });
    check({ ...c, mask: boolMask([2, 3, 4, 7], 20) });
    check({ ...c, mask: rand('f32', [3, 4, 7], 21) });
    check({ ...c, mask: rand('f32', [4, 5], 22) });
    const empty = makeTensor('bool', [4, 7], (i) => (i < 7 ? 0 : 1)); // row 0 sees nothing
    const got = runOnnx({ ...c, mask: empty }, 23, 1).Y!;
    expect([...got.data.subarray(0, 6)]).toEqual([0, 0, 0, 0, 0, 0]);
    check({ ...c, mask: empty, attrs: { softcap: attrFloat(0.5) } });
  });

  it('each qk_matmul_output_mode gives its stage', () => {
    const c = { q: rand('f32', [1, 2, 3, 4], 23), k: rand('f32', [1, 2, 5, 4], 24), v: rand('f32', [1, 2, 5, 4], 25), mask: rand('f32', [3, 5], 26) };
    for (const mode of [0, 1, 2, 3]) check({ ...c, attrs: { softcap: attrFloat(2), qk_matmul_output_mode: attrInt(mode) } }, 23, 4);
  });

  it('opset 24 nonpad_kv_seqlen: padding keys hidden, causal offset per batch, rows past the end zero', () => {
    const c = { q: rand('f32', [3, 4, 2, 8], 27), k: rand('f32', [3, 2, 6, 8], 28), v: rand('f32', [3, 2, 6, 8], 29), nonpad: makeTensor('i32', [3], [6, 3, 1]) };
    check({ ...c, attrs: { is_causal: attrInt(1) } }, 24);
    check({ ...c, mask: boolMask([3, 1, 2, 6], 30) }, 24);
    check({ ...c, mask: rand('f32', [3, 4, 2, 4], 31), attrs: { is_causal: attrInt(1) } }, 24);
  });

  it('opset 28 sliding windows: left, right and both, with causal, past and nonpad offsets', () => {
    const c = { q: rand('f32', [2, 2, 4, 4], 44), k: rand('f32', [2, 2, 6, 4], 45), v: rand('f32', [2, 2, 6, 4], 46) };
    check({ ...c, attrs: { left_window_size: attrInt(2), is_causal: attrInt(1) } }, 28);
    check({ ...c, attrs: { left_window_size: attrInt(1), right_window_size: attrInt(0) } }, 28);
    check({ ...c, attrs: { right_window_size: attrInt(1) } }, 28);
    check({ ...c, nonpad: makeTensor('i32', [2], [5, 3]), attrs: { left_window_size: attrInt(1), is_causal: attrInt(1) } }, 28);
    const past = { pastK: rand('f32', [2, 2, 3, 4], 47), pastV: rand('f32', [2, 2, 3, 4], 48) };
    check({ ...c, ...past, attrs: { left_window_size: attrInt(3), is_causal: attrInt(1) } }, 28, 3);
    expect(() => runOnnx({ ...c, attrs: { left_window_size: attrInt(2) } }, 24, 1)).toThrow(/\(opset 24\) attribute 'left_window_size' is not one kiln knows/);
  });

  it('f16 inputs are computed in f32 and rounded once; softmax_precision accepted', () => {
    const c = { q: rand('f16', [1, 2, 3, 8], 32), k: rand('f16', [1, 2, 4, 8], 33), v: rand('f16', [1, 2, 4, 8], 34), mask: boolMask([3, 4], 35) };
    check({ ...c, attrs: { softmax_precision: attrInt(DT.FLOAT), qk_matmul_output_mode: attrInt(3) } }, 24, 4, 2e-3);
    expect(runOnnx(c, 23, 1).Y!.dtype).toBe('f16');
  });

  it('bad nodes are refused with one-line errors naming the problem', () => {
    const c = { q: rand('f32', [1, 3, 12], 36), k: rand('f32', [1, 3, 12], 37), v: rand('f32', [1, 3, 12], 38) };
    expect(() => runOnnx(c, 23, 1)).toThrow(/3-D inputs needs attribute q_num_heads/);
    expect(() => runOnnx({ ...c, q: rand('f32', [1, 3, 16], 43), attrs: heads3(4, 3) }, 23, 1)).toThrow(/4 query heads cannot share 3 kv heads/);
    const d = { q: rand('f32', [1, 2, 3, 4], 39), k: rand('f32', [1, 2, 3, 4], 40), v: rand('f32', [1, 2, 3, 4], 41), nonpad: makeTensor('i32', [1], [3]) };
    expect(() => runOnnx(d, 23, 1)).toThrow(/nonpad_kv_seqlen arrived in opset 24/);
    expect(() => runOnnx({ ...d, attrs: { qk_matmul_output_mode: attrInt(7) } }, 24, 4)).toThrow(/qk_matmul_output_mode must be 0..3/);
    expect(() => runOnnx({ ...d, nonpad: undefined, mask: rand('f32', [3, 9], 42) }, 23, 1)).toThrow(/covers 9 keys but there are 3/);
  });
});
