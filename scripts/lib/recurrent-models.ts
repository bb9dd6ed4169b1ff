// Random LSTM/GRU/RNN cases for kiln's tests, checked against onnxruntime's CPU provider: a case (sizes,
// direction, layout, optional inputs, activations, sequence_lens) drawn from a seed, its ONNX model, its data, and
// what onnxruntime computes for it. onnxruntime runs batch-major models (layout 1) not at all, so for those it runs
// the seq-major twin on transposed data and its outputs are transposed back: the oracle stays independent of kiln.
import { makeTensor, type Tensor } from '../../ir/tensor.js';
import { seededRandom } from '../../runtime/random.js';
import { DT, attrFloat, attrFloats, attrInt, attrInts, attrString, encodeModel, model, node, valueInfo } from './onnx-build.js';
import { requireOrt } from './ort.js';

export type RnnOp = 'LSTM' | 'GRU' | 'RNN';
export type RnnOutput = 'Y' | 'Y_h' | 'Y_c';

export interface RnnCase {
  readonly op: RnnOp;
  readonly opset: number;
  readonly seq: number;
  readonly batch: number;
  readonly input: number;
  readonly hidden: number;
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  readonly layout: 0 | 1;
  readonly bias: boolean;
  /** Per batch row; absent: no sequence_lens input. */
  readonly seqLens?: readonly number[];
  /** sequence_lens given at run time (a graph input) rather than as an initializer. */
  readonly lensAtRunTime: boolean;
  /** W, R, B, P as graph inputs rather than initializers. */
  readonly weightsAtRunTime: boolean;
  readonly initialH: boolean;
  readonly initialC: boolean;
  readonly peepholes: boolean;
  readonly inputForget: boolean;
  readonly linearBeforeReset: 0 | 1;
  readonly clip?: number;
  readonly activations?: readonly string[];
  readonly alpha?: readonly number[];
  readonly beta?: readonly number[];
  readonly outputs: readonly RnnOutput[];
  readonly seed: number;
}

