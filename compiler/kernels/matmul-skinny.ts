// The skinny GEMM skeleton, for products where one side has at most 8 rows (A) or columns (B): decode-time
// matmuls ([1, K] x [K, N]), GEMV, dot products. A tile would waste most of its rows there, so instead each
// workgroup owns `lb` indices of the long side and splits K into `ks` slices: every invocation accumulates the
// S skinny outputs of one (long index, slice) pair over its strided share of K, then the slices are summed by a
// tree reduction in workgroup memory. Invocations map onto the long operand along its contiguous axis ('l-fast':
// neighbours take neighbouring long indices; 'k-fast': neighbours take neighbouring p), so reads coalesce.
// With `vec`, the long operand is read as vec4s: four long indices per invocation (l-fast) or four p per load
// (k-fast). `unroll` independent accumulators per output hide the latency of the add chain.
// Symbolic sizes (read from the dims uniform): a symbolic skinny side gets accumulators for its upper bound, with
// its loads and stores guarded; a symbolic long side or K is bounded at run time (no vec4 reads along either).
import { dimCeilDiv, dimFloorDiv, dimMul } from '../../ir/dim.js';
import type { Expr, Type } from '../wgsl/ast.js';
import type { KernelBuilder } from '../wgsl/build.js';
import { add, builtin, construct, div, eq, index, land, lit, lt, member, mul, mulConst, select, sumU32, vecType } from '../wgsl/dsl.js';
import { XYZW, dimMinus, divC, divDim, modC, modDim, raggedDim, workgroupFlatDim } from './lib/index.js';
import type { GemmProblem, Load } from './matmul-tiled.js';

export interface SkinnyConfig {
  /** The skinny operand: A (M <= 8) or B (N <= 8). */
  readonly small: 'a' | 'b';
  /** K slices per long index (a power of two). */
  readonly ks: number;
  /** Long-side invocations per workgroup (each covering 4 long indices with l-fast `vec`). */
  readonly lb: number;
  /** Independent accumulators per output (ILP over K): 1, 2 or 4. */
  readonly unroll: number;
  /** Read the long operand as vec4s (needs the problem's vector loads along its contiguous axis). */
  readonly vec: boolean;
}

export const MAX_SKINNY = 8;
const u = lit.u32;

const valueOf = (l: Load, zero: Expr): Expr => (l.valid ? select(l.valid, l.value, zero) : l.value);

