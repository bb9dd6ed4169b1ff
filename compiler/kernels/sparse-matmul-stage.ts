// The staging of the activation's K-tile in workgroup memory, which both sparse kernels share: element
// c * nb + n holds x[n0 + n, k0 + c] (zero past N and K) as f32, in vec4s of four neighbouring n when the block
// is at least 4 wide, so one load feeds four accumulators.
import type { TensorAccessor } from '../wgsl/accessor.js';
import type { Expr } from '../wgsl/ast.js';
import type { KernelBuilder } from '../wgsl/build.js';
import { T, add, builtin, construct, div, index, land, lit, lt, mod, mul, mulConst, select, vecType } from '../wgsl/dsl.js';
import { toCompute } from './lib/index.js';

const u = lit.u32;

/** The activation block a workgroup stages: nb rows of x from n0, K-tile columns from k0. */
export interface XStaging {
  readonly x: TensorAccessor;
  /** The workgroup array: f32 when nb < 4, else vec4<f32> (nb a multiple of 4). */
  readonly xs: Expr;
  readonly nb: number;
  readonly n: number;
  readonly k: number;
  readonly tileK: number;
  readonly n0: Expr;
  readonly k0: Expr;
  readonly lid: Expr;
  readonly threads: number;
  readonly one: Expr;
}

/** Whether the x block is held as vec4s of four n. */
export const xIsVec4 = (nb: number): boolean => nb >= 4;

/** Declare the staging array for an nb-wide block. */
export function declareXStaging(k: KernelBuilder, tileK: number, nb: number): Expr {
  return xIsVec4(nb) ? k.workgroupArray('xs', vecType(4, 'f32'), (tileK * nb) / 4) : k.workgroupArray('xs', T.f32, tileK * nb);
}

/**
 * One element x[n, c] (global indices) as f32, zero past N or K; the load uses clamped indices so it stays in
 * bounds. Only a ragged dim (N not a multiple of the block, K not of the tile) is checked.
 */
function xAt(s: XStaging, n: Expr, c: Expr): Expr {
  const raggedN = s.n % s.nb !== 0;
  const raggedK = s.k % s.tileK !== 0;
  const conds = [...(raggedN ? [lt(n, u(s.n))] : []), ...(raggedK ? [lt(c, u(s.k))] : [])];
  const row = raggedN ? builtin('min', n, u(Math.max(0, s.n - 1))) : n;
  const col = raggedK ? builtin('min', c, u(Math.max(0, s.k - 1))) : c;
  const value = toCompute(s.x.load(add(mulConst(row, s.k), col)), s.x.value);
  return conds.length ? select(conds.reduce(land), value, lit.f32(0)) : value;
}

/** Every invocation stores whole staging elements (a scalar, or a whole vec4), so no two write the same word. */
export function stageX(k: KernelBuilder, s: XStaging): void {
  const vec = xIsVec4(s.nb);
  const width = vec ? s.nb / 4 : s.nb;
  const units = s.tileK * width;
  const trips = Math.ceil(units / s.threads);
  // A bound of a few trips may unroll; a long one is kept opaque.
  const bound = trips <= 4 ? u(units) : mul(u(units), s.one);
  k.for('su', s.lid, bound, (unit) => {
    const c = k.let('sc', width === 1 ? unit : div(unit, u(width)));
    const q = width === 1 ? u(0) : k.let('sq', mod(unit, u(width)));
    const col = k.let('kc', add(s.k0, c));
    if (!vec) {
      k.assign(index(s.xs, unit), xAt(s, add(s.n0, q), col));
      return;
    }
    const n = k.let('sn', add(s.n0, mulConst(q, 4)));
    k.assign(index(s.xs, unit), construct(vecType(4, 'f32'), ...[0, 1, 2, 3].map((e) => xAt(s, e ? add(n, u(e)) : n, col))));
  }, s.threads);
}
