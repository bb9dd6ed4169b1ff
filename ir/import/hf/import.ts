// importHf: config.json + safetensors checkpoint -> entry graphs whose weights stay in the checkpoint (external
// constants). This file picks the family, settles the sizes (maxSeq, chunk, seq) and assembles the HfModel;
// the families' files build the graphs.
import '../../ops/index.js'; // registers the IR ops the families build with
import { assertValid } from '../../verify.js';
import { openCheckpoint } from '../safetensors/index.js';
import { bertPrefix, buildBertEntry, hasBertPooler } from './bert.js';
import { type BertConfig, type Gpt2Config, type HfConfig, type LlamaConfig, readHfConfig } from './config.js';
import { DECODER_NAMES, type DecoderArchitecture, buildDecoderEntries } from './decoder.js';
import { hfError } from './errors.js';
import { gpt2Architecture, gpt2Prefix } from './gpt2.js';
import { llamaArchitecture, llamaHeadWeight } from './llama.js';
import type { HfImportOptions, HfModel } from './model.js';
import { Weights } from './weights.js';

/** The longest cache a decoder gets unless asked: memory for the cache grows with it, per layer. */
export const DEFAULT_MAX_SEQ = 2048;
/** Prefill rows per call unless asked: long enough to amortise a dispatch, short enough to keep activations small. */
export const DEFAULT_CHUNK = 128;

export function importHf(configPath: string, opts: HfImportOptions): HfModel {
  const config = readHfConfig(configPath);
  const checkpoint = openCheckpoint(opts.weights);
  const notes: string[] = [];
  let model: HfModel;
  let weights: Weights;
  if (config.family === 'bert') {
    weights = new Weights(checkpoint, bertPrefix(checkpoint), config.quant);
    checkLayerCount(config, weights);
    model = importBert(config, weights, opts, notes);
  } else {
    weights = new Weights(checkpoint, config.family === 'gpt2' ? gpt2Prefix(checkpoint) : '', config.quant);
    checkLayerCount(config, weights);
    model = importDecoder(config, weights, opts, notes);
  }
  for (const [name, entry] of Object.entries(model.entries)) assertValid(entry.graph, `${config.file}: entry '${name}'`);
  const unused = weights.unused();
  if (unused.length)
    notes.push(`${unused.length} checkpoint tensor(s) are not used by the graphs: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', ...' : ''}`);
  return model;
}

/** Where each family numbers its blocks, and the config key that says how many there are. */
const LAYER_NAMES: Readonly<Record<HfConfig['family'], { stem: string; key: string }>> = {
  llama: { stem: 'model.layers.', key: 'num_hidden_layers' },
  gpt2: { stem: 'h.', key: 'n_layer' },
  bert: { stem: 'encoder.layer.', key: 'num_hidden_layers' },
};

/**
 * The config may not ask for more blocks than the checkpoint holds. Checked before any graph is built, so a
 * damaged layer count (1e12) fails at once instead of building cache inputs until memory runs out.
 */
function checkLayerCount(config: HfConfig, weights: Weights): void {
  const { stem, key } = LAYER_NAMES[config.family];
  const held = weights.countIndexed(stem);
  if (config.layers > held) {
    const blocks = held ? `${held} block(s), ${weights.prefix}${stem}0. to ${weights.prefix}${stem}${held - 1}.` : `no blocks named ${weights.prefix}${stem}<n>.`;
    hfError(config.file, `'${key}' is ${config.layers}, but ${weights.checkpoint.path} holds ${blocks}; fix the config or give the matching checkpoint`);
  }
}

/** An optional size option: a whole number in 1..max, or the default. */
function sizeOption(config: HfConfig, name: string, given: number | undefined, fallback: number, max: number, maxWhat: string): number {
  if (given === undefined) return fallback;
  if (!Number.isInteger(given) || given < 1) return hfError(config.file, `${name} must be a positive integer, got ${given}`);
  if (given > max) return hfError(config.file, `${name} ${given} exceeds ${maxWhat} (${max})`);
  return given;
}

function importDecoder(config: LlamaConfig | Gpt2Config, weights: Weights, opts: HfImportOptions, notes: string[]): HfModel {
  const positionsKey = config.family === 'gpt2' ? 'n_positions' : 'max_position_embeddings';
  const maxSeq = sizeOption(config, 'maxSeq', opts.maxSeq, Math.min(config.maxPositions, DEFAULT_MAX_SEQ), config.maxPositions, `the config's ${positionsKey}`);
  const chunk = sizeOption(config, 'chunk', opts.chunk, Math.min(DEFAULT_CHUNK, maxSeq), maxSeq, 'maxSeq');
  let arch: DecoderArchitecture;
  let kvHeads: number;
  if (config.family === 'llama') {
    if (config.slidingWindow !== undefined && config.slidingWindow < maxSeq)
      hfError(config.file, `unsupported: 'sliding_window' is ${config.slidingWindow}, less than maxSeq ${maxSeq}; kiln attends over the whole cache, so pass maxSeq <= ${config.slidingWindow}`);
    arch = llamaArchitecture(config, llamaHeadWeight(config, weights, notes));
    kvHeads = config.kvHeads;
  } else {
    arch = gpt2Architecture(config);
    kvHeads = config.heads;
  }
  const { prefill, decode } = buildDecoderEntries(arch, weights, { layers: config.layers, kvHeads, headDim: config.headDim, maxSeq, chunk });
  return {
    family: config.family,
    entries: { prefill, decode },
    generation: {
      prefill: 'prefill',
      decode: 'decode',
      ...DECODER_NAMES,
      chunk,
      maxSeq,
      vocabSize: config.vocabSize,
      ...(config.eosTokenId !== undefined ? { eosTokenId: config.eosTokenId } : {}),
    },
    notes,
  };
}

function importBert(config: BertConfig, weights: Weights, opts: HfImportOptions, notes: string[]): HfModel {
  const seq = sizeOption(config, 'seq', opts.seq, Math.min(DEFAULT_CHUNK, config.maxPositions), config.maxPositions, "the config's max_position_embeddings");
  if (!hasBertPooler(weights)) notes.push('no pooler weights: the model has no pooler_output');
  return { family: 'bert', entries: { run: buildBertEntry(config, weights, seq) }, notes };
}
