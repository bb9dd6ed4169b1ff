// Convolution weights for bitpack's weights-only widths: a float constant [M, C/group, k...] read only as the
// weight of Conv nodes is viewed as the matrix [M, K] (K = its other dims, row-major: what an implicit GEMM
// multiplies) and quantized like a Linear weight, per output channel or per group along K. The graph keeps a
// quant-encoded [M, K] constant under the weight's name and a Reshape back to the kernel shape for the Convs
// (materialize-encodings decodes it on the device for the convolution kernels): the artifact stores the codes.
import { type ConstantDecl, type Graph, type GraphBuilder, type Node, consumers, constantValue, isFloat, isPlainStorage, tensorType } from '../../ir/index.js';
import type { BitWidth } from './bitpack-options.js';
import { declareWeightOnly, quantizeWeight } from './quantize-weight.js';

/** Constants read only as the weight operand (input 1) of Conv nodes. */
export function convWeights(g: Graph): ConstantDecl[] {
  const readers = consumers(g);
  return g.constants.filter((c) => {
    const shape = c.type.shape;
    if (shape.length < 3 || shape.some((d) => typeof d !== 'number') || !isFloat(c.type.dtype) || !isPlainStorage(c.type)) return false;
    if ((!c.value && !c.external) || g.outputs.includes(c.name)) return false;
    const nodes = readers.get(c.name) ?? [];
    return nodes.length > 0 && nodes.every((n: Node) => n.op === 'Conv' && n.inputs[1] === c.name && n.inputs.indexOf(c.name) === 1 && n.inputs.lastIndexOf(c.name) === 1);
  });
}

/** Declares the codes as `c.name` [M, K] and returns the name of its Reshape to the kernel shape (emitted here). */
export function declareConvWeightOnly(b: GraphBuilder, c: ConstantDecl, o: BitWidth, fresh: (base: string) => string): string {
  const shape = c.type.shape as number[];
  const [m, k] = [shape[0]!, shape.slice(1).reduce((a, d) => a * d, 1)];
  const value = constantValue(c).data;
  const group = o.group > 0 && o.group < k ? o.group : 0;
  const q = quantizeWeight(m, k, (j, i) => value[j * k + i]!, o.weightBits, o.weights, group);
  declareWeightOnly(b, { ...c, type: tensorType(c.type.dtype, [m, k]) }, q, { m, k, transposed: false, group: group || k, bipolar: o.weights === 'bipolar', bits: o.weightBits, fresh });
  return b.op('Reshape', [c.name], { shape }, { names: [fresh(`${c.name}.kernel`)] });
}