const GATES: Record<RnnOp, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const PER_DIRECTION: Record<RnnOp, number> = { LSTM: 3, GRU: 2, RNN: 1 };
export const ACTIVATIONS = ['Relu', 'Tanh', 'Sigmoid', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu', 'Softsign', 'Softplus'];
const TAKES_ALPHA = new Set(['Affine', 'LeakyRelu', 'ThresholdedRelu', 'ScaledTanh', 'HardSigmoid', 'Elu']);
const TAKES_BETA = new Set(['Affine', 'ScaledTanh', 'HardSigmoid']);
const UNBOUNDED = new Set(['Relu', 'Affine', 'LeakyRelu', 'ThresholdedRelu', 'Elu', 'Softplus']);

export const directions = (c: RnnCase): number => (c.direction === 'bidirectional' ? 2 : 1);

/** A case drawn from `seed`; `fix` pins fields (an op, a layout, ...). */
export function randomRnnCase(seed: number, fix: Partial<RnnCase> = {}): RnnCase {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const op = fix.op ?? pick(['LSTM', 'GRU', 'RNN'] as const);
  const opset = fix.opset ?? pick([7, 14, 22]);
  const seq = fix.seq ?? 1 + Math.floor(r() * 6);
  const batch = fix.batch ?? 1 + Math.floor(r() * 4);
  const direction = fix.direction ?? pick(['forward', 'reverse', 'bidirectional'] as const);
  const dirs = direction === 'bidirectional' ? 2 : 1;
  // onnxruntime's RNN reads outside Y for a row of length 0, so its rows are at least 1 long.
  const minLen = op === 'RNN' ? 1 : 0;
  const seqLens = r() < 0.45 ? Array.from({ length: batch }, () => minLen + Math.floor(r() * (seq + 1 - minLen))) : undefined;
  let activations: string[] | undefined;
  let alpha: number[] | undefined;
  let beta: number[] | undefined;
  if (r() < 0.6) {
    // An LSTM/GRU whose gates (f) are unbounded grows geometrically, past where onnxruntime's Softplus, log(1 + e^x),
    // overflows to inf; so random gates stay bounded (tests put every activation in every slot separately).
    const per = PER_DIRECTION[op];
    activations = Array.from({ length: per * dirs }, (_, k) => pick(op !== 'RNN' && k % per === 0 ? ACTIVATIONS.filter((a) => !UNBOUNDED.has(a)) : ACTIVATIONS));
    const value = (lo: number, hi: number): number => Math.round((lo + r() * (hi - lo)) * 1000) / 1000;
    // Every value given, so no default is involved. RNN gets one value per direction, all equal: onnxruntime's
    // RNN indexes the lists by direction where the spec (and kiln) consume them in order, and equal values agree.
    const a = value(0.1, 1);
    const b = value(-0.5, 0.5);
    const count = (set: Set<string>): number => activations!.filter((n) => set.has(n)).length;
    alpha = op === 'RNN' ? Array(dirs).fill(a) : Array.from({ length: count(TAKES_ALPHA) }, () => value(0.1, 1));
    beta = op === 'RNN' ? Array(dirs).fill(b) : Array.from({ length: count(TAKES_BETA) }, () => value(-0.5, 0.5));
  }
  const outs: RnnOutput[] = (['Y', 'Y_h', 'Y_c'] as const).filter((o) => (o !== 'Y_c' || op === 'LSTM') && r() < 0.7);
  return {
    op,
    opset,
    seq,
    batch,
    input: pick([1, 3, 5, 7, 13]),
    hidden: pick([1, 2, 5, 7, 13]),
    direction,
    layout: opset >= 14 && r() < 0.4 ? 1 : 0,
    bias: r() < 0.7,
    ...(seqLens ? { seqLens } : {}),
    lensAtRunTime: r() < 0.5,
    weightsAtRunTime: r() < 0.3,
    initialH: r() < 0.5,
    initialC: op === 'LSTM' && r() < 0.5,
    peepholes: op === 'LSTM' && r() < 0.5,
    inputForget: op === 'LSTM' && r() < 0.25,
    linearBeforeReset: op === 'GRU' && r() < 0.5 ? 1 : 0,
    ...(r() < 0.3 ? { clip: Math.round((0.3 + r() * 2.5) * 100) / 100 } : {}),
    ...(activations ? { activations, alpha: alpha!, beta: beta! } : {}),
    outputs: outs.length ? outs : ['Y'],
    seed,
    ...fix,
  };
}

export type RnnData = Record<'X' | 'W' | 'R' | 'B' | 'sequence_lens' | 'initial_h' | 'initial_c' | 'P', Tensor | undefined>;

/** The case's input values (in its own layout); optional inputs it does not use are undefined. */
export function rnnData(c: RnnCase): RnnData {
  const r = seededRandom(c.seed ^ 0x5bd1e995);
  const dirs = directions(c);
  const g = GATES[c.op] * c.hidden;
  const f32 = (shape: number[], scale: number): Tensor => makeTensor('f32', shape, () => Math.fround((r() * 2 - 1) * scale));
  const state = (): Tensor => f32(c.layout ? [c.batch, dirs, c.hidden] : [dirs, c.batch, c.hidden], 1);
  // Unbounded activations in the gates make the recurrence grow geometrically, and float32 rounding (and
  // onnxruntime's overflowing Softplus) with it; smaller weights keep such cases well conditioned.
  const gain = c.activations?.some((a) => UNBOUNDED.has(a)) ? 0.6 : 1.2;
  return {
    X: f32(c.layout ? [c.batch, c.seq, c.input] : [c.seq, c.batch, c.input], 2),
    W: f32([dirs, g, c.input], gain / Math.sqrt(c.input)),
    R: f32([dirs, g, c.hidden], gain / Math.sqrt(c.hidden)),
    B: c.bias ? f32([dirs, 2 * g], 0.5) : undefined,
    sequence_lens: c.seqLens ? makeTensor('i32', [c.batch], c.seqLens) : undefined,
    initial_h: c.initialH ? state() : undefined,
    initial_c: c.initialC ? state() : undefined,
    P: c.peepholes ? f32([dirs, 3 * c.hidden], 0.8) : undefined,
  };
}

const INPUT_ORDER = ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'] as const;

/** Which inputs are graph inputs (the rest are initializers). */
function atRunTime(c: RnnCase, name: (typeof INPUT_ORDER)[number]): boolean {
  if (name === 'X' || name === 'initial_h' || name === 'initial_c') return true;
  if (name === 'sequence_lens') return c.lensAtRunTime;
  return c.weightsAtRunTime;
}

const onnxOf = (t: Tensor): number => (t.dtype === 'i32' ? DT.INT32 : DT.FLOAT);
const protoOf = (name: string, t: Tensor): Record<string, unknown> =>
  t.dtype === 'i32'
    ? { name, data_type: DT.INT32, dims: [...t.shape], int32_data: [...t.data] }
    : { name, data_type: DT.FLOAT, dims: [...t.shape], float_data: [...t.data] };

/** Names (dim_param) for the sequence and batch dims of the graph inputs, as models exported with dynamic axes have. */
export interface RnnDimNames {
  readonly seq?: string;
  readonly batch?: string;
}

/** Input `n`'s declared dims in `layout`, with the named dims as dim_params. */
function declaredDims(n: (typeof INPUT_ORDER)[number], shape: readonly number[], layout: 0 | 1, names: RnnDimNames): (number | string)[] {
  const dims: (number | string)[] = [...shape];
  const name = (axis: number, to: string | undefined): void => {
    if (to !== undefined) dims[axis] = to;
  };
  if (n === 'X') {
    name(layout, names.seq);
    name(1 - layout, names.batch);
  } else if (n === 'initial_h' || n === 'initial_c') name(layout ? 0 : 1, names.batch);
  else if (n === 'sequence_lens') name(0, names.batch);
  return dims;
}

/**
 * The case as a one-node ONNX model; `layout` overrides the case's (onnxruntime's seq-major twin); `names` makes
 * the sequence and batch dims of the graph inputs symbolic.
 */
export function rnnModel(c: RnnCase, data: RnnData, layout: 0 | 1 = c.layout, names: RnnDimNames = {}): Uint8Array {
  const present = INPUT_ORDER.filter((n) => data[n] !== undefined);
  const nodeInputs = INPUT_ORDER.map((n) => (data[n] ? n : ''));
  while (nodeInputs[nodeInputs.length - 1] === '') nodeInputs.pop();
  const outputs = (['Y', 'Y_h', 'Y_c'] as const).slice(0, c.op === 'LSTM' ? 3 : 2).map((o) => (c.outputs.includes(o) ? o : ''));
  const attrs: Record<string, Record<string, unknown>> = { hidden_size: attrInt(c.hidden), direction: attrString(c.direction) };
  if (c.opset >= 14) attrs.layout = attrInt(layout);
  if (c.clip !== undefined) attrs.clip = attrFloat(c.clip);
  if (c.op === 'LSTM' && c.inputForget) attrs.input_forget = attrInt(1);
  if (c.op === 'GRU') attrs.linear_before_reset = attrInt(c.linearBeforeReset);
  if (c.activations) attrs.activations = { type: 8, strings: c.activations.map((s) => new TextEncoder().encode(s)) };
  if (c.alpha?.length) attrs.activation_alpha = attrFloats(c.alpha);
  if (c.beta?.length) attrs.activation_beta = attrFloats(c.beta);
  const reshaped = layout === c.layout ? data : toSeqMajor(data);
  return encodeModel(
    model({
      opset: c.opset,
      nodes: [node(c.op, nodeInputs, outputs, attrs, { name: `${c.op.toLowerCase()}_node` })],
      inputs: present.filter((n) => atRunTime(c, n)).map((n) => valueInfo(n, onnxOf(reshaped[n]!), declaredDims(n, reshaped[n]!.shape, layout, names))),
      outputs: c.outputs.map((o) => valueInfo(o, DT.FLOAT)),
      initializers: present.filter((n) => !atRunTime(c, n)).map((n) => protoOf(n, reshaped[n]!)),
    }),
  );
}

/** The graph inputs of the case's model, by name. */
export function rnnInputs(c: RnnCase, data: RnnData): Record<string, Tensor> {
  return Object.fromEntries(INPUT_ORDER.filter((n) => data[n] && atRunTime(c, n)).map((n) => [n, data[n]!]));
}

/** Swap axes 0 and 1 (batch-major <-> seq-major X, states, Y_h and Y_c), or Y's [T,D,B,H] to [B,T,D,H]. */
function swap(t: Tensor): Tensor {
  const s = t.shape;
  const perm = s.length === 4 ? [2, 0, 1, 3] : [1, 0, 2];
  const shape = perm.map((p) => s[p]!);
  const inStrides = s.map((_, i) => s.slice(i + 1).reduce((a, b) => a * b, 1));
  return makeTensor(t.dtype, shape, (i) => {
    let rest = i;
    let off = 0;
    for (let k = shape.length - 1; k >= 0; k--) {
      off += (rest % shape[k]!) * inStrides[perm[k]!]!;
      rest = Math.floor(rest / shape[k]!);
    }
    return t.data[off]!;
  });
}

function toSeqMajor(data: RnnData): RnnData {
  const out = { ...data };
  for (const k of ['X', 'initial_h', 'initial_c'] as const) if (data[k]) out[k] = swap(data[k]!);
  return out;
}

/** What onnxruntime's CPU provider computes for the case, in the case's layout. */
export async function ortOutputs(c: RnnCase, data: RnnData): Promise<Record<string, Tensor>> {
  const ort = requireOrt();
  const session = await ort.InferenceSession.create(rnnModel(c, data, 0), { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const feeds = Object.fromEntries(
    Object.entries(rnnInputs(c, c.layout ? toSeqMajor(data) : data)).map(([k, t]) => [
      k,
      t.dtype === 'i32' ? new ort.Tensor('int32', Int32Array.from(t.data), [...t.shape]) : new ort.Tensor('float32', Float32Array.from(t.data), [...t.shape]),
    ]),
  );
  const out = await session.run(feeds);
  await session.release();
  return Object.fromEntries(
    c.outputs.map((o) => {
      const t = makeTensor('f32', out[o]!.dims as number[], out[o]!.data as Float32Array);
      // Y goes [T,D,B,H] -> [B,T,D,H]; Y_h/Y_c [D,B,H] -> [B,D,H].
      return [o, c.layout ? swap(t) : t];
    }),
  );
}

/** A one-line description of the worst mismatch beyond |got - want| <= atol + rtol*|want| (NaN matching only NaN), or undefined. */
export function mismatch(got: Tensor | undefined, want: Tensor, rtol: number, atol: number): string | undefined {
  if (!got) return 'missing';
  if (got.shape.join(',') !== want.shape.join(',')) return `shape [${got.shape.join(',')}] vs [${want.shape.join(',')}]`;
  let worst = -1;
  let excess = 0;
  for (let i = 0; i < want.data.length; i++) {
    const [g, w] = [got.data[i]!, want.data[i]!];
    if (Number.isNaN(g) && Number.isNaN(w)) continue;
    const e = g === w ? 0 : Number.isNaN(g) || Number.isNaN(w) ? Infinity : Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (e > excess) [worst, excess] = [i, e];
  }
  return worst < 0 ? undefined : `element ${worst} of ${want.data.length}: got ${got.data[worst]}, want ${want.data[worst]}`;
}

/**
 * A stack of recurrent layers as exporters write it (PyTorch's nn.LSTM/GRU with num_layers > 1): the initial
 * states one graph input [layers * dirs, batch, hidden] that each layer Slices its block from, a Transpose and
 * Reshape turning a layer's Y into the next layer's X (its directions side by side), and the final states of all
 * layers Concatenated. Batch and sequence may be names (dim_param), as in models exported with dynamic axes.
 */
export interface RnnStack {
  readonly op: RnnOp;
  readonly opset: number;
  readonly layers: number;
  readonly input: number;
  readonly hidden: number;
  readonly direction: 'forward' | 'reverse' | 'bidirectional';
  readonly layout: 0 | 1;
  readonly seq: number | string;
  readonly batch: number | string;
  /** initial_h (and initial_c for LSTM) as graph inputs; absent: the layers start from zeros. */
  readonly initialStates: boolean;
  /** sequence_lens as a graph input [batch], shared by every layer. */
  readonly seqLens: boolean;
  readonly seed: number;
}

/** The stack as an ONNX model with inputs X, [h0, c0], [lens] and outputs Y (last layer), Y_h, [Y_c] (all layers). */
export function rnnStackModel(s: RnnStack): Uint8Array {
  const r = seededRandom(s.seed);
  const dirs = s.direction === 'bidirectional' ? 2 : 1;
  const g = GATES[s.op] * s.hidden;
  const weights = (name: string, dims: number[], scale: number): Record<string, unknown> =>
    protoOf(name, makeTensor('f32', dims, () => Math.fround((r() * 2 - 1) * scale)));
  const i64 = (name: string, values: number[]): Record<string, unknown> => ({ name, data_type: DT.INT64, dims: [values.length], int64_data: values });
  const state = s.layout ? [s.batch, s.layers * dirs, s.hidden] : [s.layers * dirs, s.batch, s.hidden];
  const stateAxis = s.layout;
  const lstm = s.op === 'LSTM';
  const nodes: Record<string, unknown>[] = [];
  const inits: Record<string, unknown>[] = [i64('flat', [0, 0, -1]), ...(s.initialStates && s.opset >= 10 ? [i64('state_axis', [stateAxis])] : [])];
  let x = 'X';
  let width = s.input;
  const finals: { h: string[]; c: string[] } = { h: [], c: [] };
  for (let l = 0; l < s.layers; l++) {
    inits.push(weights(`W${l}`, [dirs, g, width], 1.2 / Math.sqrt(width)), weights(`R${l}`, [dirs, g, s.hidden], 1.2 / Math.sqrt(s.hidden)), weights(`B${l}`, [dirs, 2 * g], 0.5));
    const ins = [x, `W${l}`, `R${l}`, `B${l}`, s.seqLens ? 'lens' : '', '', ''];
    if (s.initialStates) {
      // Slice takes its range as attributes before opset 10, as inputs from 10.
      const slice = (from: string, to: string): Record<string, unknown> =>
        s.opset < 10
          ? node('Slice', [from], [to], { starts: attrInts([l * dirs]), ends: attrInts([(l + 1) * dirs]), axes: attrInts([stateAxis]) })
          : node('Slice', [from, `from${l}`, `to${l}`, 'state_axis'], [to]);
      if (s.opset >= 10) inits.push(i64(`from${l}`, [l * dirs]), i64(`to${l}`, [(l + 1) * dirs]));
      ins[5] = `h0_${l}`;
      nodes.push(slice('h0', `h0_${l}`));
      if (lstm) {
        ins[6] = `c0_${l}`;
        nodes.push(slice('c0', `c0_${l}`));
      }
    }
    while (ins[ins.length - 1] === '') ins.pop();
    const attrs: Record<string, Record<string, unknown>> = { hidden_size: attrInt(s.hidden), direction: attrString(s.direction) };
    if (s.opset >= 14) attrs.layout = attrInt(s.layout);
    const outs = [`Y${l}`, `Yh${l}`, ...(lstm ? [`Yc${l}`] : [])];
    nodes.push(node(s.op, ins, outs, attrs, { name: `${s.op.toLowerCase()}_${l}` }));
    finals.h.push(`Yh${l}`);
    if (lstm) finals.c.push(`Yc${l}`);
    // Y is [seq, dirs, batch, hidden] (layout 1: [batch, seq, dirs, hidden]); the next layer reads its directions side by side.
    const yOut = l === s.layers - 1 ? 'Y' : `X${l + 1}`;
    if (s.layout) nodes.push(node('Reshape', [`Y${l}`, 'flat'], [yOut]));
    else {
      nodes.push(node('Transpose', [`Y${l}`], [`Yt${l}`], { perm: attrInts([0, 2, 1, 3]) }));
      nodes.push(node('Reshape', [`Yt${l}`, 'flat'], [yOut]));
    }
    x = yOut;
    width = dirs * s.hidden;
  }
  nodes.push(node('Concat', finals.h, ['Y_h'], { axis: attrInt(stateAxis) }));
  if (lstm) nodes.push(node('Concat', finals.c, ['Y_c'], { axis: attrInt(stateAxis) }));
  const inputs = [valueInfo('X', DT.FLOAT, s.layout ? [s.batch, s.seq, s.input] : [s.seq, s.batch, s.input])];
  if (s.initialStates) inputs.push(valueInfo('h0', DT.FLOAT, state), ...(lstm ? [valueInfo('c0', DT.FLOAT, state)] : []));
  if (s.seqLens) inputs.push(valueInfo('lens', DT.INT32, [s.batch]));
  return encodeModel(
    model({
      opset: s.opset,
      nodes,
      inputs,
      outputs: ['Y', 'Y_h', ...(lstm ? ['Y_c'] : [])].map((o) => valueInfo(o, DT.FLOAT)),
      initializers: inits,
    }),
  );
}

/**
 * Inputs for the stack at a concrete size (the seed fixed per size); `lens` when the stack takes sequence_lens,
 * each row's length in 1..seq (the first row the full length).
 */
export function rnnStackInputs(s: RnnStack, seq: number, batch: number, seed: number): Record<string, Tensor> {
  const r = seededRandom(seed);
  const dirs = s.direction === 'bidirectional' ? 2 : 1;
  const f32 = (shape: number[], scale: number): Tensor => makeTensor('f32', shape, () => Math.fround((r() * 2 - 1) * scale));
  const state = s.layout ? [batch, s.layers * dirs, s.hidden] : [s.layers * dirs, batch, s.hidden];
  const out: Record<string, Tensor> = { X: f32(s.layout ? [batch, seq, s.input] : [seq, batch, s.input], 2) };
  if (s.initialStates) {
    out.h0 = f32(state, 1);
    if (s.op === 'LSTM') out.c0 = f32(state, 1);
  }
  if (s.seqLens) out.lens = makeTensor('i32', [batch], (b) => (b === 0 ? seq : 1 + Math.floor(r() * seq)));
  return out;
}

/** What onnxruntime's CPU provider computes for the stack (seq-major stacks only: it runs no layout 1). */
export async function ortStackOutputs(s: RnnStack, inputs: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  if (s.layout) throw new Error('onnxruntime runs no batch-major (layout 1) recurrent op');
  const ort = requireOrt();
  const session = await ort.InferenceSession.create(rnnStackModel(s), { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const feeds = Object.fromEntries(
    Object.entries(inputs).map(([k, t]) => [
      k,
      t.dtype === 'i32' ? new ort.Tensor('int32', Int32Array.from(t.data), [...t.shape]) : new ort.Tensor('float32', Float32Array.from(t.data), [...t.shape]),
    ]),
  );
  const out = await session.run(feeds);
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, makeTensor('f32', v.dims as number[], v.data as Float32Array)]));
}
