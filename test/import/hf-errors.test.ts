// What the importer says about configs and checkpoints it cannot use: every message names the file, the key or
// tensor, and what was expected.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HfImportError, type HfImportOptions, importHf } from '../../ir/import/hf/index.js';
import { writeSafetensors } from '../../ir/import/safetensors/index.js';
import { type CheckpointFamily, type Preset, presetConfig, presetTensors } from '../../scripts/lib/checkpoints.js';
import { tempCheckpoint } from './hf-fixtures.js';

/** The import error's message; fails the test when the import succeeds or throws something else. */
function importError(configPath: string, opts: HfImportOptions): string {
  try {
    importHf(configPath, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(HfImportError);
    return (e as Error).message;
  }
  throw new Error('expected the import to fail');
}

/** A valid tiny checkpoint of `family` whose config.json is then replaced by the preset with `edit` applied. */
function withConfig(family: CheckpointFamily, edit: (c: Record<string, unknown>) => void, preset: Preset = 'tiny') {
  const ck = tempCheckpoint(family, preset);
  const config = presetConfig(family, preset);
  edit(config);
  writeFileSync(ck.configPath, JSON.stringify(config));
  return ck;
}

const configError = (family: CheckpointFamily, edit: (c: Record<string, unknown>) => void, opts: Partial<HfImportOptions> = {}): string => {
  const ck = withConfig(family, edit);
  return importError(ck.configPath, { weights: ck.weightsPath, ...opts });
};

describe('config errors', () => {
  it('names an unknown model_type and the supported ones', () => {
    expect(configError('llama', (c) => (c.model_type = 'gptj'))).toMatch(/config\.json: unsupported model_type 'gptj' \(supported: llama, mistral, qwen2, gpt2, bert\)/);
    expect(configError('llama', (c) => delete c.model_type)).toMatch(/config\.json: missing key 'model_type'/);
  });

  it('names missing and mistyped keys', () => {
    expect(configError('llama', (c) => delete c.hidden_size)).toMatch(/config\.json: missing key 'hidden_size' \(needed by a llama model\)/);
    expect(configError('gpt2', (c) => (c.n_layer = '2'))).toMatch(/config\.json: key 'n_layer' must be a positive integer, got "2"/);
    expect(configError('bert', (c) => (c.layer_norm_eps = -1))).toMatch(/key 'layer_norm_eps' must be a positive number, got -1/);
    expect(configError('llama', (c) => (c.tie_word_embeddings = 'yes'))).toMatch(/key 'tie_word_embeddings' must be true or false, got "yes"/);
  });

  it('refuses more layers than the checkpoint holds, before building anything', () => {
    expect(configError('llama', (c) => (c.num_hidden_layers = 1e12))).toMatch(/'num_hidden_layers' is 1000000000000, but .*model\.safetensors holds 2 block\(s\), model\.layers\.0\. to model\.layers\.1\./);
    expect(configError('gpt2', (c) => (c.n_layer = 3))).toMatch(/'n_layer' is 3, but .* holds 2 block\(s\)/);
    expect(configError('bert', (c) => (c.num_hidden_layers = 2 ** 40))).toMatch(/'num_hidden_layers' is 1099511627776, but .* holds 2 block\(s\), encoder\.layer\.0\./);
  });

  it('refuses configs whose math kiln does not build', () => {
    expect(configError('llama', (c) => (c.hidden_act = 'gelu'))).toMatch(/key 'hidden_act' must be one of 'silu', got "gelu"/);
    expect(configError('llama', (c) => (c.rope_scaling = { rope_type: 'llama3', factor: 8 }))).toMatch(/unsupported: 'rope_scaling' is \{"rope_type":"llama3","factor":8\}; scaled rotary embeddings are not supported/);
    expect(configError('llama', (c) => (c.num_key_value_heads = 3))).toMatch(/'num_attention_heads' \(4\) is not a multiple of 'num_key_value_heads' \(3\)/);
    expect(configError('gpt2', (c) => (c.activation_function = 'relu'))).toMatch(/key 'activation_function' must be one of 'gelu_new', 'gelu_pytorch_tanh', got "relu"/);
    expect(configError('gpt2', (c) => (c.scale_attn_by_inverse_layer_idx = true))).toMatch(/unsupported: 'scale_attn_by_inverse_layer_idx' is true/);
    expect(configError('bert', (c) => (c.hidden_act = 'relu'))).toMatch(/key 'hidden_act' must be one of 'gelu', got "relu"/);
    expect(configError('bert', (c) => (c.position_embedding_type = 'relative_key'))).toMatch(/key 'position_embedding_type' must be one of 'absolute'/);
  });

  it('refuses a sliding window shorter than the cache, and ignores one that is off or long enough', () => {
    const mistral = (c: Record<string, unknown>) => Object.assign(c, { model_type: 'mistral', sliding_window: 16 });
    expect(configError('llama', mistral, { maxSeq: 32 })).toMatch(/unsupported: 'sliding_window' is 16, less than maxSeq 32; kiln attends over the whole cache, so pass maxSeq <= 16/);
    const fits = withConfig('llama', mistral);
    expect(importHf(fits.configPath, { weights: fits.weightsPath, maxSeq: 16 }).generation!.maxSeq).toBe(16);
    const qwen = withConfig('llama', (c) => Object.assign(c, { model_type: 'qwen2', use_sliding_window: false, sliding_window: 4 }), { model_type: 'qwen2' });
    expect(importHf(qwen.configPath, { weights: qwen.weightsPath, maxSeq: 32 }).family).toBe('llama');
  });

  it('checks the size options against the config', () => {
    const ck = tempCheckpoint('llama', 'tiny');
    expect(importError(ck.configPath, { weights: ck.weightsPath, maxSeq: 129 })).toMatch(/config\.json: maxSeq 129 exceeds the config's max_position_embeddings \(128\)/);
    expect(importError(ck.configPath, { weights: ck.weightsPath, maxSeq: 16, chunk: 17 })).toMatch(/chunk 17 exceeds maxSeq \(16\)/);
    expect(importError(ck.configPath, { weights: ck.weightsPath, chunk: 2.5 })).toMatch(/chunk must be a positive integer, got 2.5/);
    const bert = tempCheckpoint('bert', 'tiny');
    expect(importError(bert.configPath, { weights: bert.weightsPath, seq: 65 })).toMatch(/seq 65 exceeds the config's max_position_embeddings \(64\)/);
  });

  it('names a config file that is missing or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-hf-'));
    expect(importError(join(dir, 'config.json'), { weights: dir })).toMatch(/config\.json: no such file/);
    writeFileSync(join(dir, 'config.json'), '{"model_type": ');
    expect(importError(dir, { weights: dir })).toMatch(/config\.json: not valid JSON/);
  });
});

