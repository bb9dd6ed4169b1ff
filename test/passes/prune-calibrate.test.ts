// Calibrated structured pruning: channels are scored by activation norm times consumer weight norm, and a removed
// channel's mean contribution moves into the consumer's bias. A hidden channel whose activation is the same on
// every sample (its weights are zero, its bias is not) carries no information: calibration ranks it last, and
// removing it with compensation leaves the outputs as they were (to rounding); without compensation they move.
import { describe, expect, it } from 'vitest';
import { type Graph, GraphBuilder, interpret, makeTensor, tensorType } from '../../ir/index.js';
import { configure, inferShapes, pruneStructured, runPipeline } from '../../passes/index.js';

/** x[2,3] -> MatMul w1 [3,4] + b1 -> Relu -> MatMul w2 [4,2] + b2; hidden channel 2 has zero weights, bias 0.5. */
function net(): Graph {
  const b = new GraphBuilder('calib');
  const x = b.input('x', tensorType('f32', [2, 3]));
  const w1 = [0.9, -0.7, 0, 1.1, -0.8, 1.3, 0, 0.6, 0.5, 0.4, 0, -1.2];
  const h = b.op('Add', [b.op('MatMul', [x, b.constant(makeTensor('f32', [3, 4], w1), 'w1')]), b.constant(makeTensor('f32', [4], [0.1, -0.2, 0.5, 0.3]), 'b1')]);
  const a = b.op('Relu', [h]);
  const y = b.op('Add', [b.op('MatMul', [a, b.constant(makeTensor('f32', [4, 2], [1, -1, 0.5, 2, 3, -2, -0.5, 1.5]), 'w2')]), b.constant(makeTensor('f32', [2], [0.25, -0.25]), 'b2')], {}, { names: ['y'] });
  return runPipeline(b.output(y).build(), [inferShapes]).graph;
}

const samples = [0, 1, 2].map((s) => ({ x: makeTensor('f32', [2, 3], (i) => Math.sin(i * 1.3 + s * 2.1) * 2) }));

describe('prune-structured with calibration', () => {
  it('removes the constant channel and folds its contribution into the consumer bias: outputs unchanged', () => {
    const g = net();
    const p = runPipeline(g, [configure(pruneStructured, { ratio: 0.25, only: 'w1', calibration: samples })]).graph;
    const w1 = p.constants.find((c) => c.name === 'w1')!;
    expect(w1.type.shape).toEqual([3, 3]);
    expect(Array.from(w1.value!.data)).toEqual(Array.from(makeTensor('f32', [3, 3], [0.9, -0.7, 1.1, -0.8, 1.3, 0.6, 0.5, 0.4, -1.2]).data));
    // b2 + w2[2, :] * relu(0.5) = [0.25 + 1.5, -0.25 - 1]
    expect(Array.from(p.constants.find((c) => c.name === 'b2')!.value!.data)).toEqual([1.75, -1.25]);
    for (const s of samples) {
      const [want, got] = [interpret(g, s).y!.data, interpret(p, s).y!.data];
      want.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThan(1e-6));
    }
  });

  it('without calibration the weight norms rank the constant channel last too, but its contribution is lost', () => {
    const g = net();
    const p = runPipeline(g, [configure(pruneStructured, { ratio: 0.25, only: 'w1' })]).graph;
    expect(p.constants.find((c) => c.name === 'w1')!.type.shape).toEqual([3, 3]);
    const s = samples[0]!;
    const [want, got] = [interpret(g, s).y!.data, interpret(p, s).y!.data];
    expect(Math.max(...want.map((v, i) => Math.abs(got[i]! - v)))).toBeGreaterThan(0.9);
  });

  it('names a sample that lacks an input', () => {
    expect(() => runPipeline(net(), [configure(pruneStructured, { ratio: 0.25, calibration: [{ y: samples[0]!.x }] })])).toThrow(
      /prune calibration sample 1 has no tensor for input %x of calib/,
    );
  });
});
