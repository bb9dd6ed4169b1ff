// BERT encoders (transformers' BertModel): word + position + token-type embeddings, post-norm blocks with
// bidirectional attention and exact (erf) GELU, and the optional pooler. One entry, 'run', over a fixed T rows
// of which the first `len` are the sequence: padding keys are masked by Attention's len, and the padding rows'
// outputs are meaningless (as the rows of a padded batch are in transformers).
import { GraphBuilder } from '../../builder.js';
import { makeTensor } from '../../tensor.js';
import { tensorType } from '../../types.js';
import type { BertConfig } from './config.js';
import { asRow, geluErf, layerNorm, linear, mergeHeads, splitHeads } from './common.js';
import type { Entry } from './decoder.js';
import type { Checkpoint } from '../safetensors/index.js';
import type { Weights } from './weights.js';
import { quantLinear } from './quant.js';

/** BertFor* checkpoints prefix the encoder with 'bert.'; BertModel checkpoints do not. */
export function bertPrefix(checkpoint: Checkpoint): string {
  return checkpoint.tensors.has('bert.embeddings.word_embeddings.weight') ? 'bert.' : '';
}

export const BERT_NAMES = {
  inputIds: 'input_ids',
  tokenTypeIds: 'token_type_ids',
  length: 'len',
  lastHiddenState: 'last_hidden_state',
  poolerOutput: 'pooler_output',
} as const;

export function hasBertPooler(weights: Weights): boolean {
  return weights.has('pooler.dense.weight');
}

export function buildBertEntry(cfg: BertConfig, weights: Weights, rows: number): Entry {
  const { hiddenSize: hidden, intermediateSize: inner, heads, headDim, layerNormEps: eps } = cfg;
  const b = new GraphBuilder('run');
  const ids = b.input(BERT_NAMES.inputIds, tensorType('i32', [rows]));
  const types = b.input(BERT_NAMES.tokenTypeIds, tensorType('i32', [rows]));
  const len = b.input(BERT_NAMES.length, tensorType('i32', []));

  const w = (name: string, shape: readonly number[]): string => weights.constant(b, name, shape);
  // Checkpoints converted from the original TensorFlow BERT call LayerNorm's parameters gamma and beta.
  const norm = (x: string, name: string, outName?: string): string =>
    layerNorm(b, x, w(weights.firstPresent([`${name}.weight`, `${name}.gamma`]), [hidden]), w(weights.firstPresent([`${name}.bias`, `${name}.beta`]), [hidden]), eps, outName);
  const dense = (x: string, name: string, out: number, inFeatures: number): string => {
    const bias = w(`${name}.bias`, [out]);
    return quantLinear(weights, b, x, name, out, inFeatures, bias) ?? linear(b, x, w(`${name}.weight`, [out, inFeatures]), bias, true);
  };
  const gather = (table: string, shape: readonly number[], indices: string): string => b.op('Gather', [w(table, shape), indices], { axis: 0 });

  // BERT's position ids are always 0..T-1 (no cache), so they are a constant rather than Positions(pos).
  const positionIds = b.constant(makeTensor('i32', [rows], (i) => i), 'position_ids');
  const embedded = b.op('Add', [
    b.op('Add', [gather('embeddings.word_embeddings.weight', [cfg.vocabSize, hidden], ids), gather('embeddings.position_embeddings.weight', [cfg.maxPositions, hidden], positionIds)]),
    gather('embeddings.token_type_embeddings.weight', [cfg.typeVocabSize, hidden], types),
  ]);
  let x = norm(embedded, 'embeddings.LayerNorm');

  for (let l = 0; l < cfg.layers; l++) {
    const p = `encoder.layer.${l}`;
    const last = l === cfg.layers - 1;
    const project = (name: string): string => splitHeads(b, dense(x, `${p}.attention.self.${name}`, hidden, hidden), heads, headDim);
    // No pos: keys are this call's own rows; len hides the padding keys from every query.
    const context = b.op('Attention', [project('query'), project('key'), project('value'), '', len], { scale: 1 / Math.sqrt(headDim), causal: false });
    const attn = dense(mergeHeads(b, context), `${p}.attention.output.dense`, hidden, hidden);
    const x1 = norm(b.op('Add', [x, attn]), `${p}.attention.output.LayerNorm`);
    const up = geluErf(b, dense(x1, `${p}.intermediate.dense`, inner, hidden));
    const down = dense(up, `${p}.output.dense`, hidden, inner);
    x = norm(b.op('Add', [x1, down]), `${p}.output.LayerNorm`, last ? BERT_NAMES.lastHiddenState : undefined);
  }
  b.output(x);

  if (hasBertPooler(weights)) {
    // The pooler reads the first ([CLS]) row: tanh(dense(row 0)).
    const first = asRow(b, b.op('Gather', [x, b.constant(makeTensor('i32', [], [0]), 'first_row')], { axis: 0 }));
    const pooled = b.op('Tanh', [dense(first, 'pooler.dense', hidden, hidden)]);
    b.output(b.op('Reshape', [pooled], { shape: [-1] }, { names: [BERT_NAMES.poolerOutput] }));
  }
  return { graph: b.build(), state: [] };
}
