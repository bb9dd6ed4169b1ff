// Workgroup machinery: the flat workgroup index of a 2-D dispatch, and the row-wise kernels' layout of a workgroup
// as tx rows x ty lanes (reduce, softmax, layer-norm, cumsum, attention) with the tree reduction of each row's
// partials in workgroup memory.
import type { Expr, Scalar } from '../../wgsl/ast.js';
import { type KernelBuilder, MAX_WORKGROUPS_PER_DIM } from '../../wgsl/build.js';
import { add, builtin, div, ge, gt, index, lit, lt, member, mod, mul, mulConst, shr } from '../../wgsl/dsl.js';
import { forLoop } from './loops.js';
import { ceilDiv, pow2ceil } from './tensor.js';

/**
 * The workgroup's flat index over `groups` workgroups and an early exit for the padding workgroups of a 2-D
 * dispatch (the condition is workgroup-uniform, so later barriers stay in uniform control flow).
 */
export function workgroupFlat(k: KernelBuilder, groups: number): Expr {
  const wg = k.workgroupIndex(groups);
  const x = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
  if (x * ceilDiv(groups, x) !== groups) k.if(ge(wg, lit.u32(groups)), () => k.return());
  return wg;
}

/**
 * 1, but not known to the shader compiler: num_workgroups.z (1 in every dispatch) clamped. Loop bounds multiplied
 * by it stay opaque: LLVM-based drivers (lavapipe) fully unroll constant-trip loops, and with barriers inside that
 * multiplies compile time (19 s instead of 0.6 s for a scan over 10 chunks).
 */
export function opaqueOne(k: KernelBuilder): Expr {
  return k.let('one', builtin('min', member(k.builtinInput('num_workgroups'), 'z'), lit.u32(1)));
}

// ---- lanes: a workgroup as tx outputs x ty lanes ----------------------------------------------------------------

export interface Lanes {
  readonly tx: number;
  readonly ty: number;
  /** x varies fastest with the invocation index (consecutive outputs adjacent), else y. */
  readonly xFast: boolean;
}

export const MAX_WORKGROUP = 256;

/** Elements a reduction lane takes before the tree combines lanes (chooseLanes' perLane). */
export const REDUCE_PER_LANE = 16;

/**
 * Lanes for `outputs` rows of `len` elements each. Contiguous rows: up to 256 lanes per row, several rows per
 * workgroup when rows are short. Strided rows (`run` consecutive outputs adjacent in memory): up to 32 outputs
 * side by side, so each lane step reads consecutive words. `perLane`: elements each lane reduces on its own
 * before the tree (a reduction's lanes; 1 for a scan, whose lanes each own one element): a lane per element
 * costs a barrier round per doubling for nothing, and on lavapipe a round costs more than the loads it saves
 * (GlobalAveragePool of 1000 x 169 in light SqueezeNet: 1000 workgroups of 256 lanes, 8 rounds, 15 ms).
 */
export function chooseLanes(outputs: number, len: number, contiguous: boolean, run = 1, perLane = 1): Lanes {
  len = Math.ceil(len / perLane);
  if (contiguous) {
    const ty = Math.min(MAX_WORKGROUP, pow2ceil(len));
    return { tx: Math.min(MAX_WORKGROUP / ty, pow2ceil(outputs)), ty, xFast: false };
  }
  const tx0 = Math.min(32, pow2ceil(run), pow2ceil(outputs));
  const ty = Math.min(MAX_WORKGROUP / tx0, pow2ceil(len));
  return { tx: Math.min(MAX_WORKGROUP / ty, pow2ceil(outputs)), ty, xFast: true };
}

export interface LaneCoords {
  /** Invocation index in the workgroup. */
  readonly lid: Expr;
  /** Which of the workgroup's tx rows. */
  readonly x: Expr;
  /** Lane within the row, 0..ty-1. */
  readonly y: Expr;
  /** 1, but not known to the shader compiler (opaqueOne): loop bounds are multiplied by it. */
  readonly one: Expr;
}

/** The lane coordinates; call at the top level of the kernel, before any other statement that uses them. */
export function laneCoords(k: KernelBuilder, { tx, ty, xFast }: Lanes): LaneCoords {
  const lid = k.builtinInput('local_invocation_index');
  const one = opaqueOne(k);
  const x = tx === 1 ? lit.u32(0) : ty === 1 ? lid : k.let('lx', xFast ? mod(lid, lit.u32(tx)) : div(lid, lit.u32(ty)));
  const y = ty === 1 ? lit.u32(0) : tx === 1 ? lid : k.let('ly', xFast ? div(lid, lit.u32(tx)) : mod(lid, lit.u32(ty)));
  return { lid, x, y, one };
}

/** An opaque bound: `n * one` (see LaneCoords.one). */
export const opaque = (c: LaneCoords, n: number): Expr => mul(lit.u32(n), c.one);

/** Distance in workgroup memory slots between lanes y and y+1 of a row. */
export const laneStep = (l: Lanes): number => (l.xFast ? l.tx : 1);
/** Slot of lane 0 of row x. */
export const rowSlot = (l: Lanes, x: Expr): Expr => (l.tx === 1 ? lit.u32(0) : l.xFast ? x : mulConst(x, l.ty));

/** Combines two partial results (each a tuple of accumulator parts); may emit `let`s. */
export type Combine = (k: KernelBuilder, a: readonly Expr[], b: readonly Expr[]) => Expr[];

/**
 * Tree-reduce each row's ty partials (a tuple of parts of the given types) in workgroup memory; every invocation
 * gets its row's result. Must be reached by all invocations of the workgroup (it holds barriers).
 */
export function workgroupReduce(k: KernelBuilder, l: Lanes, c: LaneCoords, types: readonly Scalar[], parts: readonly Expr[], combine: Combine): Expr[] {
  if (l.ty === 1) return [...parts];
  const sh = types.map((t) => k.workgroupArray('sh', { kind: 'scalar', scalar: t }, l.tx * l.ty));
  sh.forEach((s, j) => k.assign(index(s, c.lid), parts[j]!));
  k.workgroupBarrier();
  // A uniform loop (span = ty/2, ty/4, ..., 1), so its barrier is in uniform control flow.
  forLoop(
    k,
    'span',
    opaque(c, l.ty / 2),
    (span) => gt(span, lit.u32(0)),
    (span) => shr(span, lit.u32(1)),
    (span) => {
      k.if(lt(c.y, span), () => {
        const a = sh.map((s) => k.let('a', index(s, c.lid)));
        const b = sh.map((s) => k.let('b', index(s, add(c.lid, mulConst(span, laneStep(l))))));
        combine(k, a, b).forEach((v, j) => k.assign(index(sh[j]!, c.lid), v));
      });
      k.workgroupBarrier();
    },
  );
  const slot = k.let('slot', rowSlot(l, c.x));
  return sh.map((s) => k.let('red', index(s, slot)));
}
