// How one IR node becomes GPU work. A lowering either aliases its output to an input's memory (Reshape and
// friends move no data) or returns kernel steps: a kernel (deduplicated by the structural hash of its spec) plus,
// for each of the kernel's bindings in order, which value or scratch buffer it binds.
import { AttrReader, type Node, type Tensor, type TensorType, lookupOp } from '../../ir/index.js';
import type { DeviceProfile } from '../../passes/index.js';
import type { CacheFold } from './fuse-cache-write.js';
import type { SparseChoice, SparseKernelOverride } from './sparse-lowerings.js';
import type { Kernel, KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Epilogue } from '../kernels/matmul-epilogue.js';
import type { Target } from '../wgsl/build.js';
import type { DimContext } from '../wgsl/dims.js';

/**
 * What a kernel binding is bound to: a graph value, or a temporary private to the node's steps. `uniform` marks
 * an i32/u32/f32 scalar graph input the kernel declares as `var<uniform>` vec4 (value in .x): the planner puts it
 * in the uniform buffer, so per-step numbers (a decode position) change without new pipelines or bind groups.
 */
export type ArgRef =
  | { readonly value: string; readonly uniform?: boolean }
  | { readonly scratch: string; readonly bytes: number }
  /** The program's dims uniform (symbol values, wgsl/dims.ts), for kernels with symbolic shapes. */
  | { readonly dims: true };

export interface Step {
  readonly kernel: Kernel;
  readonly args: readonly ArgRef[];
  /** Floating-point (or integer) operations the step performs, for `kiln inspect`. */
  readonly flops: number;
  /** A sparse matmul's kernel choice (a lowering decision, reported per layer in the manifest). */
  readonly sparse?: SparseChoice;
}

/**
 * alias: the output shares an input's memory and no work is done. views: each output is a contiguous byte range
 * of input `of` (a Split into whole rows), at an offset bindable on its own. steps: kernels compute the output.
 * inplace: the steps update input `of` where it lies and the output is that same memory (a KV-cache write);
 * allowed only when nothing else reads `of`.
 */
export type Lowering =
  | { readonly kind: 'alias'; readonly of: string }
  | { readonly kind: 'views'; readonly of: string; readonly views: readonly { readonly output: string; readonly offset: number }[] }
  | { readonly kind: 'steps'; readonly steps: readonly Step[] }
  | { readonly kind: 'inplace'; readonly of: string; readonly steps: readonly Step[] };

/**
 * Elementwise ops fused into the epilogue of the node being lowered (see fuse-epilogue.ts): the kernel applies
 * `ops` before storing, binds `operands` after its own inputs, and writes `output` instead of the node's result.
 */
export interface PlannedEpilogue {
  readonly ops: Epilogue;
  readonly operands: readonly string[];
  readonly output: string;
  /** A BitMatMul's scaling chain (fuse-bit-scaling.ts), applied before `ops`: bound before their operands. */
  readonly bitScaling?: { readonly scales: string; readonly rowScales: string };
}

export interface LoweringContext {
  readonly target: Target;
  /** Set only for nodes whose lowering accepts an epilogue (MatMul, Gemm, Conv, ConvTranspose, BitMatMul GEMVs). */
  readonly epilogue?: PlannedEpilogue;
  /** Set only for an Attention whose kernel does the KV-cache writes before it (fuse-cache-write.ts). */
  readonly cacheFold?: CacheFold;
  /** Set only for a CacheWrite that an Attention's kernel does: it lowers to its in-place alias alone. */
  readonly writtenByAttention?: boolean;
  /** Values a MatMul/Gemm binds in place of its operands: the narrow inputs of fused widening casts. */
  readonly operandSources?: ReadonlyMap<string, string>;
  /** The graph being lowered (an entry point's name). */
  readonly graphName: string;
  /** The program's symbols, when the graph has symbolic dims (kernels that support them read the dims uniform). */
  readonly dims?: DimContext;
  typeOf(value: string): TensorType;
  /** A constant's stored tensor (its data under its layout and encoding), for lowerings that read storage. */
  storage(value: string): Tensor | undefined;
  /** The device the cost models are calibrated for (sparse kernel variants). */
  readonly profile: DeviceProfile;
  /** Force one sparse kernel variant instead of the cost model's pick (benches compare them). */
  readonly sparseKernel?: SparseKernelOverride;
  /** The kernel for a spec, built once per distinct spec. */
  kernel<S extends KernelSpecBase>(gen: KernelGen<S>, spec: S): Kernel;
}

export type NodeLowering = (node: Node, cx: LoweringContext) => Lowering;

export class LoweringError extends Error {
  override name = 'LoweringError';
}

/** A node's attributes read through its op's declared attribute specs (defaults filled in): every lowering's reader. */
export function attrsOf(node: Node): AttrReader {
  const def = lookupOp(node.op);
  if (!def) throw new LoweringError(`unknown op ${node.op}`);
  return new AttrReader(node.op, def.attrs, node.attrs);
}
