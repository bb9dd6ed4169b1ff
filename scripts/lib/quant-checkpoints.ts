// GPTQ and AWQ checkpoints written from known float weights (../shared/docs/quant-formats.md), for the importer's
// tests: a random llama or gpt2 checkpoint (scripts/lib/checkpoints.ts) whose every attention and MLP projection
// is quantized per group along K and stored the way AutoGPTQ / AutoAWQ pack it, next to a float checkpoint of the
// same model holding the dequantized weights, the reference the import must reproduce.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { f16Bits, f16FromBits } from '../../runtime/f16.js';
import { type TensorToWrite, writeSafetensors } from '../../ir/import/safetensors/index.js';
import { type CheckpointFamily, type Preset, presetConfig, presetTensors } from './checkpoints.js';
import { normalChunks } from './checkpoint-values.js';

export interface QuantCheckpointOptions {
  readonly method: 'gptq' | 'awq';
  readonly bits: number;
  /** Inputs per group (-1: one group over K). */
  readonly group: number;
  /** GPTQ act-order: inputs assigned to groups in a shuffled order, written to g_idx. */
  readonly actOrder?: boolean;
  /** GPTQ zero-point convention: 'gptq' stores z - 1 (symmetric codes, zero 2^(bits-1)), 'gptq_v2' z (min/max). */
  readonly checkpointFormat?: 'gptq' | 'gptq_v2';
  /** Where to put the quantization settings: config.json's quantization_config, or quantize_config.json. */
  readonly configIn?: 'config' | 'quantize_config';
  /** Edit the quantized tensors before writing (tests break them to check the importer's errors). */
  readonly transform?: (tensors: TensorToWrite[]) => TensorToWrite[];
}

export interface QuantCheckpointPair {
  readonly quant: { readonly configPath: string; readonly weightsPath: string };
  /** The same model with the dequantized weights, F32. */
  readonly reference: { readonly configPath: string; readonly weightsPath: string };
}

/** The projections each family quantizes, and whether the float weight is stored [in, out] (GPT-2's Conv1D). */
const PROJECTIONS: Record<CheckpointFamily, { pattern: RegExp; inOut: boolean }> = {
  llama: { pattern: /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/, inOut: false },
  gpt2: { pattern: /\.(c_attn|c_proj|c_fc)\.weight$/, inOut: true },
  bert: { pattern: /\.(query|key|value|dense)\.weight$/, inOut: false },
};

const i32Chunks = (v: Int32Array) => () => [new Uint8Array(v.buffer)];
const f32Chunks = (v: Float32Array) => () => [new Uint8Array(v.buffer)];
const f16Chunks = (v: readonly number[]) => () => [new Uint8Array(Uint16Array.from(v, f16Bits).buffer)];

/** Set bits [pos, pos + bits) of a stream of 32-bit words (word i at words[at(i)]), LSB first. */
function putBits(words: Int32Array, at: (i: number) => number, pos: number, bits: number, value: number): void {
  for (let b = 0; b < bits; b++) if ((value >> b) & 1) words[at((pos + b) >> 5)]! |= 1 << ((pos + b) & 31);
}

