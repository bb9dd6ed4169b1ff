// Ops outside the default ONNX domain: ai.onnx.preview.training's Adagrad, Adam and Momentum (several tensors per
// node, R and T fed at run time, T = 0 and T > 0) and ai.onnx.preview's FlexAttention (grouped heads, score_mod and
// prob_mod graphs imported inline), run with the interpreter against the spec's formulas evaluated here in float64;
// and the routing: other domains refused as before, a preview domain the model does not import, an unknown op or
// version of a preview domain, and bad nodes.
import { describe, expect, it } from 'vitest';
import { type Tensor, interpret, makeTensor } from '../../ir/index.js';
import { OnnxImportError, OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { MAX_OPSET, MIN_OPSET } from '../../ir/import/onnx/rule.js';
import { DT, attrFloat, attrInt, attrString, encodeModel, f32Tensor, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';

type Obj = Record<string, unknown>;
const TRAINING = { domain: 'ai.onnx.preview.training', version: 1 };
const PREVIEW = { domain: 'ai.onnx.preview', version: 1 };

const values = (shape: number[], seed: number): Tensor => makeTensor('f32', shape, (i) => Math.sin(i * 1.3 + seed * 2.1) * 1.5);
const f32Round = (x: number): number => Math.fround(x);

function expectClose(got: Tensor | undefined, want: number[], what: string): void {
  expect(got, what).toBeDefined();
  expect(got!.data.length, what).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got!.data[i]! - w), `${what}[${i}]: got ${got!.data[i]}, want ${w}`).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(w))));
}

function expectError(bytes: Uint8Array, kind: new (...args: never[]) => OnnxImportError, pattern: RegExp): OnnxImportError {
  try {
    importOnnx(bytes, { file: 'm.onnx' });
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    expect((e as Error).message).toMatch(pattern);
    return e as OnnxImportError;
  }
  throw new Error('expected the import to fail');
}

// --- optimizers -----------------------------------------------------------------------------------------

const SHAPES = [[3], [2, 2]];
/** Input list names of an optimizer node: X, G, then the state lists, one entry per tensor. */
const LISTS: Record<string, string[]> = { Adagrad: ['X', 'G', 'H'], Momentum: ['X', 'G', 'V'], Adam: ['X', 'G', 'V', 'H'] };

interface Step {
  readonly r: number;
  readonly t: number;
  /** Per tensor, the list values by list name. */
  readonly tensors: Record<string, Tensor>[];
}

function optimizerModel(op: string, attrs: Record<string, Obj>, outputs: string[], imports: Obj[] = [TRAINING], domain = TRAINING.domain): Uint8Array {
  const lists = LISTS[op]!;
  const ins = lists.flatMap((l) => SHAPES.map((_, j) => `${l}${j}`));
  return encodeModel(
    model({
      opset: 17,
      extraImports: imports,
      nodes: [node(op, ['R', 'T', ...ins], outputs, attrs, { name: 'step', domain })],
      inputs: [valueInfo('R', DT.FLOAT, []), valueInfo('T', DT.INT64, []), ...lists.flatMap((l) => SHAPES.map((s, j) => valueInfo(`${l}${j}`, DT.FLOAT, s)))],
      outputs: outputs.filter((o) => o).map((o) => valueInfo(o, DT.FLOAT)),
    }),
  );
}

function stepInputs(op: string, seed: number): Step['tensors'] {
  return SHAPES.map((s, j) => Object.fromEntries(LISTS[op]!.map((l, k) => [l, l === 'H' ? makeTensor('f32', s, (i) => 0.2 + ((i * 7 + j + k) % 5) * 0.3) : values(s, seed + 10 * j + k)])));
}

function runStep(op: string, attrs: Record<string, Obj>, outputs: string[], s: Step): Record<string, Tensor> {
  const { graph } = importOnnx(optimizerModel(op, attrs, outputs));
  const inputs: Record<string, Tensor> = { R: makeTensor('f32', [], [s.r]), T: makeTensor('i32', [], [s.t]) };
  s.tensors.forEach((t, j) => Object.entries(t).forEach(([l, v]) => (inputs[`${l}${j}`] = v)));
  return interpret(graph, inputs);
}

