// Random Hugging Face checkpoints (config.json, model.safetensors, tokenizer.json) for tests and benchmarks: the
// layout and tensor names of real llama / gpt2 / bert checkpoints, filled with deterministic pseudo-random values
// (F32 unless asked for F16 or BF16). Values are generated chunk by chunk while the file is written, so a 2 GB
// preset is written in the memory of one chunk (about 10 s and 140 MB for llama-500m).
//
// The pieces: checkpoint-presets.ts (config.json presets), checkpoint-tensors.ts (the tensor list of a config and
// how each tensor is initialised), checkpoint-values.ts (the seeded values, chunk by chunk); this module writes
// the files and is the one the tools and tests import.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type TensorToWrite, writeSafetensors, writeShardedSafetensors } from '../../ir/import/safetensors/index.js';
import { type CheckpointFamily, type Preset, presetConfig } from './checkpoint-presets.js';
import { type TensorSpec, parameterCount, presetTensors } from './checkpoint-tensors.js';
import { type CheckpointFormat, encodeChunks, normalChunks } from './checkpoint-values.js';
import { TINY_TOKENIZER_MIN_VOCAB, tinyTokenizerJson } from './tiny-tokenizer.js';

export { type CheckpointFamily, PRESET_NAMES, type Preset, type PresetName, presetConfig } from './checkpoint-presets.js';
export { type TensorSpec, checkpointTensors, parameterCount, presetTensors } from './checkpoint-tensors.js';
export type { CheckpointFormat } from './checkpoint-values.js';

export interface WriteOptions {
  /** Element encoding of every tensor; F32 unless given. */
  readonly format?: CheckpointFormat;
  /** Prepended to every tensor name ('transformer.' as GPT2LMHeadModel saves, 'bert.' as BertFor* saves). */
  readonly tensorPrefix?: string;
  /** Write model-0000k-of-0000n shards of at most this many bytes plus model.safetensors.index.json. */
  readonly maxShardBytes?: number;
  /** Edit the tensor list before writing (tests drop or reshape tensors to check the importer's errors). */
  readonly transform?: (tensors: TensorSpec[]) => TensorSpec[];
}

export interface WrittenCheckpoint {
  readonly dir: string;
  readonly configPath: string;
  /** model.safetensors, or model.safetensors.index.json when sharded. */
  readonly weightsPath: string;
  /** Absent when the vocabulary is too large for the tiny tokenizer. */
  readonly tokenizerPath?: string;
  readonly parameters: number;
}

/** Vocabularies up to this size get a tiny tokenizer.json; real-sized ones would get a useless giant one. */
export const TOKENIZER_MAX_VOCAB = 4096;

/**
 * Write a random checkpoint of `family`/`preset` into `dir` (created if needed): config.json, model.safetensors
 * (or shards) and, for small vocabularies, tokenizer.json. The same arguments always give the same bytes.
 */
export function writeRandomCheckpoint(dir: string, family: CheckpointFamily, preset: Preset, seed = 0, options: WriteOptions = {}): WrittenCheckpoint {
  const folder = resolve(dir);
  mkdirSync(folder, { recursive: true });
  const json = presetConfig(family, preset);
  const base = presetTensors(family, preset);
  const vocab = json.vocab_size as number;
  const specs = options.transform ? options.transform(base) : base;
  const prefix = options.tensorPrefix ?? '';
  const format = options.format ?? 'F32';
  const tensors: TensorToWrite[] = specs.map((s) => ({ name: prefix + s.name, format, shape: s.shape, chunks: () => encodeChunks(normalChunks(s, seed), format) }));
  const metadata = { format: 'pt', generator: `kiln make-checkpoints ${family} seed ${seed}` };

  const configPath = join(folder, 'config.json');
  writeFileSync(configPath, `${JSON.stringify(json, null, 2)}\n`);
  const weightsPath =
    options.maxShardBytes !== undefined
      ? writeShardedSafetensors(folder, tensors, options.maxShardBytes, metadata).indexPath
      : (writeSafetensors(join(folder, 'model.safetensors'), tensors, metadata), join(folder, 'model.safetensors'));
  let tokenizerPath: string | undefined;
  if (vocab >= TINY_TOKENIZER_MIN_VOCAB && vocab <= TOKENIZER_MAX_VOCAB) {
    tokenizerPath = join(folder, 'tokenizer.json');
    writeFileSync(tokenizerPath, JSON.stringify(tinyTokenizerJson(vocab)));
  }
  return { dir: folder, configPath, weightsPath, ...(tokenizerPath ? { tokenizerPath } : {}), parameters: parameterCount(specs) };
}
