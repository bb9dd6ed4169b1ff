// Each kernel family states how it touches its bindings, as streams (model.ts): which bindings it streams once
// and contiguously, which it re-reads and how often (a tile re-loading an operand, a small operand every
// workgroup loads whole), and which it reads element by element with a stride (a transpose, a strided view). The
// descriptions follow the kernels' own comments on how lanes map onto memory (compiler/kernels/*.ts); a family not
// listed here is costed as streaming every binding once (`described: false`, shown by kiln inspect).
import { evalDim } from '../../ir/dim.js';
import type { Dim } from '../../ir/shape.js';
import type { KernelSpecBase } from '../kernel-spec.js';
import { type Stream, stream } from './model.js';

export interface BindingIO {
  readonly name: string;
  readonly access: 'read' | 'read_write' | 'uniform';
  /** Bytes of the region bound (for symbolic shapes: at the upper bounds, as memory is planned). */
  readonly bytes: number;
  readonly elementBytes: number;
  readonly shape?: readonly number[];
}

export interface KernelIO {
  readonly spec: KernelSpecBase;
  readonly bindings: readonly BindingIO[];
  /** Workgroups dispatched (symbolic counts at the upper bounds) and invocations per workgroup. */
  readonly workgroups: number;
  readonly threads: number;
}

/**
 * A family's streams; the flops it executes when tiles pad the problem (ragged edges computed in full); the
 * workgroup barrier rounds each workgroup runs (a tree reduction's log2 rounds, a tile loop's two per K step).
 */
type Described = Stream[] | { readonly streams: Stream[]; readonly executedFlops?: number; readonly barrierRounds?: number };
type Describe = (k: KernelIO, at: (name: string) => number) => Described;
const padded = (x: number, tile: number): number => Math.ceil(x / tile) * tile;

/** A dim's value, symbols at their upper bounds (the sizes memory and the streams are planned for). */
export function upper(d: Dim, spec: KernelSpecBase): number {
  if (typeof d === 'number') return d;
  const bounds = (spec as { dims?: { bounds: Record<string, { max: number }> } }).dims?.bounds ?? {};
  return evalDim(d, Object.fromEntries(Object.entries(bounds).map(([k, b]) => [k, b.max])));
}

const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
const isData = (b: BindingIO): boolean => b.access !== 'uniform';
/** Every data binding streamed once, contiguously: the default and the fallback. */
const streamAll = (k: KernelIO, skip: ReadonlySet<number> = new Set()): Stream[] =>
  k.bindings.flatMap((b, j) => (isData(b) && !skip.has(j) ? [stream(j, b.bytes)] : []));
const outIndex = (k: KernelIO): number => k.bindings.findIndex((b) => b.access === 'read_write');

/**
 * Elementwise: same-shaped operands and the output stream once; a broadcast operand is re-read by every
 * workgroup, each loading the distinct elements its block of the output touches (a bias per channel: a few; a row
 * vector: up to the workgroup's width).
 */
const elementwise: Describe = (k) => {
  const out = k.bindings[outIndex(k)]!;
  const outShape = out.shape ?? [];
  const perGroup = product(outShape) / Math.max(1, k.workgroups);
  return k.bindings.flatMap((b, j): Stream[] => {
    if (!isData(b)) return [];
    const shape = b.shape ?? outShape;
    if (b === out || product(shape) >= product(outShape)) return [stream(j, b.bytes)];
    // Distinct operand elements in a contiguous block of `perGroup` output elements, per aligned (right) dim.
    let distinct = 1;
    let outStride = 1;
    for (let d = 1; d <= outShape.length; d++) {
      const o = outShape[outShape.length - d]!;
      const s = shape[shape.length - d] ?? 1;
      if (s === o && o > 1) distinct *= Math.min(o, Math.ceil(perGroup / outStride));
      outStride *= o;
    }
    const bytes = Math.min(b.bytes, distinct * b.elementBytes);
    return [stream(j, bytes, bytes, k.workgroups)];
  });
};

interface Operand {
  readonly strides: { readonly row: Dim; readonly col: Dim };
}
interface MatMulLike extends KernelSpecBase {
  readonly m: Dim;
  readonly n: Dim;
  readonly k: Dim;
  readonly batch: readonly Dim[];
  readonly a: Operand;
  readonly b: Operand;
  readonly path: { readonly kind: 'tiled'; readonly bm: number; readonly bn: number; readonly bk: number } | { readonly kind: 'skinny'; readonly small: 'a' | 'b'; readonly ks?: number };
}

