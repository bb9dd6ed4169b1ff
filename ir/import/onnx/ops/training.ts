// The optimizer ops of domain ai.onnx.preview.training (version 1): Adagrad, Adam and Momentum, each one update
// step of any number of tensors, decomposed into elementwise IR ops that follow the spec's pseudo code term by
// term (so fusion runs each tensor's update as one kernel):
//
//   G_reg = norm_coefficient * X + G                                              (all three)
//   Adagrad:  r = R / (1 + T * decay_factor);  H_new = H + G_reg * G_reg;  X_new = X - r * G_reg / (Sqrt(H_new) + epsilon)
//   Momentum: beta' = T > 0 ? beta : 1;  V_new = alpha * V + beta' * G_reg;
//             X_new = X - R * V_new ('standard')  or  X - R * (G_reg + alpha * V_new) ('nesterov')
//   Adam:     V_new = alpha * V + (1 - alpha) * G_reg;  H_new = beta * H + (1 - beta) * G_reg * G_reg;
//             R' = T > 0 ? R * Sqrt(1 - beta^T) / (1 - alpha^T) : R;
//             X_new = (1 - norm_coefficient_post) * (X - R' * V_new / (Sqrt(H_new) + epsilon))
//
// Inputs are R, T, then the n tensors X_1..X_n followed by their state lists (G, then H or V, or V and H for Adam);
// outputs are the new X_1..X_n followed by the new state lists. R and T may be run-time values (a training loop
// feeds the step count), so the T > 0 choices are Where nodes, not import-time branches.
import { makeTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';

/** The f32 value names of one optimizer step's shared inputs and the helpers that build its terms. */
class Step {
  /** R as f32. */
  readonly rate: string;
  /** The number of tensors the node updates. */
  readonly n: number;

  constructor(
    readonly cx: NodeContext,
    lists: number,
  ) {
    const rest = cx.inputCount - 2;
    if (rest < lists || rest % lists !== 0)
      invalid(`${cx.op} takes R, T and ${lists} equally long lists of tensors; got ${cx.inputCount} inputs (fix the node's inputs)`);
    this.n = rest / lists;
    if (cx.outputCount > (lists - 1) * this.n)
      invalid(`${cx.op} updating ${this.n} tensor(s) has at most ${(lists - 1) * this.n} outputs, got ${cx.outputCount}`);
    for (let i = 0; i < cx.inputCount; i++) if (!cx.has(i)) invalid(`${cx.op} input ${i} is omitted; every input is required`);
    const r = cx.type(0);
    const t = cx.type(1);
    if (r.dtype !== 'f32') unsupported('dtype', `${cx.op} learning rate R of ${r.dtype}; the spec takes float or double`);
    if (!['i32', 'u32'].includes(t.dtype)) invalid(`${cx.op} update count T must be int64, got ${t.dtype}`);
    for (let i = 2; i < cx.inputCount; i++)
      if (cx.type(i).dtype !== 'f32') unsupported('dtype', `${cx.op} input ${i} ('${cx.input(i)}') of ${cx.type(i).dtype}; the spec takes float or double tensors`);
    this.rate = cx.input(0);
  }

  /** T as f32, for arithmetic. */
  count(): string {
    return this.cx.emit1('Cast', [this.cx.input(1)], { to: 'f32' });
  }

  /** T > 0, the spec's "not the first update" test. */
  started(): string {
    return this.cx.emit1('Greater', [this.cx.input(1), this.cx.newConst(makeTensor(this.cx.type(1).dtype, [], [0]), 'zero_count')]);
  }

  /** Input `j` of list `list` (0 = X, 1 = G, ...). */
  in(list: number, j: number): string {
    return this.cx.input(2 + list * this.n + j);
  }

  /** A scalar f32 constant. */
  c(v: number, hint: string): string {
    return this.cx.newConst(makeTensor('f32', [], [v]), hint);
  }

  op(name: string, ...inputs: string[]): string {
    return this.cx.emit1(name, inputs);
  }

  /** The last op of a term, written to output `list`'s entry `j` when the node names it. */
  out(list: number, j: number, name: string, ...inputs: string[]): void {
    const k = list * this.n + j;
    if (k < this.cx.outputCount && this.cx.output(k)) this.cx.emit1(name, inputs, {}, this.cx.output(k));
  }

  /** norm_coefficient * X + G. */
  regularized(j: number, norm: string): string {
    return this.op('Add', this.op('Mul', norm, this.in(0, j)), this.in(1, j));
  }
}

function checkAttrs(cx: NodeContext, known: readonly string[]): void {
  for (const name of cx.attrs.names())
    if (!known.includes(name)) unsupported('attribute', `${cx.op} attribute '${name}' is not one the ai.onnx.preview.training ${cx.op} (version 1) has`);
}

function required(cx: NodeContext, name: string): number {
  return cx.attrs.float(name) ?? invalid(`${cx.op} needs attribute '${name}' (float), which the node does not set`);
}

function adagrad(cx: NodeContext): void {
  checkAttrs(cx, ['decay_factor', 'epsilon', 'norm_coefficient']);
  const s = new Step(cx, 3);
  const norm = s.c(cx.attrs.float('norm_coefficient', 0), 'norm_coefficient');
  const epsilon = s.c(cx.attrs.float('epsilon', 1e-6), 'epsilon');
  const decay = s.c(cx.attrs.float('decay_factor', 0), 'decay_factor');
  const r = s.op('Div', s.rate, s.op('Add', s.c(1, 'one'), s.op('Mul', s.count(), decay)));
  for (let j = 0; j < s.n; j++) {
    const g = s.regularized(j, norm);
    const hNew = s.op('Add', s.in(2, j), s.op('Mul', g, g));
    const adaptive = s.op('Add', s.op('Sqrt', hNew), epsilon);
    s.out(0, j, 'Sub', s.in(0, j), s.op('Div', s.op('Mul', r, g), adaptive));
    if (s.n + j < cx.outputCount && cx.output(s.n + j)) cx.alias(s.n + j, hNew);
  }
}

function momentum(cx: NodeContext): void {
  checkAttrs(cx, ['alpha', 'beta', 'mode', 'norm_coefficient']);
  const s = new Step(cx, 3);
  const mode = cx.attrs.string('mode') ?? invalid(`${cx.op} needs attribute 'mode' ('standard' or 'nesterov'), which the node does not set`);
  if (mode !== 'standard' && mode !== 'nesterov') invalid(`${cx.op} mode must be 'standard' or 'nesterov', got '${mode}'`);
  const alpha = s.c(required(cx, 'alpha'), 'alpha');
  const norm = s.c(required(cx, 'norm_coefficient'), 'norm_coefficient');
  // The gradient's coefficient is 1 on the first update (T = 0), so V starts as the gradient itself.
  const beta = cx.emit1('Where', [s.started(), s.c(required(cx, 'beta'), 'beta'), s.c(1, 'one')]);
  for (let j = 0; j < s.n; j++) {
    const g = s.regularized(j, norm);
    const vNew = s.op('Add', s.op('Mul', alpha, s.in(2, j)), s.op('Mul', beta, g));
    const step = mode === 'standard' ? vNew : s.op('Add', g, s.op('Mul', alpha, vNew));
    s.out(0, j, 'Sub', s.in(0, j), s.op('Mul', s.rate, step));
    if (s.n + j < cx.outputCount && cx.output(s.n + j)) cx.alias(s.n + j, vNew);
  }
}

function adam(cx: NodeContext): void {
  checkAttrs(cx, ['alpha', 'beta', 'epsilon', 'norm_coefficient', 'norm_coefficient_post']);
  const s = new Step(cx, 4);
  const a = cx.attrs.float('alpha', 0.9);
  const b = cx.attrs.float('beta', 0.999);
  const alpha = s.c(a, 'alpha');
  const beta = s.c(b, 'beta');
  const norm = s.c(cx.attrs.float('norm_coefficient', 0), 'norm_coefficient');
  const epsilon = s.c(cx.attrs.float('epsilon', 1e-6), 'epsilon');
  const post = s.c(1 - cx.attrs.float('norm_coefficient_post', 0), 'keep_post');
  const one = s.c(1, 'one');
  // Bias correction of both running averages; at T = 0 it is 0/0, which the Where discards.
  const count = s.count();
  const corrected = s.op('Div', s.op('Mul', s.rate, s.op('Sqrt', s.op('Sub', one, s.op('Pow', beta, count)))), s.op('Sub', one, s.op('Pow', alpha, count)));
  const rate = cx.emit1('Where', [s.started(), corrected, s.rate]);
  for (let j = 0; j < s.n; j++) {
    const g = s.regularized(j, norm);
    const vNew = s.op('Add', s.op('Mul', alpha, s.in(2, j)), s.op('Mul', s.c(1 - a, 'one_minus_alpha'), g));
    const hNew = s.op('Add', s.op('Mul', beta, s.in(3, j)), s.op('Mul', s.c(1 - b, 'one_minus_beta'), s.op('Mul', g, g)));
    const hSqrt = s.op('Add', s.op('Sqrt', hNew), epsilon);
    const xNew = s.op('Sub', s.in(0, j), s.op('Mul', rate, s.op('Div', vNew, hSqrt)));
    s.out(0, j, 'Mul', post, xNew);
    if (s.n + j < cx.outputCount && cx.output(s.n + j)) cx.alias(s.n + j, vNew);
    if (2 * s.n + j < cx.outputCount && cx.output(2 * s.n + j)) cx.alias(2 * s.n + j, hNew);
  }
}

/** Rules of domain ai.onnx.preview.training, keyed by that domain's version (1, the only one). */
export const TRAINING_RULES: OpRule[] = [...rules('Adagrad', [1, 1, adagrad]), ...rules('Adam', [1, 1, adam]), ...rules('Momentum', [1, 1, momentum])];
