// Unary math and activation ops that are one IR elementwise op each, attributes copied under their ONNX names
// (the IR rows carry ONNX's defaults, so an absent attribute means the same in both). The ops changed across
// versions only by the types they accept (bfloat16 from 22 for most, more float types for Celu at 28), never in
// meaning, so one row per op covers every version from its first. PRelu checks ONNX's one-way broadcast of the
// slope, which the IR (broadcasting both ways like any binary op) does not.
import { broadcastShapes, formatShape } from '../../../shape.js';
import type { NodeContext } from '../context.js';
import { invalid } from '../errors.js';
import { type OpRule, direct, rules } from '../rule.js';

/** [op, first opset]: the first version of the op in the default domain. */
const DIRECT: readonly [string, number][] = [
  ['Sin', 7], ['Cos', 7], ['Tan', 7], ['Asin', 7], ['Acos', 7], ['Atan', 7],
  ['Sinh', 9], ['Cosh', 9], ['Asinh', 9], ['Acosh', 9], ['Atanh', 9],
  ['Sign', 9], ['IsNaN', 9], ['IsInf', 10],
  ['HardSigmoid', 6], ['HardSwish', 14], ['Elu', 6], ['Selu', 6], ['Celu', 12], ['Softplus', 1], ['Softsign', 1],
  ['Mish', 18], ['ThresholdedRelu', 10], ['Shrink', 9], ['Swish', 24],
];

/** PRelu-7 on: the slope must broadcast to X's shape without changing it. */
function prelu(cx: NodeContext): void {
  const [x, slope] = [cx.type(0).shape, cx.type(1).shape];
  const out = broadcastShapes([x, slope]);
  if (typeof out === 'string' || formatShape(out) !== formatShape(x))
    invalid(`PRelu slope of shape ${formatShape(slope)} does not broadcast to X's shape ${formatShape(x)} (ONNX broadcasts the slope to X only)`);
  cx.emitOutputs('PRelu', [cx.input(0), cx.input(1)]);
}

export const ACTIVATION_RULES: OpRule[] = [
  ...DIRECT.flatMap(([op, since]) => rules(op, [since, undefined, direct()])),
  ...rules('PRelu', [7, undefined, prelu]),
];
