// Layer builders shared by the families. Each composes IR ops on [T, features] activations; normalisations and
// activations that the families define differently (RMSNorm, tanh-GELU, erf-GELU, SiLU) are written out as
// elementwise ops and reductions, exactly as transformers computes them, so the compiler's fusion sees plain
// elementwise chains and no family needs an op of its own.
import type { GraphBuilder } from '../../builder.js';
import { makeTensor } from '../../tensor.js';

const scalarNames = new WeakMap<GraphBuilder, Map<number, string>>();

/** An f32 scalar constant, declared once per graph and value (broadcasts against any activation). */
export function f32Scalar(b: GraphBuilder, value: number): string {
  let byValue = scalarNames.get(b);
  if (!byValue) scalarNames.set(b, (byValue = new Map()));
  let name = byValue.get(value);
  if (name === undefined) {
    name = b.constant(makeTensor('f32', [], [value]));
    byValue.set(value, name);
  }
  return name;
}

/**
 * x[T,in] through a linear layer. Hugging Face's nn.Linear stores W as [out, in] (transposedWeight); GPT-2's
 * Conv1D stores it as [in, out]. Either way one Gemm, with the bias as its C operand.
 */
export function linear(b: GraphBuilder, x: string, weight: string, bias: string | undefined, transposedWeight: boolean): string {
  return b.op('Gemm', bias ? [x, weight, bias] : [x, weight], transposedWeight ? { transB: 1 } : {});
}

/** LlamaRMSNorm: x / sqrt(mean(x^2) + eps) * w over the last axis. */
export function rmsNorm(b: GraphBuilder, x: string, weight: string, eps: number): string {
  const meanSquare = b.op('ReduceMean', [b.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const inverseRms = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [meanSquare, f32Scalar(b, eps)])])]);
  return b.op('Mul', [b.op('Mul', [x, inverseRms]), weight]);
}

/** nn.LayerNorm over the last axis; `name` names the result (a graph output) instead of a fresh name. */
export function layerNorm(b: GraphBuilder, x: string, weight: string, bias: string, eps: number, name?: string): string {
  return b.op('LayerNormalization', [x, weight, bias], { axis: -1, epsilon: eps }, name ? { names: [name] } : {});
}

/** SiLU (Llama's hidden_act): x * sigmoid(x). */
export function silu(b: GraphBuilder, x: string): string {
  return b.op('Mul', [x, b.op('Sigmoid', [x])]);
}

/**
 * GPT-2's gelu_new, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): one Gelu node (approximate 'tanh'), so it runs
 * in the epilogue of the matmul before it (a chain of nine reading x three times cannot) and costs one op.
 */
export function geluTanh(b: GraphBuilder, x: string): string {
  return b.op('Gelu', [x], { approximate: 'tanh' });
}

/** BERT's gelu (exact), 0.5 x (1 + erf(x / sqrt 2)): one Gelu node, for the same reasons. */
export function geluErf(b: GraphBuilder, x: string): string {
  return b.op('Gelu', [x]);
}

/** [T, heads*dim] -> [T, heads, dim]: the row layout of the decode ops (a free reshape). */
export function splitHeads(b: GraphBuilder, x: string, heads: number, dim: number): string {
  return b.op('Reshape', [x], { shape: [0, heads, dim] });
}

/** [T, heads, dim] -> [T, heads*dim]. */
export function mergeHeads(b: GraphBuilder, x: string): string {
  const [, heads, dim] = b.typeOf(x).shape as number[];
  return b.op('Reshape', [x], { shape: [0, heads! * dim!] });
}

/** A vector [n] as a one-row matrix [1, n], so Gemm can take it. */
export function asRow(b: GraphBuilder, x: string): string {
  return b.op('Reshape', [x], { shape: [1, -1] });
}
