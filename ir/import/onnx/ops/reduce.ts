// Reductions. `axes` moved from an attribute to an input in opset 13 for ReduceSum and in opset 18 for the rest;
// kiln keeps it an attribute, so the input must be known. ReduceSumSquare/L1/L2/LogSum/LogSumExp are written
// with ReduceSum/ReduceMax and elementwise ops; ReduceMax/Min of bool go through u8; CumSum's and CumProd's axis
// input becomes an attribute.
import type { Attrs } from '../../../graph.js';
import { isStaticShape, numel } from '../../../shape.js';
import { scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid } from '../errors.js';
import { type OpRule, direct, rules } from '../rule.js';

/** Attributes of a reduction: axes from the attribute or input 1, keepdims, noop_with_empty_axes. */
function reduceAttrs(cx: NodeContext, axesFromInput: boolean): Attrs {
  const axes = axesFromInput ? cx.constInts(1, 'axes') : cx.attrs.ints('axes');
  return {
    keepdims: cx.attrs.int('keepdims', 1),
    ...(axes === undefined || axes.length === 0 ? {} : { axes }),
    ...(axesFromInput ? { noop_with_empty_axes: cx.attrs.int('noop_with_empty_axes', 0) } : {}),
  };
}

/** Rows for a reduction whose axes became an input at `inputSince`. */
function reduction(op: string, inputSince: number, map: (cx: NodeContext, attrs: Attrs) => void): OpRule[] {
  return rules(op, [1, inputSince - 1, (cx) => map(cx, reduceAttrs(cx, false))], [inputSince, undefined, (cx) => map(cx, reduceAttrs(cx, true))]);
}

const same = (cx: NodeContext, attrs: Attrs): void => void cx.emitOutputs(cx.op, [cx.input(0)], attrs);

/** ReduceMax/ReduceMin also take bool (any/all): reduced as u8 and cast back. */
function minMax(cx: NodeContext, attrs: Attrs): void {
  if (cx.type(0).dtype !== 'bool') return same(cx, attrs);
  const reduced = cx.emit1(cx.op, [cx.emit1('Cast', [cx.input(0)], { to: 'u8' })], attrs);
  cx.emitOutputs('Cast', [reduced], { to: 'bool' });
}

/** ReduceX(f(x)) followed by g, for the composite reductions. */
function composite(pre: string | undefined, reduce: string, post: string | undefined) {
  return (cx: NodeContext, attrs: Attrs): void => {
    let x = cx.input(0);
    if (pre === 'Square') x = cx.emit1('Mul', [x, x]);
    else if (pre) x = cx.emit1(pre, [x]);
    if (!post) {
      cx.emitOutputs(reduce, [x], attrs);
      return;
    }
    const r = cx.emit1(reduce, [x], attrs);
    cx.emitOutputs(post, [r]);
  };
}

/**
 * log(sum(exp(x))) computed as m + log(sum(exp(x - m))) with m the max, so large inputs do not overflow. An
 * infinite m shifts by 0 instead (x - m would be inf - inf = NaN): a slice of -inf gives log(0) = -inf, one holding
 * +inf gives +inf. An empty x needs no shift (nothing can overflow) and gets none, so no kernel broadcasts m over
 * a zero-size tensor.
 */
function logSumExp(cx: NodeContext, attrs: Attrs): void {
  const keep = { ...attrs, keepdims: 1 };
  const x = cx.type(0);
  let lse: string;
  if (isStaticShape(x.shape) && numel(x.shape) === 0) {
    lse = cx.emit1('Log', [cx.emit1('ReduceSum', [cx.emit1('Exp', [cx.input(0)])], keep)]);
  } else {
    const max = cx.emit1('ReduceMax', [cx.input(0)], keep);
    const inf = cx.newConst(scalarTensor(x.dtype, Infinity), 'inf');
    const m = cx.emit1('Where', [cx.emit1('Equal', [cx.emit1('Abs', [max]), inf]), cx.newConst(scalarTensor(x.dtype, 0), 'zero'), max]);
    const shifted = cx.emit1('Exp', [cx.emit1('Sub', [cx.input(0), m])]);
    lse = cx.emit1('Add', [cx.emit1('Log', [cx.emit1('ReduceSum', [shifted], keep)]), m]);
  }
  const rank = x.shape.length;
  const axes = (attrs.axes as readonly number[] | undefined) ?? (attrs.noop_with_empty_axes ? [] : Array.from({ length: rank }, (_, i) => i));
  if (attrs.keepdims === 0 && axes.length) cx.emitOutputs('Squeeze', [lse], { axes });
  else cx.alias(0, lse);
}

/** CumSum and CumProd: the axis input becomes an attribute. */
function scan(cx: NodeContext): void {
  const axis = cx.constIntScalar(1, 'axis') ?? invalid(`${cx.op} needs its axis input`);
  cx.emitOutputs(cx.op, [cx.input(0)], { axis, exclusive: cx.attrs.int('exclusive', 0), reverse: cx.attrs.int('reverse', 0) });
}

export const REDUCE_RULES: OpRule[] = [
  ...reduction('ReduceSum', 13, same),
  ...reduction('ReduceMean', 18, same),
  ...reduction('ReduceMax', 18, minMax),
  ...reduction('ReduceMin', 18, minMax),
  ...reduction('ReduceProd', 18, same),
  ...reduction('ReduceSumSquare', 18, composite('Square', 'ReduceSum', undefined)),
  ...reduction('ReduceL1', 18, composite('Abs', 'ReduceSum', undefined)),
  ...reduction('ReduceL2', 18, composite('Square', 'ReduceSum', 'Sqrt')),
  ...reduction('ReduceLogSum', 18, composite(undefined, 'ReduceSum', 'Log')),
  ...reduction('ReduceLogSumExp', 18, logSumExp),
  // ArgMax 1-10 (axis, keepdims), 11 (negative axis), 12+ (select_last_index): the attributes carry over as they are.
  ...rules('ArgMax', [1, 11, direct()], [12, undefined, direct()]),
  ...rules('ArgMin', [1, 11, direct()], [12, undefined, direct()]),
  // CumSum 11 and 14 (more dtypes) read the same; CumProd exists from 26.
  ...rules('CumSum', [11, undefined, scan]),
  ...rules('CumProd', [26, undefined, scan]),
];
