// The recurrent ops LSTM, GRU and RNN, unrolled at import into ops kiln already compiles: one MatMul projects the
// input of every step and both directions at once (biases folded in), then each step is a MatMul with the
// recurrence weights (the projected input added in its epilogue), gate Slices and an elementwise chain that fusion
// merges into a kernel or two. sequence_lens masks each step with a Where: past its length a batch row keeps its
// state and outputs 0, so Y_h/Y_c hold the last valid step, and a reverse pass effectively starts at the row's own
// last step; a row of length 0 yields Y_h = Y_c = 0, as onnxruntime does. Activations the IR lacks (HardSigmoid,
// Elu, ...) are spelled out exactly in basic elementwise ops (which ones, and their alpha/beta: recurrent-activations.ts).
//
// A symbolic batch needs nothing special (every op emitted takes one); a symbolic sequence length is unrolled to
// its upper bound and each step masked by the run-time length (recurrent-length.ts).
import type { DType } from '../../../dtype.js';
import type { Attrs } from '../../../graph.js';
import { type Dim, isStaticDim } from '../../../shape.js';
import { makeTensor, scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';
import { type Activation, activations } from './recurrent-activations.js';
import { runTimeLength, symbolicSteps } from './recurrent-length.js';

export type Cell = 'LSTM' | 'GRU' | 'RNN';

/** Gates per cell (the row blocks of W and R). */
const GATES: Record<Cell, number> = { LSTM: 4, GRU: 3, RNN: 1 };

/** Builds the unrolled graph of one node. */
class Unroller {
  readonly dtype: DType;
  private readonly consts = new Map<string, string>();

  constructor(readonly cx: NodeContext) {
    this.dtype = cx.type(0).dtype;
  }

  emit = (op: string, inputs: string[], attrs: Attrs = {}, output?: string): string => this.cx.emit1(op, inputs, attrs, output);

  /** A known tensor of the node's dtype filled with v (shared within the node). */
  private filled(v: number, shape: number[]): string {
    const key = `${v}:${shape.join(',')}`;
    let name = this.consts.get(key);
    if (!name) this.consts.set(key, (name = this.cx.newConst(makeTensor(this.dtype, shape, () => v), `c${this.consts.size}`)));
    return name;
  }

  scalar = (v: number): string => this.filled(v, []);
  zeros = (shape: number[]): string => this.filled(0, shape);

  /** The node's clip, applied to an activation's input. */
  clip = (cfg: Config, v: string): string => (cfg.clip === undefined ? v : this.emit('Clip', [v], { min: -cfg.clip, max: cfg.clip }));

  /** x[..., from:to) along `axis`. */
  slice = (x: string, axis: number, from: number, to: number): string => this.emit('Slice', [x], { starts: [from], ends: [to], axes: [axis] });
  cols = (x: string, from: number, to: number): string => this.slice(x, -1, from, to);
  add = (x: string, y: string | undefined): string => (y === undefined ? x : this.emit('Add', [x, y]));
  mul = (x: string, y: string): string => this.emit('Mul', [x, y]);

  /** Affine map alpha*x + beta, skipping identity parts. */
  affine(x: string, alpha: number, beta: number): string {
    const scaled = alpha === 1 ? x : this.mul(x, this.scalar(alpha));
    return beta === 0 ? scaled : this.emit('Add', [scaled, this.scalar(beta)]);
  }

  /** One activation, exactly, in IR ops. */
  activate(act: Activation, x: string): string {
    const { alpha, beta } = act;
    switch (act.name) {
      case 'relu':
        return this.emit('Relu', [x]);
      case 'tanh':
        return this.emit('Tanh', [x]);
      case 'sigmoid':
        return this.emit('Sigmoid', [x]);
      case 'affine':
        return this.affine(x, alpha, beta);
      case 'leakyrelu':
        return this.emit('LeakyRelu', [x], { alpha });
      case 'thresholdedrelu':
        return this.emit('Where', [this.emit('Greater', [x, this.scalar(alpha)]), x, this.scalar(0)]);
      case 'scaledtanh':
        return this.affine(this.emit('Tanh', [this.affine(x, beta, 0)]), alpha, 0);
      case 'hardsigmoid':
        return this.emit('Clip', [this.affine(x, alpha, beta)], { min: 0, max: 1 });
      case 'elu': {
        // exp of the negative part only, so a large x never makes an inf that a select would have to hide.
        const em1 = this.emit('Sub', [this.emit('Exp', [this.emit('Min', [x, this.scalar(0)])]), this.scalar(1)]);
        return this.emit('Where', [this.emit('Less', [x, this.scalar(0)]), this.affine(em1, alpha, 0), x]);
      }
      case 'softsign':
        return this.emit('Div', [x, this.emit('Add', [this.emit('Abs', [x]), this.scalar(1)])]);
      case 'softplus': {
        // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), which does not overflow for a large x.
        const tail = this.emit('Log', [this.emit('Add', [this.emit('Exp', [this.emit('Neg', [this.emit('Abs', [x])])]), this.scalar(1)])]);
        return this.emit('Add', [this.emit('Relu', [x]), tail]);
      }
      default:
        return invalid(`internal: activation ${act.name}`);
    }
  }
}

/** What the node asks for, checked. */
export interface Config {
  readonly cell: Cell;
  /** Steps unrolled: the sequence length, or its upper bound when symbolic. */
  readonly seq: number;
  /** X's sequence length: seq when static; a symbolic one lies in seqMin..seq at run time. */
  readonly seqDim: Dim;
  readonly seqMin: number;
  readonly hidden: number;
  /** Gate rows of W and R: gates * hidden. */
  readonly gh: number;
  readonly dirs: number;
  readonly reverseOnly: boolean;
  /** Axis of X and Y holding the steps (1 with layout 1), and of initial_h/Y_h holding the direction. */
  readonly seqAxis: number;
  readonly dirAxis: number;
  readonly acts: Activation[][];
  readonly clip: number | undefined;
  readonly linearBeforeReset: boolean;
  readonly inputForget: boolean;
}

function configure(cx: NodeContext, cell: Cell, hasLayout: boolean): Config {
  const layout = hasLayout ? cx.attrs.int('layout', 0) : 0;
  if (layout !== 0 && layout !== 1) invalid(`${cx.op} layout must be 0 or 1, got ${layout}`);
  const direction = cx.attrs.string('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction))
    invalid(`${cx.op} direction must be forward, reverse or bidirectional, got '${direction}'`);
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const x = cx.type(0).shape;
  if (x.length !== 3) invalid(`${cx.op} X must be 3-D ([seq, batch, input], or [batch, seq, input] with layout 1), got [${x.join(',')}]`);
  const seqAxis = layout;
  const dim = x[seqAxis]!;
  const [seqMin, seq] = isStaticDim(dim) ? [dim, dim] : symbolicSteps(cx, dim);
  if (seq === 0) unsupported('ir', `${cx.op} over an empty sequence ('${cx.input(0)}' [${x.join(',')}])`);
  const r = cx.type(2).shape;
  const hidden = cx.attrs.int('hidden_size') ?? (isStaticDim(r[2]!) ? (r[2] as number) : invalid(`${cx.op} needs hidden_size, or a static R`));
  if (!(hidden > 0)) invalid(`${cx.op} hidden_size must be positive, got ${hidden}`);
  const gh = GATES[cell] * hidden;
  const expect = (i: number, what: string, shape: Dim[]): void => {
    if (!cx.has(i)) return;
    const got = cx.type(i).shape;
    if (got.length !== shape.length || got.some((d, k) => isStaticDim(d) && isStaticDim(shape[k]!) && d !== shape[k]))
      invalid(`${cx.op} ${what} '${cx.input(i)}' must be [${shape.join(',')}], got [${got.join(',')}]`);
  };
  const batch = x[1 - seqAxis]!;
  const state = layout === 1 ? [batch, dirs, hidden] : [dirs, batch, hidden];
  expect(1, 'W', [dirs, gh, x[2]!]);
  expect(2, 'R', [dirs, gh, hidden]);
  expect(3, 'B', [dirs, 2 * gh]);
  expect(4, 'sequence_lens', [batch]);
  // Known lengths fix the batch: the steps no row reaches emit zeros of that many rows.
  if (cx.constant(4) && !isStaticDim(batch))
    unsupported('dynamic', `${cx.op} sequence_lens '${cx.input(4)}' is a constant of ${cx.type(4).shape[0]} rows but the batch of '${cx.input(0)}' is symbolic ('${batch}'); set --dim ${batch}=${cx.type(4).shape[0]}`);
  expect(5, 'initial_h', state);
  if (cell === 'LSTM') {
    expect(6, 'initial_c', state);
    expect(7, 'P', [dirs, 3 * hidden]);
  }
  const clip = cx.attrs.float('clip');
  if (clip !== undefined && !(clip > 0)) invalid(`${cx.op} clip must be positive, got ${clip}`);
  const linearBeforeReset = cell === 'GRU' && cx.attrs.int('linear_before_reset', 0) !== 0;
  const inputForget = cell === 'LSTM' && cx.attrs.int('input_forget', 0) !== 0;
  const acts = activations(cx, cell, dirs);
  return { cell, seq, seqDim: dim, seqMin, hidden, gh, dirs, reverseOnly: direction === 'reverse', seqAxis, dirAxis: layout, acts, clip, linearBeforeReset, inputForget };
}

/**
 * Per step, whether each batch row is still inside its sequence. `rows` is false for a mask of the whole batch
 * (a step past a symbolic length), whose Y rows are sliced away rather than zeroed.
 */
type StepMask = { kind: 'all' } | { kind: 'none' } | { kind: 'some'; mask: string; rows: boolean };

/** The inputs of one step of one direction. */
interface Step {
  /** The step's projected input for gate rows [from, to), as [batch, to - from]. */
  readonly x: (from: number, to: number) => string;
  /** x + h @ w, with x emitted first so that the MatMul's epilogue adds it; x alone while there is no state. */
  readonly recur: (x: string, w: string, h?: string) => string;
  /** Past its length a row keeps its state (0 while there is none yet). */
  readonly hold: (v: string, prev: string | undefined) => string;
  readonly h: string | undefined;
  readonly c: string | undefined;
}

function recurrent(cell: Cell, hasLayout: boolean): (cx: NodeContext) => void {
  return (cx) => {
    const cfg = configure(cx, cell, hasLayout);
    const u = new Unroller(cx);
    const { gh, hidden, dirs, seq } = cfg;
    // One projection for all steps and directions: X @ [W_0^T | W_1^T] + (Wb + Rb). GRU's Rbh stays out with
    // linear_before_reset, where it sits inside r * (...).
    const wT = u.emit('Reshape', [u.emit('Transpose', [cx.input(1)], { perm: [2, 0, 1] })], { shape: [-1, dirs * gh] });
    const seqLen = isStaticDim(cfg.seqDim) ? undefined : runTimeLength(cx, u.emit, cfg);
    let xw = u.emit('MatMul', [seqLen ? seqLen.x : cx.input(0), wT]);
    if (cx.has(3)) {
      const wb = u.cols(cx.input(3), 0, gh);
      let rb = u.cols(cx.input(3), gh, 2 * gh);
      if (cfg.linearBeforeReset) rb = u.emit('Concat', [u.cols(rb, 0, 2 * hidden), u.zeros([dirs, hidden])], { axis: 1 });
      xw = u.add(xw, u.emit('Reshape', [u.add(wb, rb)], { shape: [dirs * gh] }));
    }
    const masks = stepMasks(cx, u, cfg, seqLen?.value);
    const ys: string[][] = [];
    const finals: Final[] = [];
    for (let d = 0; d < dirs; d++) {
      const cellStep = CELLS[cell](cx, u, cfg, d);
      let h = state0(cx, u, cfg, 5, d);
      let c = cell === 'LSTM' ? state0(cx, u, cfg, 6, d) : undefined;
      const out: string[] = new Array(seq);
      for (let s = 0; s < seq; s++) {
        const t = cfg.reverseOnly || d === 1 ? seq - 1 - s : s;
        const mask = masks(t);
        if (mask.kind === 'none') {
          out[t] = u.zeros([cx.type(4).shape[0] as number, hidden]);
          continue;
        }
        const hold = (v: string, prev: string | undefined): string => (mask.kind === 'all' ? v : u.emit('Where', [mask.mask, v, prev ?? u.scalar(0)]));
        const x = (from: number, to: number): string =>
          u.emit('Squeeze', [u.emit('Slice', [xw], { starts: [t, d * gh + from], ends: [t + 1, d * gh + to], axes: [cfg.seqAxis, 2] })], { axes: [cfg.seqAxis] });
        const recur = (xt: string, w: string, hp = h): string => (hp === undefined ? xt : u.emit('Add', [u.emit('MatMul', [hp, w]), xt]));
        const next = cellStep({ x, recur, hold, h, c });
        // Holding the new state right away leaves it one reader, so it fuses into the Where.
        const held = hold(next.h, h);
        // Past its length a row outputs 0 (a state that did not exist before is 0 there already).
        out[t] = mask.kind === 'all' || !mask.rows || h === undefined ? held : u.emit('Where', [mask.mask, held, u.scalar(0)]);
        h = held;
        c = next.c;
      }
      ys.push(out);
      finals.push({ h, c });
    }
    emitOutputs(cx, u, cfg, ys, finals);
  };
}

/** Direction d's block of initial_h (5) or initial_c (6), as [batch, hidden]. */
const state0 = (cx: NodeContext, u: Unroller, cfg: Config, i: number, d: number): string | undefined =>
  cx.has(i) ? u.emit('Squeeze', [u.slice(cx.input(i), cfg.dirAxis, d, d + 1)], { axes: [cfg.dirAxis] }) : undefined;

/** R's block for direction d, transposed to [hidden, gates * hidden]. */
const recurrenceT = (cx: NodeContext, u: Unroller, d: number): string =>
  u.emit('Transpose', [u.emit('Squeeze', [u.slice(cx.input(2), 0, d, d + 1)], { axes: [0] })], { perm: [1, 0] });

type CellStep = (s: Step) => { h: string; c?: string };

/** Per cell, the weights of direction d prepared once, and the step. Gate order: RNN i; GRU z, r, h; LSTM i, o, f, c. */
const CELLS: Record<Cell, (cx: NodeContext, u: Unroller, cfg: Config, d: number) => CellStep> = {
  RNN(cx, u, cfg, d) {
    const rT = recurrenceT(cx, u, d);
    const [f] = cfg.acts[d]!;
    return (s) => ({ h: u.activate(f!, u.clip(cfg, s.recur(s.x(0, cfg.gh), rT))) });
  },

  GRU(cx, u, cfg, d) {
    const H = cfg.hidden;
    const rT = recurrenceT(cx, u, d);
    const rZR = u.cols(rT, 0, 2 * H);
    const rH = u.cols(rT, 2 * H, 3 * H);
    const rbh = cfg.linearBeforeReset && cx.has(3) ? u.cols(u.slice(cx.input(3), 0, d, d + 1), 5 * H, 6 * H) : undefined;
    const [f, g] = cfg.acts[d]!;
    return (s) => {
      const zr = s.recur(s.x(0, 2 * H), rZR);
      const z = u.activate(f!, u.clip(cfg, u.cols(zr, 0, H)));
      const r = u.activate(f!, u.clip(cfg, u.cols(zr, H, 2 * H)));
      const xh = s.x(2 * H, 3 * H);
      let pre: string;
      if (cfg.linearBeforeReset) {
        const lin = s.h === undefined ? rbh : u.add(u.emit('MatMul', [s.h, rH]), rbh);
        pre = lin === undefined ? xh : u.add(xh, u.mul(r, lin));
      } else pre = s.h === undefined ? xh : s.recur(xh, rH, u.mul(r, s.h));
      const hh = u.activate(g!, u.clip(cfg, pre));
      const kept = s.h === undefined ? undefined : u.mul(z, s.h);
      return { h: u.add(u.mul(u.emit('Sub', [u.scalar(1), z]), hh), kept) };
    };
  },

  LSTM(cx, u, cfg, d) {
    const H = cfg.hidden;
    const rT = recurrenceT(cx, u, d);
    const peephole = (k: number): string | undefined => (cx.has(7) ? u.cols(u.slice(cx.input(7), 0, d, d + 1), k * H, (k + 1) * H) : undefined);
    const [pi, po, pf] = [peephole(0), peephole(1), peephole(2)];
    const [f, g, h] = cfg.acts[d]!;
    const peep = (pre: string, p: string | undefined, c: string | undefined): string => (p && c ? u.add(pre, u.mul(p, c)) : pre);
    return (s) => {
      const all = s.recur(s.x(0, 4 * H), rT);
      const i = u.activate(f!, u.clip(cfg, peep(u.cols(all, 0, H), pi, s.c)));
      const fg = cfg.inputForget ? u.emit('Sub', [u.scalar(1), i]) : u.activate(f!, u.clip(cfg, peep(u.cols(all, 2 * H, 3 * H), pf, s.c)));
      const cc = u.activate(g!, u.clip(cfg, u.cols(all, 3 * H, 4 * H)));
      // C is held before o and h read it: a held row's o and h are then discarded with it.
      const c = s.hold(u.add(u.mul(i, cc), s.c === undefined ? undefined : u.mul(fg, s.c)), s.c);
      const o = u.activate(f!, u.clip(cfg, peep(u.cols(all, H, 2 * H), po, c)));
      return { h: u.mul(o, u.activate(h!, c)), c };
    };
  },
};

/**
 * The mask of step t, from sequence_lens: none given, or known and covering the step, needs no mask; known
 * lengths give a constant one; lengths given at run time compare against t in a small kernel per step. Without
 * sequence_lens, a symbolic length (`length`, its run-time value) masks the steps it may not reach; with them, the
 * rows' lengths (at most the sequence's, as the spec requires) mask those steps already.
 */
function stepMasks(cx: NodeContext, u: Unroller, cfg: Config, length: string | undefined): (t: number) => StepMask {
  // Both directions visit every step: one mask each.
  const cache = new Map<number, StepMask>();
  const cached = (maskOf: (t: number) => StepMask) => (t: number) => cache.get(t) ?? (cache.set(t, maskOf(t)), cache.get(t)!);
  if (!cx.has(4)) {
    if (length === undefined) return () => ({ kind: 'all' });
    return cached((t) => (t < cfg.seqMin ? { kind: 'all' } : { kind: 'some', mask: u.emit('Less', [cx.newConst(scalarTensor('i32', t), `t${t}`), length]), rows: false }));
  }
  const known = cx.constant(4);
  if (known && [...known.data].some((l) => l < 0 || l > cfg.seq))
    invalid(`${cx.op} sequence_lens [${[...known.data].join(',')}] must lie in 0..${cfg.seq}`);
  const lens = u.emit('Unsqueeze', [cx.input(4)], { axes: [1] });
  const maskOf = (t: number): StepMask => {
    if (known) {
      const active = [...known.data].filter((l) => t < l).length;
      if (active === known.data.length) return { kind: 'all' };
      if (active === 0) return { kind: 'none' };
    }
    return { kind: 'some', mask: u.emit('Less', [cx.newConst(scalarTensor(cx.type(4).dtype, t), `t${t}`), lens]), rows: true };
  };
  return cached(maskOf);
}

interface Final {
  readonly h: string | undefined;
  readonly c: string | undefined;
}

/** Y (steps stacked per direction, then directions), Y_h and Y_c (directions stacked), each when requested. */
function emitOutputs(cx: NodeContext, u: Unroller, cfg: Config, ys: string[][], finals: Final[]): void {
  const cat = (parts: string[], axis: number, output?: string): string => u.emit('Concat', parts, { axis }, output);
  const last = (k: number): string | undefined => (cfg.dirs === 1 ? cx.output(k) : undefined);
  if (cx.used(0)) {
    // [seq, dirs, batch, hidden], or [batch, seq, dirs, hidden] with layout 1; a symbolic length slices the
    // unrolled steps back to [0, seq).
    const [stepAxis, dirAxis] = [cfg.seqAxis, cfg.seqAxis + 1];
    const cut = !isStaticDim(cfg.seqDim);
    const perDir = ys.map((steps) => cat(steps.map((y) => u.emit('Unsqueeze', [y], { axes: [stepAxis, dirAxis] })), stepAxis, cut ? undefined : last(0)));
    const y = cfg.dirs === 2 ? cat(perDir, dirAxis, cut ? undefined : cx.output(0)) : perDir[0]!;
    if (cut) u.emit('Slice', [y], { starts: [0], ends: [cfg.seqDim], axes: [stepAxis] }, cx.output(0));
  }
  const known = cx.constant(4);
  const mayBeEmpty = cx.has(4) && !(known && [...known.data].every((l) => l > 0));
  let nonEmpty: string | undefined;
  const final = (k: number, pick: (f: Final) => string | undefined): void => {
    if (!cx.used(k)) return;
    const parts = finals.map((f) => {
      let v = pick(f) ?? u.zeros([cx.type(0).shape[1 - cfg.seqAxis] as number, cfg.hidden]);
      // A row of length 0 ran no step: its final state is 0 (as in onnxruntime), not the initial state.
      if (mayBeEmpty) {
        nonEmpty ??= u.emit('Less', [cx.newConst(scalarTensor(cx.type(4).dtype, 0), 'len0'), u.emit('Unsqueeze', [cx.input(4)], { axes: [1] })]);
        v = u.emit('Where', [nonEmpty, v, u.scalar(0)]);
      }
      return u.emit('Unsqueeze', [v], { axes: [cfg.dirAxis] }, last(k));
    });
    if (cfg.dirs === 2) cat(parts, cfg.dirAxis, cx.output(k));
  };
  final(1, (f) => f.h);
  if (cfg.cell === 'LSTM') final(2, (f) => f.c);
}

const rows = (cell: Cell): OpRule[] =>
  rules(cell, [7, 13, recurrent(cell, false)], [14, 21, recurrent(cell, true)], [22, undefined, recurrent(cell, true)]);

export const RECURRENT_RULES: OpRule[] = [...rows('LSTM'), ...rows('GRU'), ...rows('RNN')];
