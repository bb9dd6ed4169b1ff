// Structured pruning on the adapter: a llama checkpoint with planted zero heads and MLP channels, pruned exactly,
// decodes on the adapter with the unpruned model's interpreter logits (its caches shrink with its heads); a gpt2
// checkpoint pruned at a ratio (half of each MLP, a quarter of the heads) decodes the pruned model's tokens; mnist-8
// with zeroed filters runs its smaller kernels within 1e-5 of the unpruned interpreter.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { type Graph, importHf, interpret, makeTensor } from '../../ir/index.js';
import type { HfModel } from '../../ir/import/hf/index.js';
import { importOnnx, readTensorProtoFile } from '../../ir/import/onnx/index.js';
import { DEFAULT_PIPELINE, configure, pruneStructured, runPipeline } from '../../passes/index.js';
import type { TensorSpec } from '../../scripts/lib/checkpoints.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { Session } from '../../runtime/index.js';
import { promptIds, tempCheckpoint } from '../import/hf-fixtures.js';
import { interpGenerate } from '../import/hf-generate.js';
import { kiln } from '../kiln-cli.js';
import { expectStepsMatch, maxDiff } from './decoder-steps.js';
import { testGpu } from './harness.js';

const zeroRows = (name: string, axis: number, indices: number[]) => (t: TensorSpec[]) => t.map((s) => (s.name === name ? { ...s, zero: { axis, indices } } : s));
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

function withPasses(model: HfModel, prune?: Record<string, unknown>): HfModel {
  const steps = prune ? [...DEFAULT_PIPELINE, configure(pruneStructured, prune)] : DEFAULT_PIPELINE;
  return { ...model, entries: Object.fromEntries(Object.entries(model.entries).map(([k, e]) => [k, { ...e, graph: runPipeline(e.graph, steps).graph }])) };
}

/** Weight bytes of the artifact, weights row-major (the panel layouts pad their own widths). */
const weightBytes = (model: HfModel, prune?: Record<string, unknown>): number =>
  compileProgram({ name: model.family, entries: model.entries, generation: model.generation! }, { layout: 'row-major', ...(prune ? { prune } : {}) }).manifest.memory!.weightsBytes;

async function decodeOnAdapter(model: HfModel, prune: Record<string, unknown>, reference: { tokens: number[]; logits: Float64Array[] }, prompt: number[], tolerance: number): Promise<void> {
  const artifact = compileProgram({ name: model.family, entries: model.entries, generation: model.generation! }, { prune });
  const gpu = await testGpu();
  const session = await Session.load(artifactFiles(artifact), { device: gpu.acquired });
  try {
    await expectStepsMatch(session, model.generation!, prompt, reference, tolerance);
  } finally {
    session.dispose();
  }
}

describe('pruned decoders on the adapter', () => {
  it('llama with zeroed heads (value rows of a key/value head) and MLP channels: exact, caches shrink', async () => {
    const plants = [zeroRows('model.layers.0.self_attn.v_proj.weight', 0, range(8, 8)), zeroRows('model.layers.1.mlp.up_proj.weight', 0, [0, 5, 9, 33])];
    const ck = tempCheckpoint('llama', 'tiny', { transform: (t) => plants.reduce((acc, f) => f(acc), t) });
    const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 24, chunk: 8 });
    const prompt = promptIds(11, model.generation!.vocabSize);
    const pruned = withPasses(model, { ratio: 0 });
    const cache = pruned.entries.decode!.graph.inputs.find((i) => i.name.includes('0') && i.type.shape.length === 3)!;
    expect(cache.type.shape[1]).toBe(1); // one of two key/value heads left in layer 0's caches
    // The artifact loses the planted bytes: a key/value head (q rows 16 x 32, k and v rows 8 x 32, o columns
    // 32 x 16) and 4 MLP channels (gate and up rows, down columns: 3 x 32), f32, each weight padded to 256 bytes.
    const planted = 4 * (16 * 32 + 2 * 8 * 32 + 32 * 16 + 4 * 3 * 32);
    expect(Math.abs(weightBytes(model) - weightBytes(model, { ratio: 0 }) - planted)).toBeLessThanOrEqual(256 * 7);
    // The reference is the unpruned model: exact pruning changes nothing the interpreter can see.
    await decodeOnAdapter(model, { ratio: 0 }, interpGenerate(withPasses(model), prompt, 5), prompt, 1e-5);
  }, 120_000);

  it('gpt2 with a zeroed head (fused QKV columns and biases) and MLP channels: exact on the adapter, their bytes gone', async () => {
    const head = [0, 32, 64].flatMap((o) => range(o + 16, 8));
    const mlp = [3, 9, 100];
    const plants = [zeroRows('h.1.attn.c_attn.weight', 1, head), zeroRows('h.1.attn.c_attn.bias', 0, head), zeroRows('h.0.mlp.c_fc.weight', 1, mlp), zeroRows('h.0.mlp.c_fc.bias', 0, mlp)];
    const ck = tempCheckpoint('gpt2', 'tiny', { transform: (t) => plants.reduce((acc, f) => f(acc), t) });
    const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 24, chunk: 8 });
    // The head: c_attn columns 32 x 24 and biases 24, c_proj rows 8 x 32; 3 MLP channels: c_fc columns 32 and bias,
    // c_proj rows 32 each; f32.
    const planted = 4 * (32 * 24 + 24 + 8 * 32 + 3 * (32 + 1 + 32));
    expect(Math.abs(weightBytes(model) - weightBytes(model, { ratio: 0 }) - planted)).toBeLessThanOrEqual(256 * 6);
    const prompt = promptIds(9, model.generation!.vocabSize);
    await decodeOnAdapter(model, { ratio: 0 }, interpGenerate(withPasses(model), prompt, 5), prompt, 1e-5);
  }, 120_000);

  it('gpt2 with half of each MLP and a quarter of its heads removed decodes the pruned model', async () => {
    const ck = tempCheckpoint('gpt2', 'tiny');
    const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 24, chunk: 8 });
    const prune = { ratio: 0.5, heads: 0.25 };
    const pruned = withPasses(model, prune);
    const decode = pruned.entries.decode!.graph;
    const shape = (n: string) => decode.constants.find((c) => c.name === n)!.type.shape;
    expect(shape('h.0.mlp.c_fc.weight')).toEqual([32, 64]);
    expect(shape('h.0.attn.c_attn.weight')).toEqual([32, 72]); // 3 of 4 heads of 8, for q, k and v
    const prompt = promptIds(9, model.generation!.vocabSize);
    await decodeOnAdapter(model, prune, interpGenerate(pruned, prompt, 5), prompt, 1e-4);
  }, 120_000);
});

