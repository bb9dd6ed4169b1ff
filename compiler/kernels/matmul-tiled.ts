// The shared GEMM skeletons: C[b, i, j] = sum_p A(b, i, p) * B(b, p, j) over batches b, for any operand addressing
// (plain or strided matrices, broadcast batches, implicit im2col for convolution). A problem supplies loaders and
// a store; the skeleton supplies the loop nest, the workgroup-memory tiles and the ragged-edge guards.
//
// Tiled: each workgroup computes a bm x bn output tile, each invocation a tm x tn register block held as vec4
// rows. Per bk-slice of K, the workgroup stages A[bm x bk] and B[bk x bn] in workgroup memory as vec4 columns
// (4 rows of A, or 4 columns of B, at one p), so the inner product reads one vec4 of each per step. Threads
// map onto tile loads along each operand's contiguous axis, so neighbouring invocations read neighbouring words.
// Out-of-range rows, columns and K are loaded from clamped (in-bounds) indices and replaced by zero, so loads
// are always safe and branch-free; aligned dims get no guard at all. Sizes may be symbolic (read from the dims
// uniform at run time): a symbolic dim counts as ragged everywhere, and the K loop runs to its run-time value.
import { dimCeilDiv, dimMul, dimProduct } from '../../ir/dim.js';
import type { Dim } from '../../ir/shape.js';
import type { Expr, Scalar } from '../wgsl/ast.js';
import type { KernelBuilder } from '../wgsl/build.js';
import { add, builtin, construct, index, land, lit, lt, member, mul, mulConst, select, sumU32, vecType } from '../wgsl/dsl.js';
import { XYZW, ceilDiv, dimMinus, divC, divDim, modC, modDim, raggedDim, workgroupFlatDim } from './lib/index.js';

/** A loaded element as the compute scalar; `valid` (when given) false means the element is zero (padding). */
export interface Load {
  readonly value: Expr;
  readonly valid?: Expr;
}

export interface GemmProblem {
  readonly m: Dim;
  readonly n: Dim;
  readonly k: Dim;
  /** Number of independent products. */
  readonly batch: Dim;
  readonly compute: Extract<Scalar, 'f32' | 'i32' | 'u32'>;
  /** The axis of A (rows i, cols p) and B (rows p, cols j) along which consecutive elements are adjacent. */
  readonly aContig: 'row' | 'col';
  readonly bContig: 'row' | 'col';
  /** Called once per workgroup with its batch index (a u32 let), before any load or store. */
  setupBatch(batch: Expr): void;
  /** A(i, p) for in-range u32 indices (may emit statements). */
  loadA(i: Expr, p: Expr): Load;
  /** B(p, j) for in-range u32 indices. */
  loadB(p: Expr, j: Expr): Load;
  /** Write the result `acc` (compute scalar) of output (i, j); called only for in-range indices. */
  store(i: Expr, j: Expr, acc: Expr): void;
  /** Vector loads of A (rows i, cols p) and B (rows p, cols j), where the operand allows them. */
  readonly vecA?: VecLoad;
  readonly vecB?: VecLoad;
}

/**
 * Four consecutive elements along `along` as a vec4 of the compute scalar, from a start index that is a multiple
 * of 4; the dim along the vector is static and a multiple of 4, so a vector is either wholly in range or wholly out.
 */
export interface VecLoad {
  readonly along: 'row' | 'col';
  load(r: Expr, c: Expr): Expr;
}

export interface TileConfig {
  readonly bm: number;
  readonly bn: number;
  readonly bk: number;
  readonly tm: number;
  readonly tn: number;
}

const u = lit.u32;
const min = (a: Expr, b: Expr): Expr => builtin('min', a, b);

export function tileThreads(t: TileConfig): number {
  return (t.bm / t.tm) * (t.bn / t.tn);
}

/** Workgroup-memory bytes of a tile configuration (both staged operands, 4-byte compute scalars). */
export function tileBytes(t: TileConfig): number {
  return (t.bm + t.bn) * t.bk * 4;
}

export function checkTile(t: TileConfig): void {
  const threads = tileThreads(t);
  const ok =
    t.tm % 4 === 0 &&
    t.tn % 4 === 0 &&
    t.bm % t.tm === 0 &&
    t.bn % t.tn === 0 &&
    threads <= 256 &&
    t.bk % 4 === 0 &&
    tileBytes(t) <= 16384;
  if (!ok) throw new Error(`invalid matmul tile ${JSON.stringify(t)}`);
}