/** The spec's pseudo code, element by element in float64, for one tensor: its new X and state lists. */
function reference(op: string, a: Record<string, number>, r: number, t: number, x: Tensor, g: Tensor, s1: Tensor, s2?: Tensor): number[][] {
  const out: number[][] = [[], [], []];
  for (let i = 0; i < x.data.length; i++) {
    const gr = a.norm_coefficient! * x.data[i]! + g.data[i]!;
    if (op === 'Adagrad') {
      const rate = r / (1 + t * a.decay_factor!);
      const h = s1.data[i]! + gr * gr;
      out[0]!.push(x.data[i]! - (rate * gr) / (Math.sqrt(h) + a.epsilon!));
      out[1]!.push(h);
    } else if (op === 'Momentum') {
      const v = a.alpha! * s1.data[i]! + (t > 0 ? a.beta! : 1) * gr;
      out[0]!.push(x.data[i]! - r * (a.nesterov ? gr + a.alpha! * v : v));
      out[1]!.push(v);
    } else {
      const v = a.alpha! * s1.data[i]! + (1 - a.alpha!) * gr;
      const h = a.beta! * s2!.data[i]! + (1 - a.beta!) * gr * gr;
      const rate = t > 0 ? (r * Math.sqrt(1 - a.beta! ** t)) / (1 - a.alpha! ** t) : r;
      out[0]!.push((1 - a.norm_coefficient_post!) * (x.data[i]! - (rate * v) / (Math.sqrt(h) + a.epsilon!)));
      out[1]!.push(v);
      out[2]!.push(h);
    }
  }
  return out;
}

/** Run a step and compare every output with the reference; `a` holds the attribute values in effect. */
function checkStep(op: string, attrs: Record<string, Obj>, a: Record<string, number>, r: number, t: number, seed: number): void {
  const lists = LISTS[op]!;
  const outNames = lists.filter((l) => l !== 'G').flatMap((l) => SHAPES.map((_, j) => `${l}${j}_new`));
  const tensors = stepInputs(op, seed);
  const got = runStep(op, attrs, outNames, { r, t, tensors });
  tensors.forEach((tj, j) => {
    const want = reference(op, a, f32Round(r), t, tj.X!, tj.G!, tj[lists[2]!]!, tj[lists[3] ?? ''] as Tensor | undefined);
    lists.filter((l) => l !== 'G').forEach((l, k) => expectClose(got[`${l}${j}_new`], want[k]!, `${op} T=${t} ${l}${j}_new`));
  });
}

