// The epilogue of a matmul or convolution kernel: elementwise ops applied to each output element before it is
// stored (bias add, then Relu, ...), so the fused chain costs no extra pass over memory. Each op is a row of
// elementwise-wgsl.ts; its extra operands are tensors broadcast (numpy rules) to the kernel's output shape, and
// the running value takes operand position `at` (0 by default: `Sub` with at=1 computes operand - value).
// A fusion pass fills `epilogue` in the spec; the lowering binds the extra operands after the kernel's own inputs.
// With symbolic shapes (`dims` on the output and operands) the broadcasts read their sizes from the dims uniform.
import type { Attrs } from '../../ir/graph.js';
import { AttrReader, lookupOp } from '../../ir/op.js';
import type { Expr } from '../wgsl/ast.js';
import type { KernelBuilder } from '../wgsl/build.js';
import { ELEMENTWISE_WGSL, elementwiseExpr } from './elementwise-wgsl.js';
import { type TensorSpec, toCompute } from './lib/index.js';

export interface EpilogueOp {
  /** An elementwise op with a WGSL row (Add, Relu, Clip, Gelu, ...). */
  readonly op: string;
  readonly attrs: Attrs;
  /** Extra operands besides the running value, each broadcast to the output shape. */
  readonly operands: readonly TensorSpec[];
  /** Position of the running value among the op's operands (default 0). */
  readonly at?: number;
}

export type Epilogue = readonly EpilogueOp[];

/** Number of storage bindings an epilogue adds. */
export const epilogueBindings = (e: Epilogue | undefined): number => (e ?? []).reduce((n, op) => n + op.operands.length, 0);

/**
 * Declare the epilogue's operand bindings (`epi<i>_<j>`, in op order, then operand order) and return the function
 * that applies it to a compute value of the output element at flat index `flat`.
 */
export function declareEpilogue(
  k: KernelBuilder,
  epilogue: Epilogue | undefined,
  out: TensorSpec,
): (value: Expr, flat: Expr) => Expr {
  const ops = epilogue ?? [];
  const steps = ops.map((e, i) => {
    const def = lookupOp(e.op);
    if (!def || !(e.op in ELEMENTWISE_WGSL)) throw new Error(`epilogue op ${e.op} is not an elementwise op with a kernel row`);
    const at = e.at ?? 0;
    if (at < 0 || at > e.operands.length) throw new Error(`epilogue op ${e.op}: value position ${at} out of range`);
    return { e, at, attrs: new AttrReader(e.op, def.attrs, e.attrs), operands: e.operands.map((t, j) => k.input(`epi${i}_${j}`, t)) };
  });
  return (value, flat) => {
    let x = value;
    for (const s of steps) {
      const xs = s.operands.map((a) => toCompute(out.dims ? a.loadBroadcastDims(out.dims, flat) : a.loadBroadcast(out.shape, flat), a.value));
      xs.splice(s.at, 0, x);
      // A let per op: rows may use their operand several times (Relu's NaN test), so keep the text linear.
      x = k.let('epi', elementwiseExpr(s.e.op, xs, { attrs: s.attrs, dtype: out.dtype, out: out.dtype }));
    }
    return x;
  };
}
