// Matrix products: one spec and generator for MatMul (batched, broadcast batch dims, 1-D operands), Gemm
// (alpha, beta, transposes, C), MatMulInteger (i8/u8 with zero points, exact i32 result) and Einsum contractions.
// Every operand and the output is addressed by strides over (batch dims, row, col), so transposes, broadcast
// batches (stride 0) and einsum permutations cost nothing. The result goes through
//   alpha * acc + beta * C  ->  epilogue ops  ->  store
// Shapes are baked in; the path (tiled in workgroup memory, or skinny for M or N <= 8) and its tile sizes are
// chosen when the spec is built and are part of it. With symbolic dims (MatMul and Gemm) sizes and strides are
// dims read from the dims uniform at run time; the path and tiles are chosen from the upper bounds (every choice
// stays correct for smaller sizes: loads and stores are guarded, loops bounded at run time) and vec4 reads are
// used only where divisibility is proven for every size.
import { dimMul, dimProduct } from '../../ir/dim.js';
import { dtypeInfo } from '../../ir/dtype.js';
import { type Dim, numel } from '../../ir/shape.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { TensorAccessor } from '../wgsl/accessor.js';
import type { Expr } from '../wgsl/ast.js';
import { broadcastIndex } from '../wgsl/broadcast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { type DimContext, dimMax } from '../wgsl/dims.js';
import { add, convert, div, index, lit, mod, mul, sub, sumU32 } from '../wgsl/dsl.js';
import { MAX_STORAGE_BINDINGS, type TensorSpec, ceilDiv, computeScalar, dimDivisible, fromCompute, mulConstF32, mulDim, pow2ceil, toCompute, unflattenDims, vec4FloatInput } from './lib/index.js';
import { type Epilogue, declareEpilogue, epilogueBindings } from './matmul-epilogue.js';
import { MAX_SKINNY, type SkinnyConfig, emitSkinnyGemm } from './matmul-skinny.js';
import { type GemmProblem, type TileConfig, emitTiledGemm, tileThreads } from './matmul-tiled.js';

/** Element (batch coords b, row r, col c) of a tensor is at sum(b_d * batch_d) + r * row + c * col. */
export interface Strides<D extends Dim = number> {
  readonly batch: readonly D[];
  readonly row: D;
  readonly col: D;
}

export interface OperandSpec<D extends Dim = number> extends TensorSpec {
  readonly strides: Strides<D>;
}

export interface ZeroPointSpec extends TensorSpec {
  /** The zero point's shape as it broadcasts (numpy rules) onto its operand's shape. */
  readonly view: readonly number[];
}

export type MatMulPath = ({ readonly kind: 'tiled' } & TileConfig) | ({ readonly kind: 'skinny' } & SkinnyConfig);

/** A product's spec; sizes and strides are numbers, or dims over the program's symbols (MatMulSpec<Dim>). */
/** A strided matmul (StridedMatMul below) as a kernel spec: alpha and the path are settled. */
export interface MatMulSpec<D extends Dim = number> extends KernelSpecBase, StridedMatMul<D> {
  readonly kernel: 'matmul';
  /** Present when a size is symbolic: the kernel binds the dims uniform first and sizes itself at run time. */
  readonly dims?: DimContext;
  readonly alpha: number;
  readonly path: MatMulPath;
}

const u = lit.u32;

/**
 * The axis along which an operand can be read as vec4s: its elements along that axis are adjacent, the dim is a
 * multiple of 4, and every other stride is a multiple of 4, so each vector starts on a vec4 boundary. Only
 * unpacked 32-bit operands computed as they are stored, or f16 operands computed in f32 (no zero point). With
 * symbolic dims the vector's dim must be static and every stride and the element count provably multiples of 4.
 */
export function vecAxis(o: OperandSpec<Dim>, rows: Dim, cols: Dim, compute: string, zeroPoint: boolean): 'row' | 'col' | undefined {
  const vectorisable = o.dtype === compute || (o.dtype === 'f16' && compute === 'f32');
  const four = (d: Dim): boolean => typeof d === 'number' && d % 4 === 0;
  if (zeroPoint || !vectorisable || numel(o.shape) % 4 !== 0 || (o.dims && !dimDivisible(dimProduct(o.dims), 4)) || o.strides.batch.some((b) => !dimDivisible(b, 4))) return undefined;
  if (o.strides.col === 1 && four(cols) && dimDivisible(o.strides.row, 4)) return 'col';
  if (o.strides.row === 1 && four(rows) && dimDivisible(o.strides.col, 4)) return 'row';
  return undefined;
}

