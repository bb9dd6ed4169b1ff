// The elementwise kernel: a chain of elementwise ops computed per output element in one kernel. A single node is a
// chain of length one; the fusion planner (compiler/lower/fuse.ts) hands over longer chains, so intermediates stay
// in registers instead of round-tripping through memory. Every external input is broadcast (numpy rules, shapes
// baked in) to the output shape. Unpacked outputs get one invocation per element; packed outputs (sub-byte ints,
// bf16, f16 without shader-f16) one invocation per storage word, which computes and packs all of the word's lanes.
import type { DType } from '../../ir/dtype.js';
import type { AttrValue, Node } from '../../ir/graph.js';
import { AttrReader, lookupOp } from '../../ir/op.js';
import type { TensorType } from '../../ir/types.js';
import type { KernelGen, KernelSpecBase } from '../kernel-spec.js';
import type { Expr } from '../wgsl/ast.js';
import { KernelBuilder, type Target } from '../wgsl/build.js';
import { ELEMENTWISE_WGSL, elementwiseExpr } from './elementwise-wgsl.js';
import { isStaticShape } from '../../ir/shape.js';
import type { DimContext } from '../wgsl/dims.js';
import { type TensorSpec, fromCompute, staticTensor, storeEachElement, symbolicTensor, toCompute } from './lib/index.js';

/** An operand of a chained op: an external input of the kernel, or the result of an earlier op in the chain. */
export type Operand = { readonly input: number } | { readonly op: number };

export interface ChainOp {
  readonly op: string;
  /** The node's attributes as given (defaults are applied from the op schema when generating). */
  readonly attrs: Readonly<Record<string, AttrValue>>;
  readonly args: readonly Operand[];
  /** dtype of the data operands (for Where, of x and y; for Cast, of its input). */
  readonly dtype: DType;
  readonly out: DType;
}

export interface ElementwiseSpec extends KernelSpecBase {
  readonly kernel: 'elementwise';
  /** Present when a shape is symbolic: the kernel binds the dims uniform first and sizes itself at run time. */
  readonly dims?: DimContext;
  readonly inputs: readonly TensorSpec[];
  /** Ops in evaluation order; the last one's result is the output. */
  readonly ops: readonly ChainOp[];
  readonly output: TensorSpec;
  readonly workgroupSize: number;
}

export const hasElementwiseKernel = (op: string): boolean => op in ELEMENTWISE_WGSL;

/** The values a chain reads from outside itself, in first-use order: the kernel's input bindings, in order. */
export function chainInputs(nodes: readonly Node[]): string[] {
  const produced = new Set<string>();
  const inputs: string[] = [];
  for (const n of nodes) {
    for (const v of n.inputs) if (!produced.has(v) && !inputs.includes(v)) inputs.push(v);
    produced.add(n.outputs[0]!);
  }
  return inputs;
}

/**
 * The spec of the kernel computing `nodes` (in order; each node's inputs are graph values or outputs of earlier
 * nodes in the list) and writing the last node's output.
 */
export function fusedElementwiseSpec(
  nodes: readonly Node[],
  typeOf: (value: string) => TensorType,
  target: Target,
  workgroupSize = 64,
  dims?: DimContext,
): ElementwiseSpec {
  const inputs = chainInputs(nodes);
  const produced = new Map<string, number>();
  const ops = nodes.map((node, j): ChainOp => {
    if (!hasElementwiseKernel(node.op)) throw new Error(`${node.op} has no elementwise kernel`);
    const args = node.inputs.map((v): Operand => {
      const k = produced.get(v);
      return k !== undefined ? { op: k } : { input: inputs.indexOf(v) };
    });
    produced.set(node.outputs[0]!, j);
    return { op: node.op, attrs: { ...node.attrs }, args, dtype: typeOf(node.inputs[node.op === 'Where' ? 1 : 0]!).dtype, out: typeOf(node.outputs[0]!).dtype };
  });
  const last = nodes[nodes.length - 1]!;
  const types = [...inputs, last.outputs[0]!].map(typeOf);
  if (dims && !types.every((t) => isStaticShape(t.shape))) {
    const desc = (t: TensorType): TensorSpec => symbolicTensor(t, dims);
    return { kernel: 'elementwise', target: { shaderF16: target.shaderF16 }, dims, inputs: types.slice(0, -1).map(desc), ops, output: desc(types[types.length - 1]!), workgroupSize };
  }
  return {
    kernel: 'elementwise',
    target: { shaderF16: target.shaderF16 },
    inputs: inputs.map((v) => staticTensor(typeOf(v), `%${v}`, 'elementwise kernels')),
    ops,
    output: staticTensor(typeOf(last.outputs[0]!), `%${last.outputs[0]}`, 'elementwise kernels'),
    workgroupSize,
  };
}

/** The spec of the kernel for one elementwise node. */
export function elementwiseSpec(node: Node, typeOf: (value: string) => TensorType, target: Target, workgroupSize = 64): ElementwiseSpec {
  return fusedElementwiseSpec([node], typeOf, target, workgroupSize);
}

export const elementwise: KernelGen<ElementwiseSpec> = (spec) => {
  const k = new KernelBuilder({ target: spec.target, workgroupSize: spec.workgroupSize, ...(spec.dims ? { dims: spec.dims } : {}) });
  if (spec.dims) k.bindDims();
  const ins = spec.inputs.map((t, i) => k.input(`in${i}`, t));
  const out = k.output('out', spec.output);
  const outShape = spec.output.shape;
  const outDims = spec.output.dims;
  const readers = spec.ops.map((c) => {
    const def = lookupOp(c.op);
    if (!def) throw new Error(`unknown op ${c.op}`);
    return new AttrReader(c.op, def.attrs, c.attrs);
  });
  const valueAt = (flat: Expr): Expr => {
    // Each external input is loaded once and each intermediate bound once (`let`), however often it is used.
    const loaded = new Map<number, Expr>();
    const load = (i: number): Expr => {
      let e = loaded.get(i);
      const x = outDims ? ins[i]!.loadBroadcastDims(outDims, flat) : ins[i]!.loadBroadcast(outShape, flat);
      if (!e) loaded.set(i, (e = k.let(`x${i}`, toCompute(x, ins[i]!.value))));
      return e;
    };
    const results: Expr[] = [];
    spec.ops.forEach((c, j) => {
      const xs = c.args.map((a) => ('input' in a ? load(a.input) : results[a.op]!));
      const e = elementwiseExpr(c.op, xs, { attrs: readers[j]!, dtype: c.dtype, out: c.out });
      results.push(j === spec.ops.length - 1 ? e : k.let(`t${j}`, e));
    });
    return fromCompute(results[results.length - 1]!, out.value);
  };
  storeEachElement(k, out, valueAt);
  return k.finish();
};
