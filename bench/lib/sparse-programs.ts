// kiln's side of the sparse benchmark: one compiled program per weight, with one entry point per (kernel, N),
// loaded once into a Session on the shared device. Entry points of a program share the weight's constants by
// name, so an 11008 x 4096 weight is encoded, hashed and uploaded once for every N and both sparse variants,
// instead of eight times.
//
//   sparse: x[N, K] -> Gemm(x, W[M, K] as Tiled-CSL, transB = 1), kernel forced per entry   entries direct_n8, ...
//   dense:  x[N, K] f32 -> Gemm(x, Cast<f32>(W16[M, K]), transB = 1), arranged panels        entries dense_n8, ...
// Entries with an `_f32` suffix take x in f32 (and so give y in f32) for the correctness check at 1e-4: the
// timed entries are f16 in and out, whose rounding alone exceeds that (sparse-reference.ts).
import { compileProgram, type ProgramEntry } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { PROFILES } from '../../passes/sparse/profiles.js';
import { type ConstantDecl, type DType, type Graph, GraphBuilder, ROW_MAJOR, type TiledCsl, makeTensor, tensorType, tiledCslEncoding } from '../../ir/index.js';
import type { AcquiredDevice } from '../../runtime/device.js';
import { Session } from '../../runtime/index.js';

export type SparseVariant = 'direct' | 'scatter';
export type XDType = 'f16' | 'f32';

export const entryName = (kernel: SparseVariant | 'dense', n: number, x: XDType): string => `${kernel}_n${n}${x === 'f32' ? '_f32' : ''}`;

/** A constant every entry declares: one tensor (held as float64, so made once) under one name. */
function constantDecl(name: string, dtype: DType, shape: number[], values: ArrayLike<number>): ConstantDecl {
  return { name, type: tensorType(dtype, shape), value: makeTensor(dtype, shape, values) };
}

function sparseGraph(weight: ConstantDecl, k: number, n: number, variant: SparseVariant, x: XDType): Graph {
  const b = new GraphBuilder(entryName(variant, n, x));
  const input = b.input('x', tensorType(x, [n, k]));
  b.output(b.op('Gemm', [input, b.declareConstant(weight)], { transB: 1 }, { names: ['y'] }));
  return b.build();
}

/**
 * The dense baseline. With f16 weights (the timed entries) it is kiln's best dense path for them: x and y in f32,
 * the weight read through a widening Cast (store-weights-f16's form), which the arranged kernel fuses into its
 * loads of the panels arrange-layout stores (the roofline GEMV of bench:gemv; an f16 x would keep the weight
 * row-major, as the arranged kernel computes in f32). The f32 entries (the 1e-4 check) read an f32 weight.
 */
function denseGraph(weight: ConstantDecl, m: number, k: number, n: number, dtype: XDType): Graph {
  const b = new GraphBuilder(entryName('dense', n, dtype));
  const x = b.input('x', tensorType('f32', [n, k]));
  const w = b.declareConstant(weight);
  b.output(b.op('Gemm', [x, dtype === 'f16' ? b.op('Cast', [w], { to: 'f32' }) : w], { transB: 1 }, { names: ['y'] }));
  return b.build();
}

/**
 * Compile and load a program on the shared device (shader-f16 target, the lavapipe profile). Entries named after a
 * sparse variant (direct_n8, scatter_n8_f32) get that kernel; the cost model does not choose in a benchmark of both.
 */
async function load(name: string, entries: Record<string, ProgramEntry>, device: AcquiredDevice): Promise<Session> {
  const artifact = compileProgram(
    { name, entries },
    { target: { shaderF16: true }, profile: PROFILES.lavapipe!, sparseKernel: (_node, entry) => (entry.startsWith('direct_') ? { variant: 'direct' } : entry.startsWith('scatter_') ? { variant: 'scatter' } : undefined) },
  );
  return Session.load(artifactFiles(artifact, `memory:${name}`), { device });
}

/** Both sparse variants for every N of `ns` with f16 x (timed) and of `checkNs` with f32 x (the 1e-4 check). */
export function loadSparseProgram(csl: TiledCsl, ns: readonly number[], checkNs: readonly number[], device: AcquiredDevice): Promise<Session> {
  // The weight as the IR holds it: A[M, K] (a Gemm transB operand) stored as this Tiled-CSL encoding, offsets first.
  const type = (dtype: XDType) => tensorType(dtype, [csl.m, csl.k], ROW_MAJOR, tiledCslEncoding([csl.params.tileM, csl.params.tileK], csl.params.values));
  const words = new Float64Array(csl.offsets.length + csl.items.length);
  words.set(csl.offsets);
  words.set(csl.items, csl.offsets.length);
  const stored = makeTensor('u32', [words.length], words);
  const weight = (dtype: XDType): ConstantDecl => ({ name: `w_${dtype}`, type: type(dtype), value: stored });
  const entries: Record<string, ProgramEntry> = {};
  for (const variant of ['direct', 'scatter'] as const) {
    for (const n of ns) entries[entryName(variant, n, 'f16')] = { graph: sparseGraph(weight('f16'), csl.k, n, variant, 'f16') };
    for (const n of checkNs) entries[entryName(variant, n, 'f32')] = { graph: sparseGraph(weight('f32'), csl.k, n, variant, 'f32') };
  }
  return load(`sparse_${csl.m}x${csl.k}`, entries, device);
}

/** The dense Gemm for every N with the weight in `dtype` (f16 timed; f32 only for the correctness check). */
export function loadDenseProgram(w: Float32Array, m: number, k: number, ns: readonly number[], dtype: XDType, device: AcquiredDevice): Promise<Session> {
  const weight = constantDecl('w', dtype, [m, k], w);
  const entries: Record<string, ProgramEntry> = {};
  for (const n of ns) entries[entryName('dense', n, dtype)] = { graph: denseGraph(weight, m, k, n, dtype) };
  return load(`dense_${m}x${k}_${dtype}`, entries, device);
}