export function emitSkinnyGemm(k: KernelBuilder, p: GemmProblem, c: SkinnyConfig): void {
  const smallDim = c.small === 'a' ? p.m : p.n;
  // Outputs per long index: all of the skinny side, or its upper bound when it is symbolic (the rest guarded).
  const small = k.dimMax(smallDim);
  const smallGuard = typeof smallDim !== 'number';
  const long = c.small === 'a' ? p.n : p.m;
  const threads = c.ks * c.lb;
  if (small > MAX_SKINNY || (c.ks & (c.ks - 1)) !== 0 || threads > 256 || threads !== k.workgroupSize || ![1, 2, 4].includes(c.unroll))
    throw new Error(`invalid skinny matmul config ${JSON.stringify(c)} for ${small} x ${long} (workgroup ${k.workgroupSize})`);
  const zero = lit.of(p.compute, 0);
  const vec4 = vecType(4, p.compute);
  // The long operand is B (indexed p, j) when A is skinny, else A (indexed i, p).
  const lfast = c.small === 'a' ? p.bContig === 'col' : p.aContig === 'row';
  const longVec = c.small === 'a' ? p.vecB : p.vecA;
  const smallVec = c.small === 'a' ? p.vecA : p.vecB;
  const alongLong = c.small === 'a' ? 'col' : 'row';
  const mode = !c.vec ? 'scalar' : lfast ? 'lvec' : 'kvec';
  if (mode !== 'scalar' && longVec?.along !== (mode === 'lvec' ? alongLong : alongLong === 'col' ? 'row' : 'col'))
    throw new Error(`skinny matmul: the long operand has no vector loads for ${mode}`);
  if (mode !== 'scalar' && typeof (mode === 'lvec' ? long : p.k) !== 'number') throw new Error(`skinny matmul: ${mode} needs a static ${mode === 'lvec' ? 'long side' : 'K'}`);
  const loadLong = (l: Expr, pp: Expr): Load => (c.small === 'a' ? p.loadB(pp, l) : p.loadA(l, pp));
  // A symbolic skinny side: outputs past its run-time size read a clamped index and count as zero.
  const loadSmallAt = (s: Expr, pp: Expr): Load => (c.small === 'a' ? p.loadA(s, pp) : p.loadB(pp, s));
  const loadSmall = (s: number, pp: Expr): Load => {
    if (!smallGuard) return loadSmallAt(u(s), pp);
    const l = loadSmallAt(builtin('min', u(s), dimMinus(k, smallDim, 1)), pp);
    const inRange = lt(u(s), k.dim(smallDim));
    return { value: l.value, valid: l.valid ? land(inRange, l.valid) : inRange };
  };
  const vecLong = (l: Expr, pp: Expr): Expr => (c.small === 'a' ? longVec!.load(pp, l) : longVec!.load(l, pp));
  const vecSmall = (s: number, pp: Expr): Expr => (c.small === 'a' ? smallVec!.load(u(s), pp) : smallVec!.load(pp, u(s)));
  const smallHasVec = !smallGuard && smallVec !== undefined && smallVec.along === (c.small === 'a' ? 'col' : 'row');

  // Long indices per invocation, and the K extent in load units (4 p per unit in kvec mode).
  const perInv = mode === 'lvec' ? 4 : 1;
  const unitK = mode === 'kvec' ? 4 : 1;
  const longUnits = dimFloorDiv(long, perInv);
  const kUnits = dimFloorDiv(p.k, unitK);
  const tiles = dimCeilDiv(longUnits, c.lb);
  const wg = workgroupFlatDim(k, dimMul(tiles, p.batch));
  const lidx = k.builtinInput('local_invocation_index');
  p.setupBatch(k.let('batch', divDim(k, wg, tiles)));
  const slice = k.let('slice', lfast ? divC(lidx, c.lb) : modC(lidx, c.ks));
  const lu = k.let('l', add(mulConst(modDim(k, wg, tiles), c.lb), lfast ? modC(lidx, c.lb) : divC(lidx, c.ks)));
  const l0 = perInv === 1 ? lu : k.let('l0', mulConst(lu, perInv));
  const sliceStep = lfast ? c.lb : 1;
  const accType: Type = mode === 'scalar' ? { kind: 'scalar', scalar: p.compute } : vec4;
  const accZero = mode === 'scalar' ? zero : construct(vec4, zero);
  const lanes = c.unroll;
  const acc = Array.from({ length: small }, (_, s) => Array.from({ length: lanes }, (_, v) => k.var(`acc${s}_${v}`, accType, accZero)));
  const ragged = raggedDim(longUnits, c.lb);

  /** One strided step of `n` lanes at unit `q0` (lane v reads unit q0 + v*ks; all in range). */
  const step = (q0: Expr, n: number): void => {
    for (let v = 0; v < n; v++) {
      const pp = mulConst(v === 0 ? q0 : add(q0, u(v * c.ks)), unitK);
      const x = k.let('x', mode === 'scalar' ? valueOf(loadLong(l0, pp), zero) : vecLong(l0, pp));
      for (let s = 0; s < small; s++) {
        let y: Expr;
        if (mode === 'kvec') y = smallHasVec ? vecSmall(s, pp) : construct(vec4, ...XYZW.map((_, e) => valueOf(loadSmall(s, e ? add(pp, u(e)) : pp), zero)));
        else y = valueOf(loadSmall(s, pp), zero);
        k.compound('+=', acc[s]![v]!, mul(y, x));
      }
    }
  };
  const accumulate = (): void => {
    const stride = c.ks * lanes;
    if (typeof kUnits !== 'number') {
      // K known at run time: whole unrolled steps up to its last multiple of the stride, then single lanes.
      if (lanes === 1) return k.for('q', slice, k.dim(kUnits), (q) => step(q, 1), c.ks);
      const full = k.let('full', mul(div(k.dim(kUnits), u(stride)), u(stride)));
      k.for('q', slice, full, (q) => step(q, lanes), stride);
      return k.for('q', add(slice, full), k.dim(kUnits), (q) => step(q, 1), c.ks);
    }
    const full = Math.floor(kUnits / stride) * stride; // units below `full` take whole unrolled steps
    if (full > 0) k.for('q', slice, u(full), (q) => step(q, lanes), stride);
    // The rest one lane at a time; the loop condition keeps it in range.
    if (full < kUnits) k.for('q', full ? add(slice, u(full)) : slice, u(kUnits), (q) => step(q, 1), c.ks);
  };
  if (ragged) k.if(lt(lu, k.dim(longUnits)), accumulate);
  else accumulate();

  // Per output: the lanes summed, then (kvec) the vector's components; lvec keeps four outputs in a vec4.
  const redType: Type = mode === 'lvec' ? vec4 : { kind: 'scalar', scalar: p.compute };
  if (small * threads * (mode === 'lvec' ? 16 : 4) > 16384) throw new Error(`skinny matmul config ${JSON.stringify(c)} needs more than 16 KB of workgroup memory`);
  const red = k.workgroupArray('red', redType, small * threads);
  for (let s = 0; s < small; s++) {
    let total = acc[s]!.reduce((a, b) => add(a, b));
    if (mode === 'kvec') total = XYZW.map((m) => member(total, m)).reduce((a, b) => add(a, b));
    k.assign(index(red, sumU32([u(s * threads), lidx])), total);
  }
  k.workgroupBarrier();
  for (let half = c.ks / 2; half >= 1; half /= 2) {
    k.if(lt(slice, u(half)), () => {
      for (let s = 0; s < small; s++) {
        const at = sumU32([u(s * threads), lidx]);
        k.compound('+=', index(red, at), index(red, add(at, u(half * sliceStep))));
      }
    });
    k.workgroupBarrier();
  }
  const done = ragged ? land(eq(slice, u(0)), lt(lu, k.dim(longUnits))) : eq(slice, u(0));
  k.if(done, () => {
    for (let s = 0; s < small; s++) {
      const r = index(red, sumU32([u(s * threads), lidx]));
      const store = (): void => {
        for (let e = 0; e < perInv; e++) {
          const l = e === 0 ? l0 : add(l0, u(e));
          const value = perInv === 1 ? r : member(r, XYZW[e]!);
          if (c.small === 'a') p.store(u(s), l, value);
          else p.store(l, u(s), value);
        }
      };
      if (smallGuard) k.if(lt(u(s), k.dim(smallDim)), store);
      else store();
    }
  });
}
