// Sparsified models end to end: the sparsify pass prunes, the compiler re-encodes weights in Tiled-CSL where the
// device profile favours it, and the sparse kernels run inside real models. mnist-8 at 50 % sparsity still
// reads its digits; a llama-shaped checkpoint at 80 % generates the interpreter's tokens (the interpreter runs
// the same pruned graphs) and `kiln inspect` reports per-layer sparsity, kernel and bytes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { PROFILES } from '../../passes/sparse/profiles.js';
import { importHf } from '../../ir/index.js';
import { configure, inferShapes, runPipeline, sparsify } from '../../passes/index.js';
import { Session } from '../../runtime/index.js';
import { promptIds, tempCheckpoint } from '../import/hf-fixtures.js';
import { interpGenerate } from '../import/hf-generate.js';
import { kiln } from '../kiln-cli.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { testGpu } from './harness.js';

describe('llama-shaped checkpoint at 80 % sparsity', () => {
  // Hidden 64 so every projection has >= 4096 weights (smaller ones are never worth a sparse kernel).
  const ckpt = tempCheckpoint('llama', { hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16 });
  const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: 40, chunk: 8 });
  const pruned = {
    ...model,
    entries: Object.fromEntries(
      Object.entries(model.entries).map(([name, e]) => [name, { ...e, graph: runPipeline(e.graph, [inferShapes, configure(sparsify, { sparsity: 0.8 })]).graph }]),
    ),
  };
  const prompt = promptIds(10, model.generation!.vocabSize);
  const reference = interpGenerate(pruned, prompt, 16);

  it('runs the sparse kernels and generates the interpreter\'s tokens', async () => {
    const artifact = compileProgram(
      { name: 'llama', entries: model.entries, generation: model.generation! },
      { sparsify: { sparsity: 0.8 }, profile: PROFILES.lavapipe! },
    );
    const layers = artifact.manifest.sparsity!.layers;
    expect(layers.length).toBeGreaterThanOrEqual(7 * 2);
    for (const l of layers) expect(l.sparsity).toBeCloseTo(0.8, 2);
    expect(layers.filter((l) => l.kernel !== 'dense').length).toBeGreaterThan(0);
    const kernels = Object.values(artifact.manifest.entryPoints).flatMap((e) => e.dispatches.map((d) => d.label));
    expect(kernels.some((label) => / \[tiled-csl (direct|scatter)/.test(label))).toBe(true);
    expect(kernels.some((label) => label.includes('SparseMatMul'))).toBe(false);
    const gpu = await testGpu();
    const session = await Session.load(artifactFiles(artifact), { device: gpu.acquired });
    try {
      expect(await session.generate(prompt, { maxNewTokens: 16, stopAtEos: false })).toEqual(reference.tokens);
    } finally {
      session.dispose();
    }
  });

  it('kiln compile --sparsity and kiln inspect report each layer', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kiln-sparse-')), 'artifact');
    const c = kiln(['compile', ckpt.configPath, '--weights', ckpt.weightsPath, '--max-seq', '40', '--chunk', '8', '--sparsity', '0.8', '--device-profile', 'lavapipe', '-o', dir]);
    expect(c.status, c.stderr).toBe(0);
    const i = kiln(['inspect', dir]);
    expect(i.status, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/sparsity: \d+ matmul weights with zeros, costed for lavapipe/);
    expect(i.stdout).toMatch(/model\.layers\.0\.mlp\.up_proj\.weight\t128 x 64\t8,1\t80\.0 %\t(direct|scatter|dense)\t32,768\t[\d,]+/);
    const g = kiln(['generate', dir, '--ids', prompt.join(','), '--max-new-tokens', '16', '--json']);
    expect(g.status, g.stderr).toBe(0);
    const tokens = (JSON.parse(g.stdout) as { tokens: number[] }).tokens;
    expect(tokens).toEqual(reference.tokens.slice(0, tokens.length));
  });
});

describe.runIf(haveShared())('mnist-8 at 50 % sparsity', () => {
  const models = haveShared() ? join(sharedDir()!, 'models') : '';
  const dir = join(mkdtempSync(join(tmpdir(), 'kiln-mnist-sparse-')), 'artifact');

  it.each([
    [0, 0],
    [1, 3],
    [2, 5],
    [3, 7],
  ])('test set %i still reads digit %i', (set, digit) => {
    if (set === 0) {
      const c = kiln(['compile', join(models, 'mnist-8', 'model.onnx'), '--sparsity', '0.5', '-o', dir]);
      expect(c.status, c.stderr).toBe(0);
      expect(kiln(['inspect', dir]).stdout).toMatch(/50\.0 %/);
    }
    const r = kiln(['run', dir, '--input', `Input3=${join(models, 'mnist-8', 'reference', `test_data_set_${set}`, 'input_0.pb')}`, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const logits = JSON.parse(r.stdout).outputs.Plus214_Output_0.data as number[];
    expect(logits.indexOf(Math.max(...logits))).toBe(digit);
  });
});
