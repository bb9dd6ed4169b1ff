// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, imported in each opset form (12, 13, 22) and run with the
// reference interpreter, against a direct loop over ONNX's definition: loss = -input[n, target, d...] *
// weight[target], 0 where target == ignore_index; none/sum/mean, mean dividing by the sum of the weights applied
// (the count of kept targets without weights); extra dims; SoftmaxCrossEntropyLoss's log_prob output; -inf
// log-probabilities off the target (no NaN from the mask); and the errors for bad models.
import { describe, expect, it } from 'vitest';
import { interpret } from '../../ir/interp.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import { DT, attrInt, attrString, singleOp, valueInfo } from '../../scripts/lib/onnx-build.js';
import { softmax64 } from '../../ir/ops/normalize.js';

type Reduction = 'none' | 'sum' | 'mean';
interface Case {
  readonly reduction?: Reduction;
  readonly ignore?: number;
  readonly weight?: readonly number[];
}

/** ONNX's definition, element by element, in float64. */
function expectedLoss(logp: Tensor, target: Tensor, c: Case): { shape: number[]; data: number[] } {
  const [n, classes, ...rest] = logp.shape as number[];
  const inner = rest.reduce((a, b) => a * b, 1);
  const loss: number[] = [];
  const weights: number[] = [];
  for (let b = 0; b < n!; b++)
    for (let d = 0; d < inner; d++) {
      const t = target.data[b * inner + d]!;
      const w = t === c.ignore ? 0 : (c.weight?.[t] ?? 1);
      loss.push(w === 0 ? 0 : -logp.data[(b * classes! + t) * inner + d]! * w);
      weights.push(w);
    }
  const sum = loss.reduce((a, b) => a + b, 0);
  const reduction = c.reduction ?? 'mean';
  if (reduction === 'none') return { shape: [n!, ...rest], data: loss };
  if (reduction === 'sum') return { shape: [], data: [sum] };
  return { shape: [], data: [sum / weights.reduce((a, b) => a + b, 0)] };
}

/** Import a one-node loss model of `opset` and run it; outputs by name. */
function runLoss(op: string, opset: number, scores: Tensor, target: Tensor, c: Case, outputs = ['loss']): Record<string, Tensor> {
  const attrs = {
    ...(c.reduction ? { reduction: attrString(c.reduction) } : {}),
    ...(c.ignore !== undefined ? { ignore_index: attrInt(c.ignore) } : {}),
  };
  const ins = [valueInfo('scores', DT.FLOAT, scores.shape), valueInfo('target', DT.INT64, target.shape)];
  if (c.weight) ins.push(valueInfo('weight', DT.FLOAT, [c.weight.length]));
  const bytes = singleOp(op, ins, outputs.map((o) => valueInfo(o, DT.FLOAT)), attrs, { opset });
  const { graph } = importOnnx(bytes);
  const inputs: Record<string, Tensor> = { scores, target: makeTensor('i32', target.shape, target.data) };
  if (c.weight) inputs.weight = makeTensor('f32', [c.weight.length], c.weight);
  return interpret(graph, inputs);
}

function expectClose(got: Tensor, want: { shape: number[]; data: number[] }): void {
  expect(got.shape).toEqual(want.shape);
  want.data.forEach((w, i) => expect(Math.abs(got.data[i]! - w)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w))));
}

const scores = makeTensor('f32', [3, 5, 2], (i) => Math.sin(i * 1.7) * 3);
const target = makeTensor('i32', [3, 2], [0, 4, 2, 2, 1, 3]);
const logSoftmax = (x: Tensor): Tensor => {
  const [n, c, ...rest] = x.shape as number[];
  return makeTensor('f32', x.shape, softmax64(x.data, n!, c!, rest.reduce((a, b) => a * b, 1), true));
};

