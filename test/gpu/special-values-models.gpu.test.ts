// Numerics at the edges (3 of 3): mnist-8 and tiny-distilbert-sst2 with special values (-0, subnormals, NaN,
// ±inf, values whose squares overflow) planted in their float inputs, on the adapter against the interpreter.
// The models hold no sum whose f32 value depends on the summation order (checked; see special-values-lib.ts).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Graph, type Tensor, evaluateAll, importOnnx, makeTensor, readTensorProtoFile, updateGraph } from '../../ir/index.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { F32_MAX, GRAPH_TOL, expectAsInterpreter, unpredictableSums } from './special-values-lib.js';

const models = haveShared() ? join(sharedDir()!, 'models') : '';

/** `base` with `plant` values written at the given flat positions. */
function planted(base: Tensor, plant: Readonly<Record<number, number>>): Tensor {
  return makeTensor(base.dtype, base.shape, (i) => plant[i] ?? base.data[i]!);
}

describe.runIf(haveShared())('real models with special values in their inputs, on the adapter', () => {
  it('mnist-8: -0 and subnormals, NaN, ±inf and 1e20 pixels give the interpreter’s logits', async () => {
    const { graph } = importOnnx(join(models, 'mnist-8', 'model.onnx'));
    const input = graph.inputs[0]!.name;
    const digit = readTensorProtoFile(join(models, 'mnist-8', 'reference', 'test_data_set_0', 'input_0.pb'));
    const at = (row: number, col: number): number => row * 28 + col;
    const variants: Record<string, Record<number, number>> = {
      // The background is 0: make some of it -0, and put subnormals in and next to the stroke.
      'zeros and subnormals': Object.fromEntries(
        Array.from({ length: 28 * 28 }, (_, i) => i).flatMap((i) => (i % 7 === 0 ? [[i, digit.data[i] === 0 ? -0 : 2 ** -149]] : i % 11 === 0 ? [[i, -(2 ** -126 - 2 ** -149)]] : [])),
      ),
      'a NaN pixel': { [at(14, 14)]: NaN },
      'a +inf pixel': { [at(3, 20)]: Infinity },
      'a -inf pixel': { [at(20, 5)]: -Infinity },
      '±inf pixels far apart': { [at(2, 2)]: Infinity, [at(25, 25)]: -Infinity },
      'a 1e20 and a -1e20 pixel': { [at(10, 10)]: 1e20, [at(18, 9)]: -1e20 },
    };
    for (const [what, plant] of Object.entries(variants)) {
      const inputs = { [input]: planted(digit, plant) };
      expect(unpredictableSums(graph, evaluateAll(graph, inputs), () => GRAPH_TOL), what).toEqual([]);
      await expectAsInterpreter(graph, inputs, () => GRAPH_TOL).catch((e: Error) => {
        throw new Error(`mnist-8, ${what}: ${e.message.slice(0, 4000)}`);
      });
    }
  });

  // tiny-distilbert-sst2's inputs are token ids and a mask (integers), so the special values go into its first
  // float tensor instead: %55, the embeddings (word + position) entering the first LayerNorm, made a graph input.
  it('tiny-distilbert-sst2: special values in the embeddings give the interpreter’s logits and intermediates', async () => {
    const dir = join(models, 'tiny-distilbert-sst2');
    const intermediates = ['130', '244', '282', '294', '297'];
    for (const set of [0, 1]) {
      const data = join(dir, 'reference', `test_data_set_${set}`);
      const ids = readTensorProtoFile(join(data, 'input_0.pb'));
      const mask = readTensorProtoFile(join(data, 'input_1.pb'));
      const [batch, sequence] = ids.shape as [number, number];
      const { graph } = importOnnx(join(dir, 'model.onnx'), { symbols: { batch, sequence } });
      const embeddings = evaluateAll(graph, { input_ids: ids, attention_mask: mask }).get('55')!;
      const cut = (outputs: string[]): Graph =>
        updateGraph(
          { ...graph, outputs },
          { inputs: [...graph.inputs, { name: '55', type: graph.types.get('55')! }], nodes: graph.nodes.filter((n) => !n.outputs.includes('55')) },
        );
      const last = embeddings.data.length - 1;
      // %66 is the embeddings' LayerNorm (decomposed: ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add).
      const everything = ['logits', ...intermediates, '66'];
      const variants: [string, Record<number, number>, string[]][] = [
        ['-0 and subnormals', { 0: -0, 1: 2 ** -149, 2: -(2 ** -126 - 2 ** -149), 3: 2 ** -126 - 2 ** -149, 4: -0, 5: -0 }, everything],
        ['a NaN', { 3: NaN }, everything],
        ['a NaN in the last token (padding, in set 1)', { [last]: NaN }, everything],
        ['+inf and -inf', { 2: Infinity, [last - 1]: -Infinity }, everything],
        // Squares that overflow: the LayerNorm's Pow gives inf, its variance inf, and the token's row becomes 0
        // on both sides. Compared up to there: downstream, that zero row plus the small attention output
        // is normalised again with a variance far below epsilon (1e-12), which scales last-bit differences of the
        // sums (f32 on the GPU, float64 in the interpreter) by 1/sqrt(1e-12) = 1e6 - ill-conditioned, not a
        // special-value effect.
        ['the largest finite value and 1e20 (squares overflow)', { 0: F32_MAX, 5: -1e20 }, ['59', '60', '63', '64', '66']],
      ];
      for (const [what, plant, outputs] of variants) {
        const g = cut(outputs);
        const inputs = { input_ids: ids, attention_mask: mask, 55: planted(embeddings, plant) };
        expect(unpredictableSums(g, evaluateAll(g, inputs), () => GRAPH_TOL), what).toEqual([]);
        await expectAsInterpreter(g, inputs, () => GRAPH_TOL).catch((e: Error) => {
          throw new Error(`tiny-distilbert-sst2 set ${set}, ${what}: ${e.message.slice(0, 4000)}`);
        });
      }
    }
  });
});