export function emitTiledGemm(k: KernelBuilder, p: GemmProblem, t: TileConfig): void {
  checkTile(t);
  const { bm, bn, bk, tm, tn } = t;
  const threads = tileThreads(t);
  if (k.workgroupSize !== threads) throw new Error(`tiled matmul needs workgroup size ${threads}, builder has ${k.workgroupSize}`);
  const zero = lit.of(p.compute, 0);
  const vec = vecType(4, p.compute);
  const tileA = k.workgroupArray('tile_a', vec, (bk * bm) / 4);
  const tileB = k.workgroupArray('tile_b', vec, (bk * bn) / 4);
  const tilesN = dimCeilDiv(p.n, bn);
  const tilesM = dimCeilDiv(p.m, bm);
  const wg = workgroupFlatDim(k, dimProduct([tilesN, tilesM, p.batch]));
  const lidx = k.builtinInput('local_invocation_index');
  p.setupBatch(k.let('batch', divDim(k, wg, dimMul(tilesN, tilesM))));
  const row0 = k.let('row0', mulConst(modDim(k, divDim(k, wg, tilesN), tilesM), bm));
  const col0 = k.let('col0', mulConst(modDim(k, wg, tilesN), bn));
  const tcol = k.let('tcol', modC(lidx, bn / tn));
  const trow = k.let('trow', divC(lidx, bn / tn));
  const acc = Array.from({ length: tm }, (_, r) =>
    Array.from({ length: tn / 4 }, (_, q) => k.var(`acc${r}_${q}`, vec, construct(vec, zero))),
  );
  const raggedM = raggedDim(p.m, bm);
  const raggedN = raggedDim(p.n, bn);

  k.for('t', u(0), k.dim(p.k), (kt) => {
    stage(k, p, { tile: tileA, vecs: bm / 4, bk, threads, dimV: p.m, base: row0, kt, contig: p.aContig === 'row' ? 'vec' : 'depth', load: p.loadA, vec: p.vecA && { along: p.vecA.along === 'row' ? 'vec' : 'depth', load: p.vecA.load } }, lidx);
    const flipB = (f: (r: Expr, c: Expr) => Expr) => (j: Expr, pp: Expr) => f(pp, j);
    stage(k, p, { tile: tileB, vecs: bn / 4, bk, threads, dimV: p.n, base: col0, kt, contig: p.bContig === 'col' ? 'vec' : 'depth', load: (j, pp) => p.loadB(pp, j), vec: p.vecB && { along: p.vecB.along === 'col' ? 'vec' : 'depth', load: flipB(p.vecB.load) } }, lidx);
    k.workgroupBarrier();
    // The inner product over the staged slice: a runtime loop, unrolled 4x for big register blocks (large
    // problems) only, since unrolled bodies make shader compilation slow on some drivers (lavapipe).
    const unroll = tm * tn >= 64 && bk % 4 === 0 ? 4 : 1;
    k.for('pl', u(0), u(bk), (pl0) => {
      for (let d = 0; d < unroll; d++) {
        const pl = d ? add(pl0, u(d)) : pl0;
        const as = Array.from({ length: tm / 4 }, (_, q) => k.let('a', index(tileA, sumU32([mulConst(pl, bm / 4), mulConst(trow, tm / 4), u(q)]))));
        const bs = Array.from({ length: tn / 4 }, (_, q) => k.let('b', index(tileB, sumU32([mulConst(pl, bn / 4), mulConst(tcol, tn / 4), u(q)]))));
        for (let r = 0; r < tm; r++) {
          const a = member(as[r >> 2]!, XYZW[r & 3]!);
          for (let q = 0; q < tn / 4; q++) k.compound('+=', acc[r]![q]!, mul(a, bs[q]!));
        }
      }
    }, unroll);
    k.workgroupBarrier();
  }, bk);

  for (let r = 0; r < tm; r++) {
    const i = k.let('i', add(row0, add(mulConst(trow, tm), u(r))));
    const row = (): void => {
      for (let c = 0; c < tn; c++) {
        const j = k.let('j', add(col0, add(mulConst(tcol, tn), u(c))));
        const value = member(acc[r]![c >> 2]!, XYZW[c & 3]!);
        if (raggedN) k.if(lt(j, k.dim(p.n)), () => p.store(i, j, value));
        else p.store(i, j, value);
      }
    };
    if (raggedM) k.if(lt(i, k.dim(p.m)), row);
    else row();
  }
}