describe('checkpoint errors', () => {
  it('names a missing tensor, the checkpoint and the expected shape', () => {
    const ck = tempCheckpoint('llama', 'tiny', { transform: (ts) => ts.filter((t) => t.name !== 'model.layers.1.mlp.up_proj.weight') });
    expect(importError(ck.configPath, { weights: ck.weightsPath })).toMatch(
      /model\.safetensors: missing tensor 'model\.layers\.1\.mlp\.up_proj\.weight' \(expected shape \[64,32\]\); similar names: 'model\.layers\.0\.mlp\.up_proj\.weight'/,
    );
  });

  it('names a tensor whose shape disagrees with the config', () => {
    const ck = tempCheckpoint('llama', 'tiny', {
      transform: (ts) => ts.map((t) => (t.name === 'model.layers.0.self_attn.k_proj.weight' ? { ...t, shape: [32, 32] } : t)),
    });
    expect(importError(ck.configPath, { weights: ck.weightsPath })).toMatch(
      /model\.safetensors: tensor 'model\.layers\.0\.self_attn\.k_proj\.weight' has shape \[32,32\], expected \[16,32\] from the config/,
    );
    const gpt2 = tempCheckpoint('gpt2', 'tiny', { tensorPrefix: 'transformer.', transform: (ts) => ts.filter((t) => t.name !== 'wpe.weight') });
    expect(importError(gpt2.configPath, { weights: gpt2.weightsPath })).toMatch(/missing tensor 'transformer\.wpe\.weight' \(expected shape \[64,32\]\)/);
  });

  it('refuses integer weights', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-hf-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(presetConfig('bert', 'tiny')));
    const tensors = presetTensors('bert', 'tiny').map((t) => {
      const format = t.name === 'embeddings.word_embeddings.weight' ? ('I32' as const) : ('F32' as const);
      return { name: t.name, format, shape: t.shape, chunks: () => [new Uint8Array(t.shape.reduce((a, b) => a * b, 1) * 4)] };
    });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    expect(importError(dir, { weights: dir })).toMatch(/model\.safetensors: tensor 'embeddings\.word_embeddings\.weight' is I32; expected floats \(F32, F16, BF16 or F64\)/);
  });
});
