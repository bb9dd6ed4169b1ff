// Losses over class scores [N, C, d1, ...] and integer targets [N, d1, ...], written with existing IR ops.
// NegativeLogLikelihoodLoss picks each target's entry without a gather: Equal(Unsqueeze(target, 1), iota over C)
// is a one-hot mask, Where keeps the masked entry (a multiply would turn a -inf log-probability elsewhere into
// NaN), and ReduceSum over C collects it. SoftmaxCrossEntropyLoss is that loss of LogSoftmax(scores) over C.
// Targets equal to ignore_index weigh 0, so they add nothing to a sum and are not counted by a mean, which divides
// by the sum of the weights applied.
import { makeTensor, scalarTensor } from '../../../tensor.js';
import type { NodeContext } from '../context.js';
import { invalid, unsupported } from '../errors.js';
import { type OpRule, rules } from '../rule.js';

/** Output 0: the loss of log-probabilities `logp` (input 0's shape) at the targets (input 1), class weights input 2. */
function nllLoss(cx: NodeContext, logp: string): void {
  const scores = cx.type(0);
  const target = cx.type(1);
  const rank = scores.shape.length;
  if (rank < 2) invalid(`${cx.op} needs scores of rank >= 2 (N x C x ...), got rank ${rank}`);
  const classes = scores.shape[1]!;
  if (typeof classes !== 'number') unsupported('dynamic', `${cx.op} over '${cx.input(0)}' [${scores.shape.join(',')}] needs a static class dim`);
  if (target.shape.length !== rank - 1) invalid(`${cx.op} needs targets of rank ${rank - 1} (scores without C), got rank ${target.shape.length}`);
  const reduction = cx.attrs.string('reduction', 'mean');
  if (!['none', 'sum', 'mean'].includes(reduction)) invalid(`${cx.op} reduction must be none, sum or mean, got '${reduction}'`);
  const dtype = scores.dtype;
  const zero = cx.newConst(scalarTensor(dtype, 0), 'zero');

  // One-hot [N, C, d...]: the class axis of an iota [1, C, 1, ...] against the targets.
  const iotaShape = scores.shape.map((_, i) => (i === 1 ? (classes as number) : 1));
  const iota = cx.newConst(makeTensor(target.dtype, iotaShape, (i) => i), 'classes');
  const hit = cx.emit1('Equal', [cx.emit1('Unsqueeze', [cx.input(1)], { axes: [1] }), iota]);
  const pick = (v: string): string => cx.emit1('ReduceSum', [cx.emit1('Where', [hit, v, zero])], { axes: [1], keepdims: 0 });

  // Per-element weight: weight[target] (1 without weights), 0 where the target is ignore_index.
  const classWeight = cx.has(2) ? cx.emit1('Reshape', [cx.input(2)], { shape: iotaShape }) : undefined;
  let weight = classWeight ? pick(classWeight) : undefined;
  let picked = pick(classWeight ? cx.emit1('Mul', [logp, classWeight]) : logp);
  const ignore = cx.attrs.int('ignore_index');
  if (ignore !== undefined) {
    const ignored = cx.emit1('Equal', [cx.input(1), cx.newConst(scalarTensor(target.dtype, ignore), 'ignore_index')]);
    picked = cx.emit1('Where', [ignored, zero, picked]);
    weight = cx.emit1('Where', [ignored, zero, weight ?? cx.newConst(scalarTensor(dtype, 1), 'one')]);
  }
  const out = cx.output(0);
  if (reduction === 'none') return void cx.emit('Neg', [picked], {}, [out]);
  const loss = cx.emit1('Neg', [picked]);
  if (reduction === 'sum') return void cx.emit('ReduceSum', [loss], { keepdims: 0 }, [out]);
  if (!weight) return void cx.emit('ReduceMean', [loss], { keepdims: 0 }, [out]);
  const total = cx.emit1('ReduceSum', [loss], { keepdims: 0 });
  cx.emit('Div', [total, cx.emit1('ReduceSum', [weight], { keepdims: 0 })], {}, [out]);
}

/** NegativeLogLikelihoodLoss (12, 13, 22: dtypes only): input is already log-probabilities. */
function negativeLogLikelihood(cx: NodeContext): void {
  nllLoss(cx, cx.input(0));
}

/** SoftmaxCrossEntropyLoss (12, 13, 22: dtypes only): NLL of LogSoftmax over C; output 1 is that log_prob. */
function softmaxCrossEntropy(cx: NodeContext): void {
  const logp = cx.emit1('LogSoftmax', [cx.input(0)], { axis: 1 }, cx.output(1) || undefined);
  nllLoss(cx, logp);
}

export const LOSS_RULES: OpRule[] = [
  ...rules('NegativeLogLikelihoodLoss', [12, 12, negativeLogLikelihood], [13, 21, negativeLogLikelihood], [22, undefined, negativeLogLikelihood]),
  ...rules('SoftmaxCrossEntropyLoss', [12, 12, softmaxCrossEntropy], [13, 21, softmaxCrossEntropy], [22, undefined, softmaxCrossEntropy]),
];
