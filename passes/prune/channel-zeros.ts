// Which channels are exactly zero where they are consumed: the zero-invariant groups of papers.md §1.1, found from
// the weights rather than declared. Each flow step (channel-flow.ts) is evaluated per channel in program order: a
// stem's channel is zero when its weight row and bias entry are; an elementwise node's is zero when its own scalar
// function (the op table's) gives exactly 0 for every value the other operands take in that channel (a constant's
// values there, or probe values for a tensor known only at run time); a Mul by a zero channel is zero whatever
// the other side holds, unless that side can be infinite (it comes from an op that overflows, like Exp). A channel
// of a space is removable when it is zero at every exit, through every concatenation it is part of, and nothing
// bars the space. Removing it then drops only terms w * 0 from the consumers' sums: outputs are bit-identical.
import type { Tensor } from '../../ir/index.js';
import type { ChannelFlow, FlowStep } from './channel-flow.js';
import type { ChannelSlice, SpacePart } from './spaces.js';

/** Finite values an operand known only at run time might take. */
const PROBES = [0, 1, -1, 0.5, -2.5, 1e30, -1e30];
/** Inputs at which an op that can overflow (Exp, Reciprocal, Log, Div) shows it. */
const EXTREMES = [0, 1e30, -1e30, 3.4e38, -3.4e38];
const MAX_COMBOS = 4096;

/** Per channel of the slice's space: 1 where every element of the slice's block is 0. */
export function sliceZeros(t: Tensor, s: ChannelSlice, channels: number): Uint8Array {
  const zero = new Uint8Array(channels).fill(1);
  const inner = t.shape.slice(s.axis + 1).reduce((a, b) => a * b, 1);
  const extent = t.shape[s.axis]!;
  for (let i = 0; i < t.data.length; i++) if (t.data[i] !== 0) zero[Math.floor((Math.floor(i / inner) % extent) / s.unit)] = 0;
  return zero;
}

/** Per channel, the distinct values of a slice's block (one list of all values for a broadcast constant). */
function channelValues(t: Tensor, s: ChannelSlice | undefined, channels: number): number[][] {
  if (!s) return [[...new Set(t.data)]];
  const inner = t.shape.slice(s.axis + 1).reduce((a, b) => a * b, 1);
  const extent = t.shape[s.axis]!;
  const sets = Array.from({ length: channels }, () => new Set<number>());
  for (let i = 0; i < t.data.length; i++) sets[Math.floor((Math.floor(i / inner) % extent) / s.unit)]!.add(t.data[i]!);
  return sets.map((x) => [...x]);
}

/** True when fn is finite for every combination of the operands' value sets (false past MAX_COMBOS). */
function alwaysFinite(fn: (...xs: number[]) => number, sets: readonly number[][]): boolean {
  return alwaysWith(fn, sets, Number.isFinite);
}

/** True when fn gives exactly 0 for every combination of the operands' value sets (false past MAX_COMBOS). */
function alwaysZero(fn: (...xs: number[]) => number, sets: readonly number[][]): boolean {
  return alwaysWith(fn, sets, (v) => v === 0);
}

function alwaysWith(fn: (...xs: number[]) => number, sets: readonly number[][], ok: (v: number) => boolean): boolean {
  if (sets.reduce((n, s) => n * s.length, 1) > MAX_COMBOS) return false;
  const args = new Array<number>(sets.length);
  const walk = (i: number): boolean => {
    if (i === sets.length) return ok(fn(...args));
    return sets[i]!.every((v) => ((args[i] = v), walk(i + 1)));
  };
  return walk(0);
}