/** A deterministic shuffle of 0..n-1 (act-order's permutation). */
function shuffle(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  let s = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Quantize W[n][k] (N x K) per group and pack it; returns the tensors to write and the dequantized weight. */
function quantizeLayer(stem: string, n: number, k: number, w: (n: number, k: number) => number, o: QuantCheckpointOptions, seed: number): { tensors: TensorToWrite[]; deq: (n: number, k: number) => number } {
  const { bits } = o;
  const gs = o.group === -1 ? k : o.group;
  const groups = Math.ceil(k / gs);
  const top = 2 ** bits - 1;
  // The group of each input: k / gs, or by its place in a shuffled order (act-order).
  const order = o.actOrder ? shuffle(k, seed) : Array.from({ length: k }, (_, i) => i);
  const gIdx = new Int32Array(k);
  order.forEach((kk, i) => (gIdx[kk] = Math.floor(i / gs)));
  const sym = o.method === 'gptq' && (o.checkpointFormat ?? 'gptq') === 'gptq';
  const scales: number[] = new Array(groups * n).fill(0);
  const zeros = new Int32Array(groups * n);
  const codes = new Int32Array(n * k);
  for (let r = 0; r < n; r++)
    for (let g = 0; g < groups; g++) {
      const members = order.slice(g * gs, (g + 1) * gs);
      const vals = members.map((kk) => w(r, kk));
      const [min, max] = [Math.min(0, ...vals), Math.max(0, ...vals)];
      const zero = sym ? 2 ** (bits - 1) : Math.min(top, Math.max(0, Math.round((-min / (max - min || 1)) * top)));
      const span = sym ? Math.max(-min / zero, max / (top - zero)) : (max - min) / top;
      const scale = f16FromBits(f16Bits(span || 1));
      scales[g * n + r] = scale;
      zeros[g * n + r] = zero;
      for (const kk of members) codes[r * k + kk] = Math.min(top, Math.max(0, Math.round(w(r, kk) / scale) + zero));
    }
  const deq = (r: number, kk: number): number => (codes[r * k + kk]! - zeros[gIdx[kk]! * n + r]!) * scales[gIdx[kk]! * n + r]!;
  const tensors: TensorToWrite[] = [];
  if (o.method === 'gptq') {
    const rows = (k * bits) / 32;
    const qweight = new Int32Array(rows * n);
    for (let r = 0; r < n; r++) for (let kk = 0; kk < k; kk++) putBits(qweight, (i) => i * n + r, kk * bits, bits, codes[r * k + kk]!);
    const zw = (n * bits) / 32;
    const qzeros = new Int32Array(groups * zw);
    const minusOne = (o.checkpointFormat ?? 'gptq') === 'gptq' ? 1 : 0;
    for (let g = 0; g < groups; g++) for (let r = 0; r < n; r++) putBits(qzeros, (i) => g * zw + i, r * bits, bits, (zeros[g * n + r]! - minusOne) & top);
    tensors.push(
      { name: `${stem}.qweight`, format: 'I32', shape: [rows, n], chunks: i32Chunks(qweight) },
      { name: `${stem}.qzeros`, format: 'I32', shape: [groups, zw], chunks: i32Chunks(qzeros) },
      { name: `${stem}.scales`, format: 'F16', shape: [groups, n], chunks: f16Chunks(scales) },
      { name: `${stem}.g_idx`, format: 'I32', shape: [k], chunks: i32Chunks(gIdx) },
    );
  } else {
    const order8 = [0, 2, 4, 6, 1, 3, 5, 7];
    const pack = (rows: number, value: (row: number, col: number) => number): Int32Array => {
      const out = new Int32Array(rows * (n / 8));
      for (let row = 0; row < rows; row++) for (let c = 0; c < n / 8; c++) for (let i = 0; i < 8; i++) out[row * (n / 8) + c]! |= value(row, c * 8 + order8[i]!) << (4 * i);
      return out;
    };
    tensors.push(
      { name: `${stem}.qweight`, format: 'I32', shape: [k, n / 8], chunks: i32Chunks(pack(k, (kk, col) => codes[col * k + kk]!)) },
      { name: `${stem}.qzeros`, format: 'I32', shape: [groups, n / 8], chunks: i32Chunks(pack(groups, (g, col) => zeros[g * n + col]!)) },
      { name: `${stem}.scales`, format: 'F16', shape: [groups, n], chunks: f16Chunks(scales) },
    );
  }
  return { tensors, deq };
}

/** Write `dir`/quant and `dir`/reference for `family`/`preset` with every projection quantized as `o` says. */
export function writeQuantizedCheckpoint(dir: string, family: CheckpointFamily, preset: Preset, seed: number, o: QuantCheckpointOptions): QuantCheckpointPair {
  const config = presetConfig(family, preset);
  const { pattern, inOut } = PROJECTIONS[family];
  const quant: TensorToWrite[] = [];
  const reference: TensorToWrite[] = [];
  presetTensors(family, preset).forEach((spec, index) => {
    const values = Float32Array.from([...normalChunks(spec, seed)].flatMap((c) => [...c]));
    if (!pattern.test(spec.name)) {
      const t: TensorToWrite = { name: spec.name, format: 'F32', shape: spec.shape, chunks: f32Chunks(values) };
      quant.push(t);
      reference.push(t);
      return;
    }
    const [a, b] = spec.shape as [number, number];
    const [n, k] = inOut ? [b, a] : [a, b];
    const w = inOut ? (r: number, kk: number) => values[kk * b + r]! : (r: number, kk: number) => values[r * b + kk]!;
    const layer = quantizeLayer(spec.name.replace(/\.weight$/, ''), n, k, w, o, seed * 7919 + index);
    quant.push(...layer.tensors);
    const deq = Float32Array.from({ length: a * b }, (_, i) => (inOut ? layer.deq(i % b, Math.floor(i / b)) : layer.deq(Math.floor(i / b), i % b)));
    reference.push({ name: spec.name, format: 'F32', shape: spec.shape, chunks: f32Chunks(deq) });
  });
  const settings = {
    quant_method: o.method,
    bits: o.bits,
    group_size: o.group,
    ...(o.method === 'gptq' ? { desc_act: !!o.actOrder, sym: (o.checkpointFormat ?? 'gptq') === 'gptq', checkpoint_format: o.checkpointFormat ?? 'gptq' } : { zero_point: true, version: 'gemm' }),
  };
  const write = (sub: string, tensors: TensorToWrite[], cfg: Record<string, unknown>) => {
    const folder = resolve(dir, sub);
    mkdirSync(folder, { recursive: true });
    const configPath = join(folder, 'config.json');
    writeFileSync(configPath, `${JSON.stringify(cfg, null, 2)}\n`);
    const weightsPath = join(folder, 'model.safetensors');
    writeSafetensors(weightsPath, tensors, { format: 'pt' });
    return { configPath, weightsPath, folder };
  };
  const q = write('quant', o.transform ? o.transform(quant) : quant, o.configIn === 'quantize_config' ? config : { ...config, quantization_config: settings });
  if (o.configIn === 'quantize_config') writeFileSync(join(q.folder, 'quantize_config.json'), JSON.stringify(settings));
  const r = write('reference', reference, config);
  return { quant: { configPath: q.configPath, weightsPath: q.weightsPath }, reference: { configPath: r.configPath, weightsPath: r.weightsPath } };
}
