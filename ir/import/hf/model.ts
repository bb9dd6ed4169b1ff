// What importing a Hugging Face model yields: named entry graphs with their state, and for decoders the names
// and sizes a generation loop needs. Plain data, so the compiler and runtime depend on this shape, not on how
// a family was built.
import type { HfFamily } from './config.js';
import type { Entry } from './decoder.js';

export interface HfGeneration {
  readonly prefill: 'prefill';
  readonly decode: 'decode';
  readonly ids: 'ids';
  readonly position: 'pos';
  readonly length: 'len';
  readonly nextToken: 'next_token';
  readonly logits: 'logits';
  /** Rows of one prefill call. */
  readonly chunk: number;
  /** Cache capacity: prompt plus generated tokens may not exceed it. */
  readonly maxSeq: number;
  readonly eosTokenId?: number;
  readonly vocabSize: number;
}

export interface HfModel {
  readonly family: HfFamily;
  /** Decoders: 'prefill' and 'decode'; bert: 'run'. */
  readonly entries: Record<string, Entry>;
  readonly generation?: HfGeneration;
  /** Things a user should know about the import (defaults taken, tensors left unused). */
  readonly notes: string[];
}

export interface HfImportOptions {
  /** The checkpoint: a .safetensors file, a model.safetensors.index.json, or the folder holding one. */
  readonly weights: string;
  /** Decoders: cache capacity (default min(max positions, 2048)). */
  readonly maxSeq?: number;
  /** Decoders: rows per prefill call (default min(128, maxSeq)). */
  readonly chunk?: number;
  /** bert: rows of 'run' (default min(128, max_position_embeddings)). */
  readonly seq?: number;
}
