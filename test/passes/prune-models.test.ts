// Structured pruning (exact mode) of real model shapes with planted zero groups: mnist-8 with zeroed conv filters,
// and llama / gpt2 checkpoints written with zeroed MLP channels. The interpreter's outputs must stay bit-identical
// and every planted channel must leave every tensor it touched.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Graph, interpret, makeTensor, tensorsIdentical } from '../../ir/index.js';
import { type HfModel, importHf } from '../../ir/import/hf/index.js';
import { importOnnx, readTensorProtoFile } from '../../ir/import/onnx/index.js';
import { DEFAULT_PIPELINE, configure, pruneStructured, runPipeline } from '../../passes/index.js';
import type { TensorSpec } from '../../scripts/lib/checkpoints.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { promptIds, tempCheckpoint } from '../import/hf-fixtures.js';
import { interpGenerate } from '../import/hf-generate.js';

const prune = (g: Graph): Graph => runPipeline(g, [configure(pruneStructured)]).graph;
const shapeOf = (g: Graph, name: string): readonly (number | string)[] => g.constants.find((c) => c.name === name)!.type.shape;
const params = (g: Graph): number => g.constants.reduce((n, c) => n + c.type.shape.reduce<number>((a, d) => a * Number(d), 1), 0);

/** g with the listed indices along `axis` of a constant set to zero. */
function plant(g: Graph, name: string, axis: number, indices: readonly number[]): Graph {
  return {
    ...g,
    constants: g.constants.map((c) => {
      if (c.name !== name) return c;
      const t = c.value!;
      const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      return { ...c, value: makeTensor(t.dtype, t.shape, (i) => (indices.includes(Math.floor(i / inner) % t.shape[axis]!) ? 0 : t.data[i]!)) };
    }),
  };
}

describe.runIf(haveShared())('mnist-8 with zeroed conv filters', () => {
  const dir = join(sharedDir() ?? '', 'models/mnist-8');
  const base = haveShared() ? runPipeline(importOnnx(join(dir, 'model.onnx')).graph, DEFAULT_PIPELINE).graph : undefined;

  it('loses the planted filters everywhere they go and reads every test digit bit for bit as before', () => {
    let g = base!;
    const [conv1, bias1, conv2, bias2] = [g.nodes[0]!.inputs[1]!, g.nodes[1]!.inputs[1]!, g.nodes[4]!.inputs[1]!, g.nodes[5]!.inputs[1]!];
    g = plant(plant(g, conv1, 0, [1, 5]), bias1, 0, [1, 5]);
    g = plant(plant(g, conv2, 0, [0, 3, 9, 12]), bias2, 0, [0, 3, 9, 12]);
    const p = prune(g);
    expect(shapeOf(p, conv1)).toEqual([6, 1, 5, 5]);
    expect(shapeOf(p, conv2)).toEqual([12, 6, 5, 5]);
    const head = p.nodes.find((n) => n.op === 'MatMul')!.inputs[1]!;
    expect(shapeOf(p, head)).toEqual([12 * 16, 10]); // flatten -> linear: 16 columns per channel
    // 2 of 8 filters (25 + 1 + 16 * 25 each) and 4 of 16 (6 * 25 + 1 + 160 each): the planted fraction of their layers.
    expect(params(g) - params(p)).toBe(2 * (25 + 1 + 16 * 25) + 4 * (8 * 25 + 1 + 160) - 4 * 2 * 25);
    for (const set of [0, 1, 2, 3]) {
      const x = { Input3: readTensorProtoFile(join(dir, 'reference', `test_data_set_${set}`, 'input_0.pb')) };
      expect(tensorsIdentical(interpret(p, x).Plus214_Output_0!, interpret(g, x).Plus214_Output_0!)).toBe(true);
    }
  });
});