/** For every root space: the channels that can be removed without changing any output. */
export function removableChannels(flow: ChannelFlow, load: (constant: string) => Tensor): Map<number, number[]> {
  const { spaces } = flow;
  const masks = new Map<string, Uint8Array>();
  const risky = new Set<string>();
  const sizeOf = (v: string): number => spaces.get(flow.channels.get(v)!.space).size;
  const zerosOf = (s: ChannelSlice): Uint8Array => sliceZeros(load(s.constant), s, spaces.get(s.space).size);
  const exitZero = new Map<number, Uint8Array>();
  // A barred space's channels stay whatever they hold: no need to read its weights (an LM head, a tied embedding).
  const barredValue = (v: string): boolean => {
    const rec = spaces.get(flow.channels.get(v)!.space);
    return rec.barriers.length > 0 && !rec.parts;
  };
  const step = (st: FlowStep): void => {
    if ((st.kind === 'stem' || st.kind === 'map' || st.kind === 'pass') && barredValue(st.out)) masks.set(st.out, new Uint8Array(sizeOf(st.out)));
    else if (st.kind === 'stem') {
      const m = new Uint8Array(sizeOf(st.out)).fill(1);
      for (const r of st.rows) zerosOf(r).forEach((z, c) => (m[c]! &= z));
      masks.set(st.out, m);
    } else if (st.kind === 'pass') {
      const m = st.keepsZero ? Uint8Array.from(masks.get(st.from)!) : new Uint8Array(sizeOf(st.out));
      for (const r of st.zeroIf) zerosOf(r).forEach((z, c) => (m[c]! &= z));
      if (st.zeroIfAny) {
        const any = st.zeroIfAny.map(zerosOf);
        m.forEach((_, c) => (m[c]! &= any.some((z) => z[c]) ? 1 : 0));
      }
      masks.set(st.out, m);
      if (risky.has(st.from)) risky.add(st.out);
    } else if (st.kind === 'concat') {
      const m = new Uint8Array(sizeOf(st.out));
      let at = 0;
      for (const v of st.from) (m.set(masks.get(v)!, at), (at += masks.get(v)!.length));
      masks.set(st.out, m);
    } else if (st.kind === 'split') {
      const whole = masks.get(st.from)!;
      for (const [i, p] of spaces.get(flow.channels.get(st.from)!.space).parts!.entries()) {
        const m = new Uint8Array(spaces.get(p.space).size);
        m.forEach((_, c) => (m[c] = whole.subarray(p.offset + c * p.scale, p.offset + (c + 1) * p.scale).every((z) => z === 1) ? 1 : 0));
        masks.set(st.outs[i]!, m);
      }
    } else if (st.kind === 'product') {
      const [a, b] = st.from.map((v) => masks.get(v)!);
      const careful = st.from.some((v) => risky.has(v));
      masks.set(st.out, a!.map((z, c) => (careful ? z & b![c]! : z | b![c]!)));
      if (careful) risky.add(st.out);
    } else if (st.kind === 'map') mapStep(st);
    else {
      const root = spaces.root(flow.channels.get(st.from)!.space);
      const into = exitZero.get(root) ?? new Uint8Array(spaces.get(root).size).fill(1);
      masks.get(st.from)!.forEach((z, c) => (into[c]! &= z));
      exitZero.set(root, into);
    }
  };
  const mapStep = (st: Extract<FlowStep, { kind: 'map' }>): void => {
    const n = st.inputs.length;
    const consts = new Map(st.constants.map((k) => [k.operand, k]));
    // Can a finite run-time operand make this infinite (Exp, a division by it)? Constants take their own values.
    const constantValues = (j: number): number[] => {
      const k = consts.get(j);
      return k ? channelValues(load(k.constant), undefined, 1)[0]!.slice(0, 16) : [1];
    };
    const overflows = Array.from({ length: n }, (_, i) => !consts.has(i) && !alwaysFinite(st.fn, Array.from({ length: n }, (_, j) => (j === i ? EXTREMES : constantValues(j)))));
    if (overflows.some(Boolean) || st.spaced.some((i) => risky.has(st.inputs[i]!))) risky.add(st.out);
    const m = new Uint8Array(sizeOf(st.out));
    // Each constant's values per channel, gathered in one pass over it.
    const values = new Map(st.constants.map((k) => [k.operand, channelValues(load(k.constant), k.slice, m.length)]));
    for (let c = 0; c < m.length; c++) {
      const setsWith = (zeroed: (i: number) => boolean): number[][] =>
        Array.from({ length: n }, (_, i) => {
          if (zeroed(i)) return [0];
          const k = consts.get(i);
          return k ? values.get(i)![k.slice ? c : 0]! : PROBES;
        });
      const zeroHere = (i: number): boolean => masks.get(st.inputs[i]!)![c] === 1;
      if (st.spaced.every(zeroHere) && alwaysZero(st.fn, setsWith((i) => st.spaced.includes(i)))) m[c] = 1;
      // One zero operand that annihilates whatever finite values the others take (Mul).
      else if (st.spaced.some((i) => zeroHere(i) && st.spaced.every((j) => j === i || !risky.has(st.inputs[j]!)) && alwaysZero(st.fn, setsWith((j) => j === i)))) m[c] = 1;
    }
    masks.set(st.out, m);
  };
  flow.steps.forEach(step);

  const prunable = prunableRoots(flow);
  // Parts of an auxiliary space take its exits at their offsets (a channel's block of scale channels all zero).
  eachPart(flow, (aux, p, part) => {
    const z = exitZero.get(aux);
    if (!z) return;
    const into = exitZero.get(part) ?? new Uint8Array(spaces.get(part).size).fill(1);
    into.forEach((_, c) => (into[c]! &= z.subarray(p.offset + c * p.scale, p.offset + (c + 1) * p.scale).every((x) => x === 1) ? 1 : 0));
    exitZero.set(part, into);
  });
  const removable = new Map<number, number[]>();
  for (const r of prunable) {
    const z = exitZero.get(r)!;
    const gone = Array.from(z.keys()).filter((c) => z[c] === 1);
    if (gone.length) removable.set(r, gone);
  }
  return removable;
}

/**
 * The root spaces whose channels may be removed: stems' spaces (not concatenations) that nothing bars, directly or
 * through a concatenation they are part of, and whose channels are consumed somewhere (an exit, directly or
 * through a concatenation).
 */
export function prunableRoots(flow: ChannelFlow): Set<number> {
  const { spaces } = flow;
  const roots = spaces.roots();
  const barred = new Set(roots.filter((r) => spaces.get(r).barriers.length));
  const consumed = new Set(roots.filter((r) => spaces.get(r).exits.length));
  eachPart(flow, (aux, _p, part) => {
    if (barred.has(aux)) barred.add(part);
    if (consumed.has(aux)) consumed.add(part);
  });
  return new Set(roots.filter((r) => !spaces.get(r).parts && !barred.has(r) && consumed.has(r)));
}

/**
 * Calls f for every part of every auxiliary space, over all of them as many times as there are auxiliary spaces,
 * so what flows from an auxiliary space to its parts reaches the parts of parts whatever the creation order (a
 * Concat's space comes after its parts', a Split's before). f must be idempotent.
 */
export function eachPart(flow: ChannelFlow, f: (aux: number, part: SpacePart, partRoot: number) => void): void {
  const { spaces } = flow;
  const aux = spaces.roots().filter((r) => spaces.get(r).parts);
  for (let round = 0; round < aux.length; round++) for (const a of aux) for (const p of spaces.get(a).parts!) f(a, p, spaces.root(p.space));
}