describe('ai.onnx.preview.training optimizers', () => {
  it('Adagrad updates every tensor with the decayed rate, at T = 0 and T > 0', () => {
    const attrs = { decay_factor: attrFloat(0.25), epsilon: attrFloat(1e-3), norm_coefficient: attrFloat(0.125) };
    const a = { decay_factor: 0.25, epsilon: f32Round(1e-3), norm_coefficient: 0.125 };
    checkStep('Adagrad', attrs, a, 0.5, 0, 1);
    checkStep('Adagrad', attrs, a, 0.5, 3, 2);
    // Spec defaults: epsilon 1e-6, no decay, no regularization.
    checkStep('Adagrad', {}, { decay_factor: 0, epsilon: f32Round(1e-6), norm_coefficient: 0 }, 0.1, 4, 3);
  });

  it('Momentum standard and nesterov: the gradient weighs 1 on the first update, beta after', () => {
    for (const mode of ['standard', 'nesterov']) {
      const attrs = { alpha: attrFloat(0.75), beta: attrFloat(0.5), norm_coefficient: attrFloat(0.0625), mode: attrString(mode) };
      const a = { alpha: 0.75, beta: 0.5, norm_coefficient: 0.0625, nesterov: mode === 'nesterov' ? 1 : 0 };
      checkStep('Momentum', attrs, a, 0.25, 0, 4);
      checkStep('Momentum', attrs, a, 0.25, 7, 5);
    }
  });

  it('Adam with and without bias correction (T = 0), post-update decay, and the spec defaults', () => {
    const attrs = { alpha: attrFloat(0.75), beta: attrFloat(0.875), epsilon: attrFloat(0.01), norm_coefficient: attrFloat(0.125), norm_coefficient_post: attrFloat(0.0625) };
    const a = { alpha: 0.75, beta: 0.875, epsilon: f32Round(0.01), norm_coefficient: 0.125, norm_coefficient_post: 0.0625 };
    checkStep('Adam', attrs, a, 0.5, 0, 6);
    checkStep('Adam', attrs, a, 0.5, 3, 7);
    checkStep('Adam', {}, { alpha: f32Round(0.9), beta: f32Round(0.999), epsilon: f32Round(1e-6), norm_coefficient: 0, norm_coefficient_post: 0 }, 0.01, 10, 8);
  });

  it('computes only the outputs the node names (state outputs may be left off)', () => {
    const tensors = stepInputs('Adagrad', 9);
    const got = runStep('Adagrad', {}, ['X0_new', 'X1_new'], { r: 0.5, t: 1, tensors });
    expect(Object.keys(got).sort()).toEqual(['X0_new', 'X1_new']);
    const want = reference('Adagrad', { decay_factor: 0, epsilon: f32Round(1e-6), norm_coefficient: 0 }, 0.5, 1, tensors[1]!.X!, tensors[1]!.G!, tensors[1]!.H!);
    expectClose(got.X1_new, want[0]!, 'X1_new');
  });

  it('refuses bad nodes with one line naming the node and what to fix', () => {
    const momentum = (mode?: string): Uint8Array =>
      optimizerModel('Momentum', { alpha: attrFloat(0.9), beta: attrFloat(1), norm_coefficient: attrFloat(0), ...(mode ? { mode: attrString(mode) } : {}) }, ['X0_new']);
    expectError(momentum('heavy-ball'), OnnxImportError, /node 'step' \(Momentum.*mode must be 'standard' or 'nesterov', got 'heavy-ball'/);
    expectError(momentum(), OnnxImportError, /Momentum needs attribute 'mode'/);
    const odd = encodeModel(
      model({
        extraImports: [TRAINING],
        nodes: [node('Adagrad', ['R', 'T', 'X0', 'G0'], ['X0_new'], {}, { domain: TRAINING.domain })],
        inputs: [valueInfo('R', DT.FLOAT, []), valueInfo('T', DT.INT64, []), valueInfo('X0', DT.FLOAT, [3]), valueInfo('G0', DT.FLOAT, [3])],
        outputs: [valueInfo('X0_new', DT.FLOAT)],
      }),
    );
    const e = expectError(odd, OnnxImportError, /Adagrad takes R, T and 3 equally long lists of tensors; got 4 inputs/);
    expect(e.message.split('\n')).toHaveLength(1);
  });
});

// --- routing --------------------------------------------------------------------------------------------

describe('domain routing', () => {
  it('refuses the unmapped ops of a mapped domain, and unmapped domains', () => {
    const bytes = encodeModel(
      model({
        extraImports: [{ domain: 'com.microsoft', version: 1 }],
        nodes: [node('FusedMatMul', ['a', 'b'], ['y'], {}, { domain: 'com.microsoft' })],
        inputs: [valueInfo('a', DT.FLOAT, [2, 2]), valueInfo('b', DT.FLOAT, [2, 2])],
        outputs: [valueInfo('y', DT.FLOAT)],
      }),
    );
    const e = expectError(bytes, OnnxUnsupportedError, /./) as OnnxUnsupportedError;
    expect(e.category).toBe('domain');
    expect(e.message).toBe(
      "m.onnx: node (FusedMatMul, opset 1, outputs 'y'): unsupported: op FusedMatMul from domain 'com.microsoft'; of that domain kiln maps only MatMulNBits (rewrite the node with default-domain ops, e.g. export without onnxruntime's fusions)",
    );
  });

  it('needs the preview domain in opset_import, and maps only its known ops and versions', () => {
    const missing = expectError(optimizerModel('Adagrad', {}, ['X0_new'], []), OnnxUnsupportedError, /op Adagrad from domain 'ai.onnx.preview.training' needs the domain's version in the model's opset_import/);
    expect((missing as OnnxUnsupportedError).category).toBe('domain');
    const v2 = expectError(optimizerModel('Adagrad', {}, ['X0_new'], [{ ...TRAINING, version: 2 }]), OnnxUnsupportedError, /Adagrad in domain 'ai.onnx.preview.training' version 2 is not mapped \(kiln maps Adagrad for versions 1-1\)/);
    expect((v2 as OnnxUnsupportedError).category).toBe('opset');
    // Names are per domain: the default domain's Add is no op of the training domain, nor Adam one of ai.onnx.
    expectError(optimizerModel('Adam', {}, ['X0_new'], [PREVIEW], PREVIEW.domain), OnnxUnsupportedError, /op Adam from domain 'ai.onnx.preview'; of that domain kiln maps only FlexAttention/);
    expectError(optimizerModel('Adam', {}, ['X0_new'], [], ''), OnnxUnsupportedError, /op Adam \(opset 17\) has no mapping/);
  });
});

// --- FlexAttention --------------------------------------------------------------------------------------

const graphAttr = (g: Obj): Obj => ({ type: 5, g });
const modGraph = (name: string, op: string, constant: Obj, attrs: Record<string, Obj> = {}): Obj => ({
  name,
  node: [node(op, ['x', 'c'], ['x_out'], attrs)],
  input: [valueInfo('x', DT.FLOAT, ['B', 'H', 'L', 'S'])],
  output: [valueInfo('x_out', DT.FLOAT, ['B', 'H', 'L', 'S'])],
  initializer: [constant],
});

/** FlexAttention per the spec in float64: grouped heads, score bias added per key, probabilities scaled. */
function flexReference(q: Tensor, k: Tensor, v: Tensor, scale: number, bias: number[], probScale: number): number[] {
  const [b, hq, l, e] = q.shape as number[];
  const [, hkv, s] = k.shape as number[];
  const dv = v.shape[3] as number;
  const out: number[] = [];
  for (let n = 0; n < b!; n++)
    for (let h = 0; h < hq!; h++) {
      const kh = Math.floor(h / (hq! / hkv!));
      for (let i = 0; i < l!; i++) {
        const scores = Array.from({ length: s! }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < e!; d++) dot += q.data[((n * hq! + h) * l! + i) * e! + d]! * k.data[((n * hkv! + kh) * s! + j) * e! + d]!;
          return dot * scale + bias[j]!;
        });
        const max = Math.max(...scores);
        const exps = scores.map((x) => Math.exp(x - max));
        const sum = exps.reduce((x, y) => x + y, 0);
        for (let d = 0; d < dv; d++) out.push(exps.reduce((acc, p, j) => acc + (p / sum) * probScale * v.data[((n * hkv! + kh) * s! + j) * dv + d]!, 0));
      }
    }
  return out;
}