/** Contiguous bytes a tile's row of `rows x cols` elements offers: a whole tile row along the unit-stride axis. */
const tileRun = (o: Operand, rows: number, cols: number, eb: number): number => (o.strides.col === 1 ? cols : o.strides.row === 1 ? rows : 1) * eb;

/**
 * MatMul. Tiled: every (bm x bn) output tile loads its A rows and B columns in bk-deep slices, so A is read once
 * per column of tiles and B once per row of tiles. Skinny: the long operand streams once (lanes map onto its
 * contiguous axis, matmul-skinny.ts), and every workgroup loads the skinny operand whole.
 */
const matmul: Describe = (k, at) => {
  const s = k.spec as MatMulLike;
  const [m, n, kk] = [upper(s.m, s), upper(s.n, s), upper(s.k, s)];
  const batch = product(s.batch.map((d) => upper(d, s)));
  const [a, b] = [at('a'), at('b')];
  const ebA = k.bindings[a]!.elementBytes;
  const ebB = k.bindings[b]!.elementBytes;
  const skip = new Set([a, b]);
  const rest = streamAll(k, skip);
  if (s.path.kind === 'tiled') {
    const { bm, bn, bk } = s.path;
    const streams = [
      stream(a, batch * m * kk * ebA, tileRun(s.a, bm, bk, ebA), Math.ceil(n / bn)),
      stream(b, batch * kk * n * ebB, tileRun(s.b, bk, bn, ebB), Math.ceil(m / bm)),
      ...rest,
    ];
    return { streams, executedFlops: 2 * batch * padded(m, bm) * padded(n, bn) * padded(kk, bk), barrierRounds: 2 * Math.ceil(kk / bk) };
  }
  const [small, long] = s.path.small === 'a' ? [a, b] : [b, a];
  const smallBytes = Math.min(k.bindings[small]!.bytes, (small === a ? m * kk * ebA : kk * n * ebB) * batch);
  // K split over ks lanes, summed by a tree through workgroup memory: a store round and log2(ks) halvings.
  const ks = s.path.ks ?? 1;
  const streams = [stream(long, k.bindings[long]!.bytes), stream(small, smallBytes, smallBytes, k.workgroups), ...rest];
  return ks > 1 ? { streams, barrierRounds: 1 + Math.log2(ks) } : streams;
};

interface ConvLike extends KernelSpecBase {
  readonly x: { readonly shape: readonly Dim[] };
  readonly w: { readonly shape: readonly Dim[] };
  readonly out: { readonly shape: readonly Dim[] };
  readonly group: number;
  readonly strides: readonly number[];
  readonly transpose: boolean;
  readonly path: { readonly kind: 'direct' } | { readonly kind: 'gemm'; readonly bm: number; readonly bn: number; readonly bk: number };
}

/**
 * Conv (not transposed). Direct: a lane per output element, neighbours on neighbouring output columns, so each tap
 * is a contiguous read across the workgroup of every input the output needs; the weights of a workgroup's output
 * channels are loaded by each workgroup. GEMM (implicit im2col): the weights are re-read per column of tiles, the
 * input patches per row of tiles, gathered along the output row.
 */
const conv: Describe = (k, at) => {
  const s = k.spec as ConvLike;
  if (s.transpose) return streamAll(k);
  const [x, w] = [at('x'), at('w')];
  const eb = k.bindings[x]!.elementBytes;
  const out = s.out.shape.map((d) => upper(d, s));
  const wShape = s.w.shape.map((d) => upper(d, s));
  const taps = product(wShape.slice(1)); // C/group x kernel
  const outRow = out[out.length - 1] ?? 1;
  const outputs = product(out);
  const channels = out[1] ?? 1;
  const rest = streamAll(k, new Set([x, w]));
  const strideW = s.strides[s.strides.length - 1] ?? 1;
  const run = Math.min(outRow, k.threads) * strideW * eb;
  if (s.path.kind === 'direct') {
    const perGroupChannels = Math.min(channels, Math.ceil(k.threads / Math.max(1, outputs / channels)));
    const wBytes = Math.min(k.bindings[w]!.bytes, (perGroupChannels * k.bindings[w]!.bytes) / channels);
    return [stream(x, outputs * taps * eb, run), stream(w, wBytes, wBytes, k.workgroups), ...rest];
  }
  const { bm, bn, bk } = s.path;
  const columns = outputs / channels;
  const streams = [
    stream(w, k.bindings[w]!.bytes, bk * eb, Math.ceil(columns / bn)),
    stream(x, columns * taps * k.bindings[x]!.elementBytes, Math.min(run, bn * strideW * eb), Math.ceil(channels / bm)),
    ...rest,
  ];
  return { streams, executedFlops: 2 * padded(channels, bm) * padded(columns, bn) * padded(taps, bk) };
};