describe('erasing', () => {
  it('a llama whose layer-1 MLP is all zero compiles without that MLP: kiln inspect lists none of its kernels', () => {
    const ck = tempCheckpoint('llama', 'tiny', { transform: zeroRows('model.layers.1.mlp.gate_proj.weight', 0, range(0, 64)) });
    const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 24, chunk: 8 });
    const prompt = promptIds(7, model.generation!.vocabSize);
    const reference = interpGenerate(withPasses(model), prompt, 6);
    const dir = join(mkdtempSync(join(tmpdir(), 'kiln-erase-')), 'artifact');
    const c = kiln(['compile', ck.configPath, '--weights', ck.weightsPath, '--max-seq', '24', '--chunk', '8', '--prune', '0', '-o', dir]);
    expect(c.status, c.stderr).toBe(0);
    const inspect = kiln(['inspect', dir]);
    expect(inspect.status, inspect.stderr).toBe(0);
    // The report lists the erased weights; the dispatches (after "kernels:") read none of them.
    const [report, dispatches] = inspect.stdout.split(/^kernels: /m) as [string, string];
    expect(report).toMatch(/model\.layers\.1\.mlp\.down_proj\.weight\t32 x 64\terased/);
    expect(report).toMatch(/model\.layers\.1\.mlp\.gate_proj\.weight model\.layers\.1\.mlp\.up_proj\.weight\tchannels\t64\t0/);
    expect(dispatches).toContain('model.layers.0.mlp.down_proj.weight');
    expect(dispatches).not.toContain('model.layers.1.mlp');
    const g = kiln(['generate', dir, '--ids', prompt.join(','), '--max-new-tokens', '6', '--json']);
    expect(g.status, g.stderr).toBe(0);
    expect((JSON.parse(g.stdout) as { tokens: number[] }).tokens).toEqual(reference.tokens);
  }, 120_000);
});

describe.runIf(haveShared())('mnist-8 with zeroed filters on the adapter', () => {
  it('runs the pruned kernels within 1e-5 of the unpruned interpreter', async () => {
    const dir = join(sharedDir() ?? '', 'models/mnist-8');
    let g: Graph = runPipeline(importOnnx(join(dir, 'model.onnx')).graph, DEFAULT_PIPELINE).graph;
    const plant = (name: string, chans: number[]): void => {
      g = {
        ...g,
        constants: g.constants.map((c) => {
          if (c.name !== name) return c;
          const inner = c.value!.shape.slice(1).reduce((a, b) => a * b, 1);
          return { ...c, value: makeTensor(c.value!.dtype, c.value!.shape, (i) => (chans.includes(Math.floor(i / inner)) ? 0 : c.value!.data[i]!)) };
        }),
      };
    };
    const [w1, b1, w2, b2] = [g.nodes[0]!.inputs[1]!, g.nodes[1]!.inputs[1]!, g.nodes[4]!.inputs[1]!, g.nodes[5]!.inputs[1]!];
    for (const [w, b, chans] of [[w1, b1, [2, 6]], [w2, b2, [1, 4, 8, 15]]] as const) (plant(w, [...chans]), plant(b, [...chans]));
    const artifact = compileProgram({ name: 'mnist', entries: { run: { graph: g } } }, { prune: { ratio: 0 } });
    const weights = artifact.manifest.memory!.weightsBytes;
    const full = compileProgram({ name: 'mnist', entries: { run: { graph: g } } }, {}).manifest.memory!.weightsBytes;
    expect(weights).toBeLessThan(full * 0.8);
    const gpu = await testGpu();
    const session = await Session.load(artifactFiles(artifact), { device: gpu.acquired });
    try {
      for (const set of [0, 1, 2, 3]) {
        const x = readTensorProtoFile(join(dir, 'reference', `test_data_set_${set}`, 'input_0.pb'));
        const want = interpret(g, { Input3: x }).Plus214_Output_0!.data;
        const got = (await session.run({ Input3: Float32Array.from(x.data) })).Plus214_Output_0!.data as ArrayLike<number>;
        expect(maxDiff(got, want)).toBeLessThan(1e-5);
      }
    } finally {
      session.dispose();
    }
  }, 120_000);
});