interface Staging {
  readonly tile: Expr;
  /** vec4 columns of the tile across its vector dim (A: bm/4 rows, B: bn/4 columns). */
  readonly vecs: number;
  readonly bk: number;
  readonly threads: number;
  /** Problem size along the vector dim (M or N). */
  readonly dimV: Dim;
  /** First index of the tile along the vector dim, and along K. */
  readonly base: Expr;
  readonly kt: Expr;
  /** The operand's contiguous axis: the tile's vector dim or its depth (K). */
  readonly contig: 'vec' | 'depth';
  load(v: Expr, p: Expr): Load;
  readonly vec?: { readonly along: 'vec' | 'depth'; load(v: Expr, p: Expr): Expr } | undefined;
}

/**
 * Stage one operand's bk-deep slice in workgroup memory: tile[p * vecs + v/4] holds elements v..v+3 (along M for
 * A, N for B) at depth p. Each invocation fills 4x4 blocks: four vec4 loads when the operand is vector-loadable
 * (transposed in registers when its vectors run along K), else sixteen guarded scalar loads.
 */
function stage(k: KernelBuilder, p: GemmProblem, s: Staging, lidx: Expr): void {
  const zero = lit.of(p.compute, 0);
  const vec = vecType(4, p.compute);
  const zeroVec = construct(vec, zero);
  const perDepth = s.bk / 4;
  const units = s.vecs * perDepth;
  const raggedV = raggedDim(s.dimV, s.vecs * 4);
  const raggedK = raggedDim(p.k, s.bk);
  /**
   * A load at (v, pp) that is zero where v >= dimV or pp >= K (only ragged dims are checked); the load itself
   * reads at indices clamped to dimV - vLess and K - pLess, so it never leaves the operand.
   */
  const guard = (value: (v: Expr, pp: Expr) => Load, zeroV: Expr, v: Expr, vLess: number, pp: Expr, pLess: number): Expr => {
    const conds: Expr[] = [];
    if (raggedV) conds.push(lt(v, k.dim(s.dimV)));
    if (raggedK) conds.push(lt(pp, k.dim(p.k)));
    const l = value(raggedV ? min(v, dimMinus(k, s.dimV, vLess)) : v, raggedK ? min(pp, dimMinus(k, p.k, pLess)) : pp);
    if (l.valid) conds.push(l.valid);
    return conds.length ? select(conds.reduce(land), l.value, zeroV) : l.value;
  };
  for (let e = 0; e < ceilDiv(units, s.threads); e++) {
    const body = (): void => {
      const unit = k.let('u', sumU32([lidx, u(e * s.threads)]));
      const [v4, p4] = s.contig === 'depth' ? [divC(unit, perDepth), modC(unit, perDepth)] : [modC(unit, s.vecs), divC(unit, s.vecs)];
      const v = k.let('v', add(s.base, mulConst(v4, 4)));
      const pp = k.let('p', add(s.kt, mulConst(p4, 4)));
      const at = (d: number, e2: Expr): Expr => (d ? add(e2, u(d)) : e2);
      let rows: Expr[];
      const vecLoad = (f: (v: Expr, pp: Expr) => Expr) => (vv: Expr, q: Expr): Load => ({ value: f(vv, q) });
      if (s.vec?.along === 'vec') {
        rows = [0, 1, 2, 3].map((b) => guard(vecLoad(s.vec!.load), zeroVec, v, 4, at(b, pp), 1));
      } else if (s.vec?.along === 'depth') {
        const cols = [0, 1, 2, 3].map((a) => k.let('w', guard(vecLoad(s.vec!.load), zeroVec, at(a, v), 1, pp, 4)));
        rows = [0, 1, 2, 3].map((b) => construct(vec, ...cols.map((c) => member(c, XYZW[b]!))));
      } else {
        rows = [0, 1, 2, 3].map((b) => construct(vec, ...[0, 1, 2, 3].map((a) => guard(s.load, zero, at(a, v), 1, at(b, pp), 1))));
      }
      rows.forEach((r, b) => k.assign(index(s.tile, add(mulConst(add(mulConst(p4, 4), u(b)), s.vecs), v4)), r));
    };
    if ((e + 1) * s.threads > units) k.if(lt(add(lidx, u(e * s.threads)), u(units)), body);
    else body();
  }
}
