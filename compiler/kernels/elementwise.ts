// The kernel for one elementwise node: every input broadcast (numpy rules, shapes baked in) to the output shape,
// the op's row from elementwise-wgsl.ts applied per element. Unpacked outputs get one invocation per element;
// packed outputs (sub-byte ints, bf16, f16 without shader-f16) get one invocation per storage word, which
// computes and packs all of the word's lanes.
import type { DType } from '../../ir/dtype.js';
import type { AttrValue, Node } from '../../ir/graph.js';
import { AttrReader, lookupOp } from '../../ir/op.js';
import { isStaticShape } from '../../ir/shape.js';
import type { TensorType } from '../../ir/types.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { TensorAccessor } from '../wgsl/accessor.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { lit, lt } from '../wgsl/dsl.js';
import { fromCompute, toCompute } from './convert-wgsl.js';
import { ELEMENTWISE_WGSL, elementwiseExpr } from './elementwise-wgsl.js';

export interface TensorSpec {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export interface ElementwiseSpec extends KernelSpecBase {
  readonly kernel: 'elementwise';
  readonly op: string;
  /** The node's attributes as given (defaults are applied from the op schema when generating). */
  readonly attrs: Readonly<Record<string, AttrValue>>;
  readonly inputs: readonly TensorSpec[];
  readonly output: TensorSpec;
  readonly workgroupSize: number;
}

export const hasElementwiseKernel = (op: string): boolean => op in ELEMENTWISE_WGSL;

function staticTensor(t: TensorType, what: string): TensorSpec {
  if (!isStaticShape(t.shape)) throw new Error(`${what} has symbolic shape [${t.shape.join(',')}]; elementwise kernels need static shapes`);
  return { dtype: t.dtype, shape: [...t.shape] };
}

/** The spec of the kernel for an elementwise node, given the types of its values. */
export function elementwiseSpec(
  node: Node,
  typeOf: (value: string) => TensorType,
  target: Target,
  workgroupSize = 64,
): ElementwiseSpec {
  if (!hasElementwiseKernel(node.op)) throw new Error(`${node.op} has no elementwise kernel`);
  return {
    kernel: 'elementwise',
    target: { shaderF16: target.shaderF16 },
    op: node.op,
    attrs: { ...node.attrs },
    inputs: node.inputs.map((v) => staticTensor(typeOf(v), `%${v}`)),
    output: staticTensor(typeOf(node.outputs[0]!), `%${node.outputs[0]}`),
    workgroupSize,
  };
}

export const elementwise: KernelGen<ElementwiseSpec> = (spec) => {
  const def = lookupOp(spec.op);
  if (!def) throw new Error(`unknown op ${spec.op}`);
  const attrs = new AttrReader(spec.op, def.attrs, spec.attrs);
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize });
  const ins = spec.inputs.map((t, i) => k.input(`in${i}`, t));
  const out = k.output('out', spec.output);
  const outShape = spec.output.shape;
  // Where's operand 0 is the condition; the data dtype is that of the other operands.
  const dtype = spec.inputs[spec.op === 'Where' ? 1 : 0]!.dtype;
  const valueAt = (flat: Expr): Expr => {
    const xs = ins.map((a: TensorAccessor) => toCompute(a.loadBroadcast(outShape, flat), a.value));
    return fromCompute(elementwiseExpr(spec.op, xs, { attrs, dtype, out: out.dtype }), out.value);
  };
  const count = out.packed ? out.words : out.numel;
  const i = k.globalIndex(count);
  k.if(lt(i, lit.u32(count)), () => {
    if (out.packed) out.storeLanes(i, valueAt);
    else out.store(i, valueAt(i));
  });
  return k.finish();
};
