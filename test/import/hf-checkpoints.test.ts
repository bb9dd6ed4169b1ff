// Random checkpoints (scripts/lib/checkpoints.ts) and the make-checkpoints CLI: preset sizes, determinism,
// encodings, value scales and the tokenizer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExternal } from '../../ir/external.js';
import { openCheckpoint } from '../../ir/import/safetensors/index.js';
import { parameterCount, presetConfig, presetTensors } from '../../scripts/lib/checkpoints.js';
import { tempCheckpoint } from './hf-fixtures.js';

const count = (family: 'llama' | 'gpt2' | 'bert', preset: Parameters<typeof presetConfig>[1]) => parameterCount(presetTensors(family, preset));

function stats(values: Float64Array): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) };
}

describe('random checkpoints', () => {
  it('have the documented parameter counts', () => {
    expect(count('llama', 'tiny')).toBe(24_736);
    expect(count('llama', 'tiny-tied')).toBe(24_736 - 96 * 32);
    expect(count('gpt2', 'tiny')).toBe(30_592);
    expect(count('bert', 'tiny')).toBe(23_392);
    expect(count('gpt2', 'gpt2-124m')).toBe(124_439_808); // openai-community/gpt2
    expect(count('llama', 'llama-500m')).toBe(501_007_872);
  });

  it('refuses a preset of another family and an unknown preset', () => {
    expect(() => presetConfig('llama', 'gpt2-124m')).toThrow(/preset 'gpt2-124m' is a gpt2 preset, not llama/);
    expect(() => presetConfig('bert', 'tiny-tied')).toThrow(/preset 'tiny-tied' is a llama preset, not bert/);
    expect(() => presetConfig('gpt2', 'huge' as never)).toThrow(/unknown preset 'huge'/);
    expect(() => presetTensors('llama', { model_type: 'gpt2' })).toThrow(/model_type 'gpt2', which is not a llama model/);
  });

  it('are deterministic in the seed', () => {
    const bytes = (seed: number) => readFileSync(tempCheckpoint('gpt2', 'tiny', {}, seed).weightsPath);
    expect(bytes(3).equals(bytes(3))).toBe(true);
    expect(bytes(3).equals(bytes(4))).toBe(false);
  });

  it('draw weights at the documented scales, in F32 or rounded to F16/BF16', () => {
    const ck = tempCheckpoint('gpt2', 'tiny');
    const t = openCheckpoint(ck.weightsPath).tensors;
    const read = (name: string, tensors = t) => loadExternal(tensors.get(name)!.data, 'f32', tensors.get(name)!.shape).data;
    const fc = stats(read('h.0.mlp.c_fc.weight')); // Conv1D [32, 128]: fan_in 32
    expect(Math.abs(fc.mean)).toBeLessThan(0.01);
    expect(fc.std).toBeGreaterThan(0.9 / Math.sqrt(32));
    expect(fc.std).toBeLessThan(1.1 / Math.sqrt(32));
    const proj = stats(read('h.0.mlp.c_proj.weight')); // Conv1D [128, 32]: fan_in 128
    expect(proj.std).toBeGreaterThan(0.9 / Math.sqrt(128));
    expect(proj.std).toBeLessThan(1.1 / Math.sqrt(128));
    expect(stats(read('ln_f.weight')).mean).toBeGreaterThan(0.9);
    for (const format of ['F16', 'BF16'] as const) {
      const half = openCheckpoint(tempCheckpoint('gpt2', 'tiny', { format }).weightsPath).tensors;
      expect(half.get('wte.weight')!.format).toBe(format);
      const a = read('wte.weight');
      const b = read('wte.weight', half);
      const worst = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!) / Math.max(Math.abs(v), 1e-3)), 0);
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThan(format === 'F16' ? 1e-3 : 8e-3);
    }
  });

  it('write a tokenizer.json for small vocabularies only', () => {
    const tiny = tempCheckpoint('llama', 'tiny');
    const tok = JSON.parse(readFileSync(tiny.tokenizerPath!, 'utf8')) as { model: { vocab: Record<string, number> } };
    expect(Object.keys(tok.model.vocab).length).toBeLessThanOrEqual(96);
    expect(Math.max(...Object.values(tok.model.vocab))).toBeLessThan(96);
    const wide = tempCheckpoint('gpt2', { vocab_size: 5000 });
    expect(wide.tokenizerPath).toBeUndefined();
    expect(existsSync(join(wide.dir, 'tokenizer.json'))).toBe(false);
  });

  it('come from the make-checkpoints CLI', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kiln-cli-')), 'bert');
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/make-checkpoints.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
    const ok = run(out, '--family', 'bert', '--preset', 'tiny', '--seed', '5');
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^bert tiny \(seed 5\): 23,392 parameters/);
    expect(Object.keys(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')))).toContain('type_vocab_size');
    expect(openCheckpoint(out).tensors.size).toBe(presetTensors('bert', 'tiny').length);
    const bad = run(out, '--family', 'bert', '--preset', 'gpt2-124m');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/make-checkpoints: preset 'gpt2-124m' is a gpt2 preset, not bert/);
  }, 60_000);
});