describe('ai.onnx.preview FlexAttention', () => {
  const q = values([2, 4, 3, 5], 11);
  const k = values([2, 2, 4, 5], 12);
  const v = values([2, 2, 4, 6], 13);
  const bias = [0.5, -1, 0.25, 2];
  const attrs = {
    scale: attrFloat(0.375),
    score_mod: graphAttr(modGraph('score_mod', 'Add', f32Tensor('c', [4], bias))),
    prob_mod: graphAttr(modGraph('prob_mod', 'Mul', f32Tensor('c', [], [1.5]))),
  };
  const flexModel = (nodes: Obj[], outputs: string[], extra: Obj[] = []): Uint8Array =>
    encodeModel(
      model({
        opset: 26,
        extraImports: [PREVIEW],
        nodes,
        inputs: [valueInfo('Q', DT.FLOAT, q.shape as number[]), valueInfo('K', DT.FLOAT, k.shape as number[]), valueInfo('V', DT.FLOAT, v.shape as number[]), ...extra],
        outputs: outputs.map((o) => valueInfo(o, DT.FLOAT)),
      }),
    );
  const flex = (out: string, a: Record<string, Obj>, inputs = ['Q', 'K', 'V']): Obj => node('FlexAttention', inputs, [out], a, { domain: PREVIEW.domain, name: out });

  it('grouped heads with score_mod and prob_mod graphs, and two nodes sharing the same graphs', () => {
    const { graph } = importOnnx(flexModel([flex('Y', attrs), flex('Y2', { score_mod: attrs.score_mod })], ['Y', 'Y2']));
    const got = interpret(graph, { Q: q, K: k, V: v });
    expectClose(got.Y, flexReference(q, k, v, f32Round(0.375), bias, 1.5), 'Y');
    expectClose(got.Y2, flexReference(q, k, v, 1 / Math.sqrt(5), bias, 1), 'Y2');
  });

  it('refuses a modifier that changes the type, and inputs it cannot take, with one line', () => {
    const toHalf: Obj = { name: 'score_mod', node: [node('Cast', ['x'], ['x_out'], { to: attrInt(DT.FLOAT16) })], input: [valueInfo('x', DT.FLOAT)], output: [valueInfo('x_out', DT.FLOAT16)], initializer: [] };
    const e = expectError(flexModel([flex('Y', { score_mod: graphAttr(toHalf) })], ['Y']), OnnxImportError, /node 'Y'.*FlexAttention score_mod must return its input's type f32\[2,4,3,4\], but returns f16\[2,4,3,4\]/);
    expect(e.message.split('\n')).toHaveLength(1);
    expectError(flexModel([flex('Y', {}, ['Q', 'K3', 'V3'])], ['Y'], [valueInfo('K3', DT.FLOAT, [2, 3, 4, 5]), valueInfo('V3', DT.FLOAT, [2, 3, 4, 6])]), OnnxImportError, /4 query heads cannot share 3 kv heads evenly/);
    expectError(flexModel([flex('Y', { window: attrInt(2) })], ['Y']), OnnxUnsupportedError, /FlexAttention attribute 'window'/);
  });
});