/** The model with every entry through the default pipeline and prune-structured. */
function pruneModel(model: HfModel, passes = true): HfModel {
  const entries = Object.fromEntries(
    Object.entries(model.entries).map(([k, e]) => {
      const g = runPipeline(e.graph, DEFAULT_PIPELINE).graph;
      return [k, { ...e, graph: passes ? prune(g) : g }];
    }),
  );
  return { ...model, entries };
}

describe('decoders with zeroed heads and MLP channels', () => {
  const zeroRows = (name: string, axis: number, indices: number[]) => (t: TensorSpec[]) => t.map((s) => (s.name === name ? { ...s, zero: { axis, indices } } : s));
  const cases = [
    // llama: gate rows in layer 0 (silu(0) * up = 0), up rows in layer 1 (silu(gate) * 0 = 0).
    { family: 'llama' as const, plants: [zeroRows('model.layers.0.mlp.gate_proj.weight', 0, [1, 4, 7, 30]), zeroRows('model.layers.1.mlp.up_proj.weight', 0, [0, 2])], mlp: ['model.layers.0.mlp.down_proj.weight', 'model.layers.1.mlp.down_proj.weight'], kept: [60, 62] },
    // gpt2: Conv1D c_fc columns and their bias entries (gelu(0) = 0).
    { family: 'gpt2' as const, plants: [zeroRows('h.0.mlp.c_fc.weight', 1, [3, 9, 100]), zeroRows('h.0.mlp.c_fc.bias', 0, [3, 9, 100])], mlp: ['h.0.mlp.c_proj.weight'], kept: [125] },
    // llama heads: the value rows of key/value head 1 of layer 0 (8 dims each; its two query heads keep non-zero
    // q and k rows, yet the heads' outputs are zero): the group goes, q rows 16..31, k and v rows 8..15, o columns.
    { family: 'llama' as const, plants: [zeroRows('model.layers.0.self_attn.v_proj.weight', 0, [8, 9, 10, 11, 12, 13, 14, 15])], mlp: ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.o_proj.weight', 'model.layers.0.self_attn.k_proj.weight'], kept: [16, 16, 8] },
    // Every head of llama layer 0 zero: the attention block cannot be erased (its caches are state the runtime
    // keeps), so one key/value head (with its two query heads) stays.
    { family: 'llama' as const, plants: [zeroRows('model.layers.0.self_attn.v_proj.weight', 0, Array.from({ length: 16 }, (_, i) => i))], mlp: ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.v_proj.weight'], kept: [16, 8] },
    // gpt2 heads: head 2 of layer 1 zeroed in the fused c_attn (its q, k and v columns at 0, 32 and 64) and bias.
    { family: 'gpt2' as const, plants: ['weight', 'bias'].map((w) => zeroRows(`h.1.attn.c_attn.${w}`, w === 'weight' ? 1 : 0, [0, 32, 64].flatMap((o) => [16, 17, 18, 19, 20, 21, 22, 23].map((d) => o + d)))), mlp: ['h.1.attn.c_attn.weight', 'h.1.attn.c_proj.weight'], kept: [72, 24] },
  ];

  it.each(cases)('$family: the planted groups leave every tensor they touch and greedy decoding keeps its logits bit for bit', ({ family, plants, mlp, kept }) => {
    const ck = tempCheckpoint(family, 'tiny', { transform: (t) => plants.reduce((acc, f) => f(acc), t) });
    const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 24, chunk: 8 });
    const before = pruneModel(model, false);
    const after = pruneModel(model);
    const decode = after.entries.decode!.graph;
    mlp.forEach((name, i) => expect(shapeOf(decode, name)).toContain(kept[i]));
    const ids = promptIds(11, 96);
    const a = interpGenerate(before, ids, 4);
    const b = interpGenerate(after, ids, 4);
    expect(b.tokens).toEqual(a.tokens);
    b.logits.forEach((l, i) => expect(Array.from(l)).toEqual(Array.from(a.logits[i]!)));
  });
});