interface Operand {
  /** Element at a flat index, as the compute scalar (widened, zero point subtracted). */
  read(flat: Expr): Expr;
  /** The vec4 starting at a flat index that is a multiple of 4 (vector-bound operands only). */
  readVec?: (flat: Expr) => Expr;
}

/** Bind operand `name`: as vec4s when `vec`, else through a TensorAccessor (any dtype, packed or not). */
function bindOperand(k: KernelBuilder, name: string, t: TensorSpec, compute: string, vec: boolean): Operand {
  if (vec) {
    // Four elements per load (f16 widened as a vector: f16 storage, f32 arithmetic).
    const group = vec4FloatInput(k, name, t);
    return { read: (flat) => index(group(div(flat, u(4))), mod(flat, u(4))), readVec: (flat) => group(div(flat, u(4))) };
  }
  const acc = k.input(name, t);
  return { read: (flat) => widen(acc, acc.load(flat), compute) };
}

function widen(a: TensorAccessor, e: Expr, compute: string): Expr {
  const v = toCompute(e, a.value);
  return computeScalar(a.dtype) === compute ? v : convert(compute as 'f32', v);
}

export const matmul: KernelGen<MatMulSpec<Dim>> = (spec) => {
  const { path } = spec;
  const threads = path.kind === 'tiled' ? tileThreads(path) : path.ks * path.lb;
  const k = new KernelBuilder({ target: spec.target, workgroupSize: threads, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const compute = computeScalar(spec.out.dtype);
  if (compute !== 'f32' && compute !== 'i32' && compute !== 'u32') throw new Error(`matmul cannot compute in ${compute}`);
  const vecA = vecAxis(spec.a, spec.m, spec.k, compute, !!spec.aZero);
  const vecB = vecAxis(spec.b, spec.k, spec.n, compute, !!spec.bZero);
  const A = bindOperand(k, 'a', spec.a, compute, vecA !== undefined);
  const B = bindOperand(k, 'b', spec.b, compute, vecB !== undefined);
  const AZ = spec.aZero && k.input('a_zero', spec.aZero);
  const BZ = spec.bZero && k.input('b_zero', spec.bZero);
  const C = spec.c && k.input('c', spec.c);
  const epilogue = declareEpilogue(k, spec.epilogue, spec.out);
  const out = k.output('out', spec.out);
  if (out.packed) throw new Error(`matmul output dtype ${spec.out.dtype} is packed in storage; compile with shader-f16 or compute in f32`);
  const shifted = (o: Operand, zp: TensorAccessor | undefined, shape: readonly number[], view: readonly number[] | undefined) => (flat: Expr): Expr =>
    zp ? sub(o.read(flat), widen(zp, zp.load(broadcastIndex(shape, view!, flat)), compute)) : o.read(flat);
  const readA = shifted(A, AZ, spec.a.shape, spec.aZero?.view);
  const readB = shifted(B, BZ, spec.b.shape, spec.bZero?.view);
  const bases = { a: u(0) as Expr, b: u(0) as Expr, out: u(0) as Expr };
  const at = (base: Expr, s: Strides<Dim>, r: Expr, c: Expr): Expr => sumU32([base, mulDim(k, r, s.row), mulDim(k, c, s.col)]);
  const problem: GemmProblem = {
    m: spec.m,
    n: spec.n,
    k: spec.k,
    batch: dimProduct(spec.batch),
    compute,
    aContig: spec.a.strides.col === 1 || spec.a.strides.row !== 1 ? 'col' : 'row',
    bContig: spec.b.strides.col === 1 || spec.b.strides.row !== 1 ? 'col' : 'row',
    setupBatch(batch) {
      if (spec.batch.length === 0) return;
      const coords = unflattenDims(batch, spec.batch, (d) => k.dim(d)).map((c, d) => k.let(`bc${d}`, c));
      for (const which of ['a', 'b', 'out'] as const)
        bases[which] = k.let(`${which}_base`, sumU32(coords.map((c, d) => mulDim(k, c, spec[which].strides.batch[d]!))));
    },
    loadA: (i, p) => ({ value: readA(at(bases.a, spec.a.strides, i, p)) }),
    loadB: (p, j) => ({ value: readB(at(bases.b, spec.b.strides, p, j)) }),
    ...(vecA ? { vecA: { along: vecA, load: (i: Expr, p: Expr) => A.readVec!(at(bases.a, spec.a.strides, i, p)) } } : {}),
    ...(vecB ? { vecB: { along: vecB, load: (p: Expr, j: Expr) => B.readVec!(at(bases.b, spec.b.strides, p, j)) } } : {}),
    store(i, j, acc) {
      const flat = k.let('o', at(bases.out, spec.out.strides, i, j));
      // alpha and beta through mulConstF32 for floats: a driver may fold 0 * x to 0, but 0 * NaN is NaN.
      const scaled = (c: number, x: Expr): Expr => (c === 1 ? x : compute === 'f32' ? mulConstF32(c, x) : mul(lit.of(compute, c), x));
      let v = scaled(spec.alpha, acc);
      if (C && spec.c) {
        const cv = toCompute(spec.out.dims ? C.loadBroadcastDims(spec.out.dims, flat) : C.loadBroadcast(spec.out.shape, flat), C.value);
        v = add(v, scaled(spec.c.beta, cv));
      }
      out.store(flat, fromCompute(epilogue(v, flat), out.value));
    },
  };
  if (path.kind === 'tiled') emitTiledGemm(k, problem, path);
  else emitSkinnyGemm(k, problem, path);
  return k.finish();
};

// ---- specs --------------------------------------------------------------------------------------------------

/** Workgroup memory a kernel may use (WebGPU's default maxComputeWorkgroupStorageSize). */
const SKINNY_WORKGROUP_BYTES = 16384;

/** How an operand lies in memory: its contiguous axis, and the axis it can be read as vec4s along (if any). */
export interface OperandLayout {
  readonly contig: 'row' | 'col';
  readonly vec?: 'row' | 'col' | undefined;
}

/**
 * The kernel path for an M x N x K product: skinny when M or N is at most 8 (with vec4 reads of the long operand
 * where it allows them), else tiled: 64x64 tiles of 8x8 register blocks once there are enough of them to fill
 * a device, 32x32 tiles of 4x4 blocks below that.
 */
export function chooseMatMulPath(m: number, n: number, k: number, a: OperandLayout, b: OperandLayout): MatMulPath {
  if (Math.min(m, n) <= MAX_SKINNY) {
    const small = m <= n ? 'a' : 'b';
    const long = Math.max(m, n);
    const lay = small === 'a' ? b : a;
    const alongLong = small === 'a' ? 'col' : 'row';
    const lfast = lay.contig === alongLong;
    const vec = lay.vec !== undefined && (lay.vec === alongLong) === lfast;
    const longUnits = vec && lfast ? long / 4 : long;
    const kUnits = vec && !lfast ? k / 4 : k;
    let lb: number;
    let ks: number;
    if (lfast) {
      lb = Math.min(64, pow2ceil(longUnits));
      ks = Math.min(256 / lb, pow2ceil(ceilDiv(kUnits, 8)));
    } else {
      ks = Math.min(64, pow2ceil(ceilDiv(kUnits, 8)));
      lb = Math.min(256 / ks, pow2ceil(longUnits));
    }
    // Independent accumulators for ILP; several skinny outputs already give some, and code size matters too.
    const maxUnroll = Math.min(m, n) >= 4 ? 1 : Math.min(m, n) >= 2 ? 2 : 4;
    const unroll = Math.min(maxUnroll, kUnits >= 8 * ks ? 4 : kUnits >= 2 * ks ? 2 : 1);
    // The slice reduction holds one partial per output and invocation in 16 KB of workgroup memory.
    const maxThreads = Math.floor(SKINNY_WORKGROUP_BYTES / (Math.min(m, n) * (vec && lfast ? 16 : 4)));
    while (ks * lb > maxThreads) {
      if (ks > 1 && (lfast || lb === 1)) ks /= 2;
      else lb /= 2;
    }
    return { kind: 'skinny', small, ks, lb, unroll, vec };
  }
  if (m * n >= 32 * 64 * 64) return { kind: 'tiled', bm: 64, bn: 64, bk: 32, tm: 8, tn: 8 };
  return { kind: 'tiled', bm: 32, bn: 32, bk: 32, tm: 4, tn: 4 };
}

export interface StridedMatMul<D extends Dim = number> {
  readonly m: D;
  readonly n: D;
  readonly k: D;
  /** Batch dims (merged where the strides allow); their product is the number of products. */
  readonly batch: readonly D[];
  /** A: rows i, cols p. */
  readonly a: OperandSpec<D>;
  /** B: rows p, cols j. */
  readonly b: OperandSpec<D>;
  /** The result: rows i, cols j. */
  readonly out: OperandSpec<D>;
  readonly alpha?: number;
  /** Added as beta * C, C broadcast to the output's shape. */
  readonly c?: TensorSpec & { readonly beta: number };
  readonly aZero?: ZeroPointSpec;
  readonly bZero?: ZeroPointSpec;
  readonly epilogue?: Epilogue;
  readonly path?: MatMulPath;
}

type Which = 'a' | 'b' | 'out';
const withBatch = (o: OperandSpec<Dim>, batch: readonly Dim[]): OperandSpec<Dim> => ({ ...o, strides: { ...o.strides, batch } });

/** Batch dims without size-1 dims, neighbours merged where every tensor's strides let them act as one. */
function mergeBatch(p: StridedMatMul<Dim>): StridedMatMul<Dim> {
  const dims: Dim[] = [];
  const strides: Record<Which, Dim[]> = { a: [], b: [], out: [] };
  const names = ['a', 'b', 'out'] as const;
  p.batch.forEach((size, d) => {
    if (size === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && names.every((w) => strides[w][last] === dimMul(p[w].strides.batch[d]!, size))) {
      dims[last] = dimMul(dims[last]!, size);
      for (const w of names) strides[w][last] = p[w].strides.batch[d]!;
      return;
    }
    dims.push(size);
    for (const w of names) strides[w].push(p[w].strides.batch[d]!);
  });
  return { ...p, batch: dims, a: withBatch(p.a, strides.a), b: withBatch(p.b, strides.b), out: withBatch(p.out, strides.out) };
}

/**
 * Symbolic products only: a trailing batch dim that B broadcasts over, and along which A and the output are
 * stacked row-wise (A[b, i, p] at (b*M + i) * row), joins M: [batch, sequence, K] x [K, N] becomes one
 * [batch*sequence, K] product whose tiles and dispatch follow the run-time rows.
 */
function foldBatch(p: StridedMatMul<Dim>): StridedMatMul<Dim> {
  let q = p;
  while (q.batch.length) {
    const d = q.batch.length - 1;
    const stacked = (o: OperandSpec<Dim>): boolean => o.strides.batch[d] === dimMul(q.m, o.strides.row);
    if (q.b.strides.batch[d] !== 0 || !stacked(q.a) || !stacked(q.out)) break;
    const drop = (o: OperandSpec<Dim>): OperandSpec<Dim> => withBatch(o, o.strides.batch.slice(0, -1));
    q = { ...q, m: dimMul(q.batch[d]!, q.m), batch: q.batch.slice(0, -1), a: drop(q.a), b: drop(q.b), out: drop(q.out) };
  }
  return q;
}

/** The spec of a product given by strides; `dims` when a size is symbolic (path chosen from upper bounds). */
function buildSpec(target: Target, p0: StridedMatMul<Dim>, dims: DimContext | undefined): MatMulSpec<Dim> {
  const p = dims ? foldBatch(mergeBatch(p0)) : mergeBatch(p0);
  const contig = (s: Strides<Dim>): 'row' | 'col' => (s.col === 1 || s.row !== 1 ? 'col' : 'row');
  const compute = computeScalar(p.out.dtype);
  const bindings = 3 + (p.c ? 1 : 0) + (p.aZero ? 1 : 0) + (p.bZero ? 1 : 0) + epilogueBindings(p.epilogue);
  if (bindings > MAX_STORAGE_BINDINGS)
    throw new Error(`matmul with ${bindings} storage bindings exceeds the limit of ${MAX_STORAGE_BINDINGS}; fuse fewer epilogue operands`);
  // f16 operands without shader-f16 are read packed two per u32 and widened; an f16 result would need f16 stores.
  if (p.out.dtype === 'f16' && !target.shaderF16) throw new Error('an f16 matmul result needs the shader-f16 feature in the target');
  if (dtypeInfo(p.out.dtype).kind === 'float' && p.out.dtype !== 'f32' && p.out.dtype !== 'f16')
    throw new Error(`matmul has no kernel for ${p.out.dtype} results`);
  const most = (d: Dim): number => dimMax(dims, d);
  return {
    kernel: 'matmul',
    target: { shaderF16: target.shaderF16 },
    ...(dims ? { dims } : {}),
    m: p.m,
    n: p.n,
    k: p.k,
    batch: p.batch,
    a: p.a,
    b: p.b,
    out: p.out,
    alpha: p.alpha ?? 1,
    ...(p.c ? { c: p.c } : {}),
    ...(p.aZero ? { aZero: p.aZero } : {}),
    ...(p.bZero ? { bZero: p.bZero } : {}),
    ...(p.epilogue?.length ? { epilogue: p.epilogue } : {}),
    path:
      p.path ??
      chooseMatMulPath(
        most(p.m),
        most(p.n),
        most(p.k),
        { contig: contig(p.a.strides), vec: vecAxis(p.a, p.m, p.k, compute, !!p.aZero) },
        { contig: contig(p.b.strides), vec: vecAxis(p.b, p.k, p.n, compute, !!p.bZero) },
      ),
  };
}

/** A spec from explicit strides (the form einsum lowers to); checks the binding limit. */
export const stridedMatMulSpec = (target: Target, p: StridedMatMul): MatMulSpec => buildSpec(target, p, undefined) as MatMulSpec;

export interface MatMulOperands {
  /** numpy shapes: rank >= 1, batch dims broadcast; with transA/transB (2-D only) stored transposed. */
  readonly a: TensorSpec;
  readonly b: TensorSpec;
  readonly out: TensorSpec;
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  readonly c?: TensorSpec & { readonly beta: number };
  readonly aZero?: ZeroPointSpec;
  readonly bZero?: ZeroPointSpec;
  readonly epilogue?: Epilogue;
  readonly path?: MatMulPath;
}

/** numpy batch broadcasting of one dim pair; symbolic dims broadcast only against 1 or themselves. */
function broadcastDim(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
  if (a === b || b === 1 || a === 1) return a === 1 ? b : a;
  throw new Error(`batch dims ${a} and ${b} of a matmul with symbolic shape must be equal or 1`);
}

/** The strides of a numpy-style or Gemm-style product over the operands' shapes (`dims` or static `shape`). */
function operandStrides(o: MatMulOperands, shape: (t: TensorSpec) => readonly Dim[]): StridedMatMul<Dim> {
  const [sa, sb] = [shape(o.a), shape(o.b)];
  const a2 = sa.length === 1 ? [1, sa[0]!] : [...sa];
  const b2 = sb.length === 1 ? [sb[0]!, 1] : [...sb];
  const [ar, ac] = a2.slice(-2) as [Dim, Dim];
  const [br, bc] = b2.slice(-2) as [Dim, Dim];
  const [m, k] = o.transA ? [ac, ar] : [ar, ac];
  const n = o.transB ? br : bc;
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pad = (s: Dim[]): Dim[] => [...new Array<Dim>(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(aBatch), pad(bBatch)];
  const batch = pa.map((d, i) => broadcastDim(d, pb[i]!));
  const batchStrides = (dims: Dim[], matrix: Dim): Dim[] => {
    const s: Dim[] = [];
    let stride = matrix;
    for (let d = dims.length - 1; d >= 0; d--) {
      s.unshift(dims[d] === 1 ? 0 : stride);
      stride = dimMul(stride, dims[d]!);
    }
    return s;
  };
  const outStrides = batchStrides(batch, dimMul(m, n)).map((s, d) => (batch[d] === 1 ? 0 : s));
  return {
    m,
    n,
    k,
    batch,
    a: { ...o.a, strides: { batch: batchStrides(pa, dimMul(m, k)), ...(o.transA ? { row: 1, col: m } : { row: k, col: 1 }) } },
    b: { ...o.b, strides: { batch: batchStrides(pb, dimMul(k, n)), ...(o.transB ? { row: 1, col: k } : { row: n, col: 1 }) } },
    out: { ...o.out, strides: { batch: outStrides, row: n, col: 1 } },
    ...(o.alpha !== undefined ? { alpha: o.alpha } : {}),
    ...(o.c ? { c: o.c } : {}),
    ...(o.aZero ? { aZero: o.aZero } : {}),
    ...(o.bZero ? { bZero: o.bZero } : {}),
    ...(o.epilogue ? { epilogue: o.epilogue } : {}),
    ...(o.path ? { path: o.path } : {}),
  };
}

/** The spec of a numpy-style (MatMul, MatMulInteger) or Gemm-style (transposed 2-D operands) product. */
export const matMulSpec = (target: Target, o: MatMulOperands): MatMulSpec => buildSpec(target, operandStrides(o, (t) => t.shape), undefined) as MatMulSpec;

/**
 * matMulSpec over operands with symbolic dims (TensorSpecs from symbolicTensor): one kernel for every size in
 * the symbols' ranges. Zero points (MatMulInteger) are not supported here.
 */
export function symbolicMatMulSpec(target: Target, o: MatMulOperands, dims: DimContext): MatMulSpec<Dim> {
  if (o.aZero || o.bZero) throw new Error('matmul zero points need static shapes');
  return buildSpec(target, operandStrides(o, (t) => t.dims ?? t.shape), dims);
}

/** FLOPs of a spec's product (2 per multiply-add; at the upper bounds when sizes are symbolic). */
export const matMulFlops = (s: MatMulSpec<Dim>): number => 2 * numel([s.m, s.n, s.k, ...s.batch].map((d) => dimMax(s.dims, d)));