interface PoolLike extends KernelSpecBase {
  readonly output: { readonly shape: readonly Dim[] };
  readonly kernelShape: readonly number[];
  readonly strides: readonly number[];
}

/** Pooling: a lane per output, each tap a contiguous read across neighbouring output columns. */
const pool: Describe = (k, at) => {
  const s = k.spec as PoolLike;
  const x = at('x');
  const out = s.output.shape.map((d) => upper(d, s));
  const eb = k.bindings[x]!.elementBytes;
  const run = Math.min(out[out.length - 1] ?? 1, k.threads) * (s.strides[s.strides.length - 1] ?? 1) * eb;
  return [stream(x, product(out) * product(s.kernelShape) * eb, run), ...streamAll(k, new Set([x]))];
};

/** Row passes: softmax and layer-norm read each row three times (max or mean, sum or variance, write). */
const rowPasses =
  (input: string, passes: number): Describe =>
  (k, at) => {
    const x = at(input);
    return [stream(x, k.bindings[x]!.bytes, k.bindings[x]!.bytes, passes), ...streamAll(k, new Set([x]))];
  };

interface GatherLike extends KernelSpecBase {
  readonly shape: readonly Dim[];
  readonly sources: readonly { readonly terms: readonly (Dim | { readonly mult: Dim })[]; readonly covers?: { readonly axis: number; readonly from: Dim; readonly to: Dim } }[];
}

/**
 * Movement (gather-index): the output streams; each source is read at the element its iteration coordinates map
 * to. When the innermost coordinate moves a source by one element the reads are contiguous; otherwise (a
 * transpose, a strided slice) each element is its own request, `|multiplier|` elements from the last.
 */
const gatherIndex: Describe = (k) => {
  const s = k.spec as GatherLike;
  const shape = s.shape.map((d) => upper(d, s));
  const count = product(shape);
  const sources = k.bindings.map((b, j) => j).filter((j) => /^in\d+$/.test(k.bindings[j]!.name));
  return k.bindings.flatMap((b, j): Stream[] => {
    const src = s.sources[sources.indexOf(j)];
    if (!isData(b) || !src) return isData(b) ? [stream(j, b.bytes)] : [];
    const covered = src.covers ? (upper(src.covers.to, s) - upper(src.covers.from, s)) / Math.max(1, shape[src.covers.axis]!) : 1;
    const elements = count * covered;
    const last = src.terms[src.terms.length - 1];
    const mult = last === undefined ? 1 : Math.abs(upper(typeof last === 'object' && !Array.isArray(last) && 'mult' in last ? last.mult : (last as Dim), s));
    if (mult === 1) return [stream(j, elements * b.elementBytes, (shape[shape.length - 1] ?? 1) * b.elementBytes)];
    if (mult === 0) return [stream(j, b.elementBytes, b.elementBytes, elements)];
    return [stream(j, elements * b.elementBytes, b.elementBytes, 1, mult * b.elementBytes)];
  });
};

/**
 * The arranged GEMV (compiler/kernels/gemv-arranged.ts): each workgroup streams its panel of P x K weights as one
 * contiguous range (blocks of rows of one panel run back to back, so a panel is read from memory once); every
 * panel reads the whole activation (its rows); C and the output once.
 */
const gemvArranged: Describe = (k, at) => {
  const s = k.spec as KernelSpecBase & { readonly m: number; readonly k: number; readonly panel: number };
  const [x, w] = [at('x'), at('w')];
  const panels = Math.ceil(s.m / s.panel);
  const wb = k.bindings[w]!;
  const xb = k.bindings[x]!;
  return [stream(w, wb.bytes, s.panel * s.k * wb.elementBytes), stream(x, xb.bytes, xb.bytes, panels), ...streamAll(k, new Set([x, w]))];
};