describe('NegativeLogLikelihoodLoss', () => {
  const cases: [string, Case][] = [
    ['mean (default)', {}],
    ['none', { reduction: 'none' }],
    ['sum', { reduction: 'sum' }],
    ['mean with weights', { weight: [0.5, 1, 2, 0.25, 3] }],
    ['sum with weights', { reduction: 'sum', weight: [0.5, 1, 2, 0.25, 3] }],
    ['mean ignoring a class', { ignore: 2 }],
    ['mean with weights ignoring a class', { ignore: 2, weight: [0.5, 1, 2, 0.25, 3] }],
    ['none ignoring a class', { reduction: 'none', ignore: 4 }],
    ['mean with an ignore_index outside the classes', { ignore: -1 }],
  ];
  for (const opset of [12, 13, 22])
    it.each(cases)(`opset ${opset}: %s`, (_, c) => {
      const out = runLoss('NegativeLogLikelihoodLoss', opset, scores, target, c);
      expectClose(out.loss!, expectedLoss(scores, target, c));
    });

  it('N x C targets and 4 extra dims', () => {
    const x = makeTensor('f32', [2, 3, 2, 1, 2, 2], (i) => Math.cos(i));
    const t = makeTensor('i32', [2, 2, 1, 2, 2], (i) => (i * 7) % 3);
    for (const c of [{ reduction: 'none' as const }, { weight: [1, 2, 3] }]) expectClose(runLoss('NegativeLogLikelihoodLoss', 22, x, t, c).loss!, expectedLoss(x, t, c));
    const x2 = makeTensor('f32', [4, 3], (i) => i);
    const t2 = makeTensor('i32', [4], [2, 0, 1, 1]);
    expectClose(runLoss('NegativeLogLikelihoodLoss', 13, x2, t2, {}).loss!, expectedLoss(x2, t2, {}));
  });

  it('a -inf log-probability off the target does not make the loss NaN', () => {
    const x = makeTensor('f32', [2, 3], [-Infinity, -1, -2, -0.5, -Infinity, -Infinity]);
    const t = makeTensor('i32', [2], [1, 0]);
    expect([...runLoss('NegativeLogLikelihoodLoss', 22, x, t, { reduction: 'none' }).loss!.data]).toEqual([1, 0.5]);
  });

  it('mean over nothing but ignored targets is 0/0', () => {
    const t = makeTensor('i32', [3, 2], [1, 1, 1, 1, 1, 1]);
    expect(runLoss('NegativeLogLikelihoodLoss', 22, scores, t, { ignore: 1 }).loss!.data[0]).toBeNaN();
  });

  it('names bad models', () => {
    expect(() => runLoss('NegativeLogLikelihoodLoss', 22, scores, target, { reduction: 'max' as Reduction })).toThrow(
      "NegativeLogLikelihoodLoss reduction must be none, sum or mean, got 'max'",
    );
    expect(() => runLoss('NegativeLogLikelihoodLoss', 22, scores, makeTensor('i32', [3], [0, 1, 2]), {})).toThrow(
      'NegativeLogLikelihoodLoss needs targets of rank 2 (scores without C), got rank 1',
    );
    expect(() => runLoss('NegativeLogLikelihoodLoss', 11, scores, target, {})).toThrow(/NegativeLogLikelihoodLoss in opset 11 is not mapped/);
  });
});

describe('SoftmaxCrossEntropyLoss', () => {
  const cases: [string, Case][] = [
    ['mean (default)', {}],
    ['none', { reduction: 'none' }],
    ['sum with weights', { reduction: 'sum', weight: [1, 0.5, 2, 1, 0.1] }],
    ['mean with weights ignoring a class', { ignore: 0, weight: [1, 0.5, 2, 1, 0.1] }],
  ];
  for (const opset of [12, 13, 22])
    it.each(cases)(`opset ${opset}: %s, with its log_prob output`, (_, c) => {
      const out = runLoss('SoftmaxCrossEntropyLoss', opset, scores, target, c, ['loss', 'log_prob']);
      const logp = logSoftmax(scores);
      expectClose(out.loss!, expectedLoss(logp, target, c));
      expectClose(out.log_prob!, { shape: [3, 5, 2], data: [...logp.data] });
    });

  it('without a log_prob output', () => {
    const out = runLoss('SoftmaxCrossEntropyLoss', 13, scores, target, { reduction: 'sum' });
    expectClose(out.loss!, expectedLoss(logSoftmax(scores), target, { reduction: 'sum' }));
  });
});
