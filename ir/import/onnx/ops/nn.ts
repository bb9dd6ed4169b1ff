// Neural-network ops: matrix products, convolutions, pooling, normalisations and softmax. Most map one-to-one
// (attributes copied, checked against the IR schema); the exceptions are Softmax/LogSoftmax before opset 13
// (flatten-to-2-D semantics, expressed as Flatten -> Softmax -> Reshape), GlobalMaxPool (a ReduceMax),
// GlobalLpPool (a ReduceSum of |x|^p), LpPool's p (a float in opset 1, an int from 2),
// LayerNormalization's statistics outputs (computed beside it), and optional training outputs, which are
// rejected when something reads them.
import { isStaticDim } from '../../../shape.js';
import { scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { ONNX_DTYPE, runtimeDType } from '../dtypes.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, direct, passAttrs, rejectUsedOutputs, requireAttrs, rules } from '../rule.js';

/** Softmax/LogSoftmax 1-12: the input is coerced to 2-D at `axis` (default 1) and normalised over the inner block. */
function softmaxFlattened(cx: NodeContext): void {
  const shape = cx.type(0).shape;
  const rank = shape.length;
  const given = cx.attrs.int('axis', 1);
  const axis = given < 0 ? given + rank : given;
  if (axis === rank - 1 || rank <= 1) {
    cx.emitOutputs(cx.op, [cx.input(0)], { axis: -1 });
    return;
  }
  const flat = cx.emit1('Flatten', [cx.input(0)], { axis });
  const normed = cx.emit1(cx.op, [flat], { axis: 1 });
  // Back to the input's shape: static dims as they are, at most one symbolic dim recovered by -1.
  const target = shape.map((d) => (isStaticDim(d) ? d : -1));
  if (target.filter((d) => d === -1).length > 1)
    unsupported('dynamic', `${cx.op} (opset ${cx.opset}) over [${shape.join(',')}] at axis ${axis} needs at most one symbolic dim`);
  cx.emitOutputs('Reshape', [normed], { shape: target });
}

function batchNorm(cx: NodeContext, ignore: readonly string[]): void {
  if (cx.attrs.int('spatial', 1) !== 1) unsupported('attribute', 'BatchNormalization with spatial=0');
  if (cx.attrs.int('training_mode', 0) !== 0)
    unsupported('attribute', 'BatchNormalization with training_mode=1 (kiln compiles inference; export in eval mode)');
  rejectUsedOutputs(cx, 1, 'running statistics');
  cx.emitOutputs('BatchNormalization', cx.node.input, passAttrs(cx, 'BatchNormalization', ignore));
}

/** GlobalMaxPool: the max over every spatial dim, kept as size 1. */
function globalMaxPool(cx: NodeContext): void {
  const rank = cx.type(0).shape.length;
  cx.emitOutputs('ReduceMax', [cx.input(0)], { axes: Array.from({ length: rank - 2 }, (_, i) => i + 2), keepdims: 1 });
}

/** LpPool: p is a float attribute in opset 1 and an int from 2; the window attributes copy over. */
function lpPool(cx: NodeContext, floatP: boolean): void {
  const p = floatP ? cx.attrs.float('p', 2) : cx.attrs.int('p', 2);
  cx.emitOutputs('LpPool', [cx.input(0)], { ...requireAttrs(cx, 'LpPool', passAttrs(cx, 'LpPool', ['p'])), p });
}

/** GlobalLpPool: (sum of |x|^p over every spatial dim)^(1/p), kept as size 1; p = 1 and 2 without Pow. */
function globalLpPool(cx: NodeContext, floatP: boolean): void {
  const p = floatP ? cx.attrs.float('p', 2) : cx.attrs.int('p', 2);
  if (!(p > 0) || !Number.isFinite(p)) invalid(`GlobalLpPool p must be a positive number, got ${p}`);
  const rank = cx.type(0).shape.length;
  if (rank < 3) invalid(`GlobalLpPool needs an input [N, C, ...spatial] with a spatial dim, got rank ${rank}`);
  const dtype = cx.type(0).dtype;
  const x = cx.input(0);
  const sum = { axes: Array.from({ length: rank - 2 }, (_, i) => i + 2), keepdims: 1 };
  if (p === 1) return void cx.emitOutputs('ReduceSum', [cx.emit1('Abs', [x])], sum);
  if (p === 2) return void cx.emitOutputs('Sqrt', [cx.emit1('ReduceSum', [cx.emit1('Mul', [x, x])], sum)]);
  const power = cx.emit1('Pow', [cx.emit1('Abs', [x]), cx.newConst(scalarTensor(dtype, p), 'p')]);
  cx.emitOutputs('Pow', [cx.emit1('ReduceSum', [power], sum), cx.newConst(scalarTensor(dtype, 1 / p), 'inverse_p')]);
}

/** MaxPool's optional Indices output (8+) is not computed. */
function maxPool(cx: NodeContext): void {
  rejectUsedOutputs(cx, 1, 'Indices');
  cx.emitOutputs('MaxPool', [cx.input(0)], requireAttrs(cx, 'MaxPool', passAttrs(cx, 'MaxPool')));
}

/**
 * LayerNormalization (17+). Its optional Mean and InvStdDev outputs (keepdims-shaped, in stash_type precision)
 * are computed beside the fused op from ReduceMean, Sub, Mul, Add, Sqrt and Reciprocal when something reads them.
 */
function layerNorm(cx: NodeContext): void {
  const attrs = passAttrs(cx, 'LayerNormalization');
  cx.emit('LayerNormalization', cx.node.input, attrs, [cx.output(0)]);
  if (!cx.used(1) && !cx.used(2)) return;
  const x = cx.type(0);
  const rank = x.shape.length;
  const given = cx.attrs.int('axis', -1);
  const axis = given < 0 ? given + rank : given;
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const stash = runtimeDType(cx.attrs.int('stash_type', ONNX_DTYPE.FLOAT), 'LayerNormalization stash_type');
  const xs = x.dtype === stash ? cx.input(0) : cx.emit1('Cast', [cx.input(0)], { to: stash });
  const mean = cx.emit1('ReduceMean', [xs], { axes, keepdims: 1 }, cx.output(1) || undefined);
  const centred = cx.emit1('Sub', [xs, mean]);
  const variance = cx.emit1('ReduceMean', [cx.emit1('Mul', [centred, centred])], { axes, keepdims: 1 });
  const eps = cx.newConst(scalarTensor(stash, cx.attrs.float('epsilon', 1e-5)), 'epsilon');
  const std = cx.emit1('Sqrt', [cx.emit1('Add', [variance, eps])]);
  cx.emit1('Reciprocal', [std], {}, cx.output(2) || undefined);
}

export const NN_RULES: OpRule[] = [
  ...rules('MatMul', [1, undefined, direct()]),
  // Gemm 7-10 requires C; from 11 it is optional. Both take the same attributes.
  ...rules('Gemm', [7, 10, direct()], [11, undefined, direct()]),
  ...rules('Conv', [1, 10, direct()], [11, undefined, direct()]),
  ...rules('ConvTranspose', [1, 10, direct()], [11, undefined, direct()]),
  ...rules('MaxPool', [1, 7, maxPool], [8, 11, maxPool], [12, undefined, maxPool]),
  ...rules('AveragePool', [7, 9, direct()], [10, 18, direct()], [19, undefined, direct()]),
  ...rules('GlobalAveragePool', [1, undefined, direct()]),
  ...rules('GlobalMaxPool', [1, undefined, globalMaxPool]),
  // LpPool 2 made p an int; 11 clarified pads; 18 added ceil_mode and dilations (copied when present); 22 dtypes.
  ...rules('LpPool', [1, 1, (cx) => lpPool(cx, true)], [2, 10, (cx) => lpPool(cx, false)], [11, 17, (cx) => lpPool(cx, false)], [18, undefined, (cx) => lpPool(cx, false)]),
  ...rules('GlobalLpPool', [1, 1, (cx) => globalLpPool(cx, true)], [2, undefined, (cx) => globalLpPool(cx, false)]),
  ...rules(
    'BatchNormalization',
    [7, 8, (cx) => batchNorm(cx, ['spatial'])],
    [9, 13, (cx) => batchNorm(cx, [])],
    [14, undefined, (cx) => batchNorm(cx, [])],
  ),
  ...rules('LayerNormalization', [17, undefined, layerNorm]),
  ...rules('Softmax', [1, 12, softmaxFlattened], [13, undefined, direct()]),
  ...rules('LogSoftmax', [1, 12, softmaxFlattened], [13, undefined, direct()]),
];
