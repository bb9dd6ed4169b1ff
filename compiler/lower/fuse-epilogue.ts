// Epilogue fusion planning: the elementwise ops that follow a MatMul, Gemm, Conv or ConvTranspose (bias add, Relu,
// Gelu, a residual add, ...) run inside that kernel before it stores, so the product never makes a round trip
// through memory. A follower joins when it is the only reader of the running value (which is not a graph output),
// reads it exactly once, keeps its shape and f32 dtype, and its other operands already exist when the anchor
// runs (produced before the anchor in program order). Storage bindings stay within WebGPU's default limit of 8.
// A BitMatMul that lowers to an integer GEMV anchors too: first its float scaling chain (fuse-bit-scaling.ts), then
// the followers of that chain's f32 result; so does a MatMul or Gemm over a weight the quant GEMV reads in place.
import { type Graph, type Node, consumers, formatShape } from '../../ir/index.js';
import { quantGemvUse } from '../../passes/index.js';
import { ELEMENTWISE_WGSL } from '../kernels/elementwise-wgsl.js';
import { bitScalingOf } from './fuse-bit-scaling.js';
import type { PlannedEpilogue } from './lowering.js';

const ANCHORS = new Set(['MatMul', 'Gemm', 'Conv', 'ConvTranspose']);
/** Elementwise ops whose result has the running value's dtype (comparisons, Where and Cast change it). */
const DTYPE_CHANGING = new Set(['Cast', 'Equal', 'Less', 'Greater', 'Where']);
const MAX_BINDINGS = 8;

export interface EpiloguePlan {
  readonly epilogues: ReadonlyMap<Node, PlannedEpilogue & { readonly nodes: readonly Node[] }>;
  readonly absorbed: ReadonlySet<Node>;
}

export function planEpilogues(g: Graph): EpiloguePlan {
  const uses = consumers(g);
  const outputs = new Set(g.outputs);
  const order = new Map(g.nodes.map((n, i) => [n, i]));
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const epilogues = new Map<Node, PlannedEpilogue & { nodes: Node[] }>();
  const absorbed = new Set<Node>();

  for (const anchor of g.nodes) {
    const scaling = bitScalingOf(g, anchor, { uses, outputs, producer, order });
    if (!ANCHORS.has(anchor.op) && !scaling) continue;
    // A weight read in its stored encoding takes an epilogue when the quant GEMV reads it (its scales and zero
    // points are bindings too); any other (a Tiled-CSL matmul) runs a sparse kernel, which has no epilogue.
    const encoded = anchor.inputs.filter((v) => v !== '' && g.types.get(v)?.encoding.kind !== 'dense');
    const quant = encoded.length === 1 ? quantGemvUse(anchor, encoded[0]!, (v) => g.types.get(v)) : undefined;
    if (encoded.length && !quant) continue;
    const out = scaling?.output ?? anchor.outputs[0]!;
    const type = g.types.get(out)!;
    if (type.dtype !== 'f32') continue;
    const shape = formatShape(type.shape);
    let bindings = anchor.inputs.filter((v) => v !== '').length + 1 + (scaling ? 2 : 0) + (quant ? 1 + (quant.zeros ? 1 : 0) : 0);
    const ops: PlannedEpilogue['ops'][number][] = [];
    const operands: string[] = [];
    const nodes: Node[] = [...(scaling?.nodes ?? [])];
    let running = out;
    for (;;) {
      const readers = uses.get(running) ?? [];
      if (outputs.has(running) || readers.length !== 1) break;
      const next = readers[0]!;
      if (!(next.op in ELEMENTWISE_WGSL) || DTYPE_CHANGING.has(next.op) || absorbed.has(next)) break;
      const at = next.inputs.indexOf(running);
      if (next.inputs.lastIndexOf(running) !== at) break;
      const result = g.types.get(next.outputs[0]!)!;
      if (result.dtype !== 'f32' || formatShape(result.shape) !== shape) break;
      const others = next.inputs.filter((_, i) => i !== at);
      const ready = others.every((v) => {
        const p = producer.get(v);
        return !p || order.get(p)! < order.get(anchor)!;
      });
      if (!ready || bindings + others.length > MAX_BINDINGS) break;
      bindings += others.length;
      ops.push({ op: next.op, attrs: { ...next.attrs }, operands: others.map((v) => ({ dtype: g.types.get(v)!.dtype, shape: g.types.get(v)!.shape as number[] })), ...(at ? { at } : {}) });
      operands.push(...others);
      nodes.push(next);
      running = next.outputs[0]!;
    }
    if (nodes.length) {
      epilogues.set(anchor, { ops, operands, output: running, nodes, ...(scaling ? { bitScaling: { scales: scaling.scales, rowScales: scaling.rowScales } } : {}) });
      for (const n of nodes) absorbed.add(n);
    }
  }
  return { epilogues, absorbed };
}
