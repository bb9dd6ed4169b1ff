// Pre-quantized Hugging Face checkpoints (ir/import/hf/quant.ts): GPTQ 4-bit with group 128 and act-order, GPTQ
// 3-bit (gptq_v2 zero points), AWQ 4-bit (GEMM packing), and a GPT-2 (Conv1D) GPTQ checkpoint, each written by
// scripts/lib/quant-checkpoints.ts from known float weights. The interpreter on the imported decoder must match an
// independent forward pass over the dequantized weights within 1e-4; every projection stays codes; a config
// that disagrees with the tensors, a qweight of the wrong shape and unsupported settings fail naming the tensor.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importHf } from '../../ir/import/hf/index.js';
import type { Preset } from '../../scripts/lib/checkpoints.js';
import { type QuantCheckpointOptions, writeQuantizedCheckpoint } from '../../scripts/lib/quant-checkpoints.js';
import { checkDecoder } from './hf-decoder-check.js';
import { promptIds } from './hf-fixtures.js';
import { gpt2Forward, llamaForward } from './hf-reference.js';

const LLAMA: Preset = { hidden_size: 256, intermediate_size: 384, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 64 };
const GPT2: Preset = { n_embd: 64, n_head: 2 };

interface Case {
  readonly what: string;
  readonly family: 'llama' | 'gpt2';
  readonly preset: Preset;
  readonly o: QuantCheckpointOptions;
  /** Quantized projections per layer. */
  readonly perLayer: number;
}

const CASES: readonly Case[] = [
  { what: 'GPTQ 4-bit, group 128, act-order (v1 zero points)', family: 'llama', preset: LLAMA, o: { method: 'gptq', bits: 4, group: 128, actOrder: true }, perLayer: 7 },
  { what: 'GPTQ 3-bit, group 32, gptq_v2 zero points', family: 'llama', preset: LLAMA, o: { method: 'gptq', bits: 3, group: 32, checkpointFormat: 'gptq_v2' }, perLayer: 7 },
  { what: 'AWQ 4-bit GEMM, group 64', family: 'llama', preset: LLAMA, o: { method: 'awq', bits: 4, group: 64 }, perLayer: 7 },
  { what: 'GPT-2 GPTQ 8-bit, one group over K, quantize_config.json', family: 'gpt2', preset: GPT2, o: { method: 'gptq', bits: 8, group: -1, configIn: 'quantize_config' }, perLayer: 4 },
  { what: 'GPT-2 GPTQ 2-bit, group 32, act-order', family: 'gpt2', preset: GPT2, o: { method: 'gptq', bits: 2, group: 32, actOrder: true }, perLayer: 4 },
];

const temp = (): string => mkdtempSync(join(tmpdir(), 'kiln-quant-'));

describe('pre-quantized checkpoints', () => {
  for (const c of CASES)
    it(`${c.family} ${c.what}: matches the dequantized reference, weights stay codes`, () => {
      const pair = writeQuantizedCheckpoint(temp(), c.family, c.preset, 3, c.o);
      const model = importHf(pair.quant.configPath, { weights: pair.quant.weightsPath, maxSeq: 32, chunk: 8 });
      const graph = model.entries.prefill!.graph;
      const quantized = graph.constants.filter((k) => k.type.encoding.kind === 'quant');
      expect(quantized).toHaveLength(2 * c.perLayer);
      expect(quantized.every((k) => k.value?.dtype === `u${c.o.bits}`)).toBe(true);
      expect(graph.nodes.filter((n) => n.op === 'Gather' && n.inputs[1]?.endsWith('.act_order'))).toHaveLength(c.o.actOrder ? 2 * c.perLayer : 0);
      const forward = c.family === 'llama' ? llamaForward : gpt2Forward;
      const r = checkDecoder(model, (ids) => forward(pair.reference.configPath, pair.reference.weightsPath, ids), promptIds(11, 96), 6);
      expect(r.logitSpread).toBeGreaterThan(0.1);
      expect(r.prefillDiff).toBeLessThan(1e-4);
      expect(r.stepDiff).toBeLessThan(1e-4);
    });

  it('a quantization_config whose bits or group do not match the tensors names the tensor', () => {
    const pair = writeQuantizedCheckpoint(temp(), 'llama', LLAMA, 3, { method: 'gptq', bits: 8, group: 128 });
    const cfg = JSON.parse(readFileSync(pair.quant.configPath, 'utf8'));
    writeFileSync(pair.quant.configPath, JSON.stringify({ ...cfg, quantization_config: { ...cfg.quantization_config, bits: 4 } }));
    expect(() => importHf(pair.quant.configPath, { weights: pair.quant.weightsPath, maxSeq: 32 })).toThrow(
      /tensor 'model\.layers\.0\.self_attn\.q_proj\.qweight' has shape \[64,256\], expected \[32,256\] from the config and its quantization_config \(gptq, 4 bits, group_size 128\)/,
    );
    writeFileSync(pair.quant.configPath, JSON.stringify({ ...cfg, quantization_config: { ...cfg.quantization_config, group_size: 64 } }));
    expect(() => importHf(pair.quant.configPath, { weights: pair.quant.weightsPath, maxSeq: 32 })).toThrow(/tensor 'model\.layers\.0\.self_attn\.q_proj\.scales' has shape \[2,256\], expected \[4,256\] from the config and its quantization_config \(gptq, 8 bits, group_size 64\)/);
  });

  it('a qweight of the wrong shape names the tensor and the file', () => {
    const pair = writeQuantizedCheckpoint(temp(), 'llama', LLAMA, 3, {
      method: 'awq',
      bits: 4,
      group: 64,
      transform: (ts) => ts.map((t) => (t.name === 'model.layers.1.mlp.down_proj.qweight' ? { ...t, shape: [t.shape[1]!, t.shape[0]!] } : t)),
    });
    expect(() => importHf(pair.quant.configPath, { weights: pair.quant.weightsPath, maxSeq: 32 })).toThrow(/model\.safetensors: tensor 'model\.layers\.1\.mlp\.down_proj\.qweight' has shape \[32,384\], expected \[384,32\]/);
  });

  it('refuses settings it does not import, by key', () => {
    const pair = writeQuantizedCheckpoint(temp(), 'llama', LLAMA, 3, { method: 'awq', bits: 4, group: 64 });
    const cfg = JSON.parse(readFileSync(pair.quant.configPath, 'utf8'));
    const withQuant = (q: Record<string, unknown>): void => writeFileSync(pair.quant.configPath, JSON.stringify({ ...cfg, quantization_config: { ...cfg.quantization_config, ...q } }));
    const load = () => importHf(pair.quant.configPath, { weights: pair.quant.weightsPath, maxSeq: 32 });
    withQuant({ version: 'gemv' });
    expect(load).toThrow(/config\.json: unsupported: AWQ version 'gemv'; kiln imports the GEMM packing/);
    withQuant({ bits: 3 });
    expect(load).toThrow(/quantization_config bits is 3; AWQ checkpoints kiln imports have 4 bits/);
    withQuant({ quant_method: 'bitsandbytes' });
    expect(load).toThrow(/key 'quant_method' must be one of 'gptq', 'awq', got "bitsandbytes"/);
    withQuant({ group_size: 0 });
    expect(load).toThrow(/group_size must be a positive integer or -1, got 0/);
  });
});