/**
 * The arranged conv (compiler/kernels/conv-arranged.ts): the arranged GEMV's streams over the implicit GEMM: each
 * panel of P x (C * taps) filters once, the input once per panel (its taps overlap: each value is loaded for
 * every window it is in, from cache), bias and output once.
 */
const convArranged: Describe = (k, at) => {
  const s = k.spec as KernelSpecBase & { readonly panel: number; readonly conv: { readonly out: { readonly shape: readonly number[] } } };
  const [x, w] = [at('x'), at('w')];
  const panels = Math.ceil(s.conv.out.shape[1]! / s.panel);
  const [wb, xb] = [k.bindings[w]!, k.bindings[x]!];
  return [stream(w, wb.bytes, wb.bytes / panels), stream(x, xb.bytes, xb.bytes, panels), ...streamAll(k, new Set([x, w]))];
};

/**
 * The quant GEMV (compiler/kernels/quant-gemv.ts): each lane streams its rows of codes once, contiguously; every
 * workgroup (a block of 64 x R output rows) reads the whole activation; scales, zeros, C and the output once.
 */
const quantGemv: Describe = (k, at) => {
  const [x, w] = [at('x'), at('w')];
  const [wb, xb] = [k.bindings[w]!, k.bindings[x]!];
  const s = k.spec as KernelSpecBase & { readonly k: number; readonly bits: number };
  return [stream(w, wb.bytes, (s.k * s.bits) / 8), stream(x, xb.bytes, xb.bytes, Math.max(1, k.workgroups)), ...streamAll(k, new Set([x, w]))];
};

/**
 * Fused attention (compiler/kernels/attention.ts): a workgroup per (query row, query head) walks its kv head's keys
 * and values, D contiguous elements per key, so K and V are each read T * Hq / Hkv times over; q and y once. The
 * keys visible at run time are bounded by the cache's capacity here (the planned size).
 */
const attention: Describe = (k, at) => {
  const s = k.spec as KernelSpecBase & { readonly q: { readonly shape: readonly Dim[] }; readonly k: { readonly shape: readonly Dim[] } };
  const [rows, qHeads] = [upper(s.q.shape[0]!, s), upper(s.q.shape[1]!, s)];
  const [kvHeads, dim] = [upper(s.k.shape[1]!, s), upper(s.k.shape[2]!, s)];
  const [kj, vj] = [at('k'), at('v')];
  const times = (rows * qHeads) / Math.max(1, kvHeads);
  const kv = (j: number): Stream => stream(j, k.bindings[j]!.bytes, dim * k.bindings[j]!.elementBytes, times);
  return [kv(kj), kv(vj), ...streamAll(k, new Set([kj, vj]))];
};

/** A KV-cache write (compiler/kernels/cache-write.ts): the new rows are read and written once; the rest of the cache is untouched. */
const cacheWrite: Describe = (k, at) => {
  const [cache, rows] = [at('cache'), at('rows')];
  const bytes = k.bindings[rows]!.bytes;
  return [stream(rows, bytes), stream(cache, Math.min(bytes, k.bindings[cache]!.bytes)), ...streamAll(k, new Set([cache, rows]))];
};

const FAMILIES: Readonly<Record<string, Describe>> = {
  attention,
  'cache-write': cacheWrite,
  'conv-arranged': convArranged,
  'gemv-arranged': gemvArranged,
  'quant-gemv': quantGemv,
  elementwise,
  matmul,
  conv,
  pool,
  softmax: rowPasses('x', 3),
  'layer-norm': rowPasses('x', 3),
  reduce: (k) => streamAll(k),
  'gather-index': gatherIndex,
};

/**
 * The streams of one dispatch, whether its family described them (else: every binding streamed once), and the
 * flops a tiled kernel executes over its padded tiles (absent: the node's own count).
 */
export function describeTraffic(k: KernelIO): { streams: Stream[]; described: boolean; executedFlops?: number; barrierRounds?: number } {
  const family = FAMILIES[k.spec.kernel];
  const at = (name: string): number => {
    const j = k.bindings.findIndex((b) => b.name === name);
    if (j < 0) throw new Error(`traffic model: ${k.spec.kernel} kernel has no binding '${name}'`);
    return j;
  };
  if (!family) return { streams: streamAll(k), described: false };
  const d = family(k, at);
  return Array.isArray(d) ? { streams: d, described: true } : { ...d, described: true };
}
