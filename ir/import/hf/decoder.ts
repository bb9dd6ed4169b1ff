// The entry contract every decoder-only family shares: 'prefill' (T = chunk rows) and 'decode' (T = 1) graphs
// with the same inputs, outputs, constants and state, differing only in T. A family supplies its embedding, its
// blocks and its head (DecoderArchitecture); this file owns the inputs, the KV cache (CacheWrite + Attention per
// layer, the state pairs) and the outputs, so the runtime sees one shape of model whatever the family.
import { GraphBuilder } from '../../builder.js';
import { type Graph, consumers } from '../../graph.js';
import { tensorType } from '../../types.js';
import { asRow } from './common.js';
import type { Weights } from './weights.js';

export interface StatePair {
  readonly input: string;
  readonly output: string;
}

export interface Entry {
  readonly graph: Graph;
  /** Values carried from one call to the next: feed output back as input. */
  readonly state: StatePair[];
}

export interface DecoderDims {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Cache capacity S: the most tokens a sequence may hold. */
  readonly maxSeq: number;
  /** Rows of a prefill call. */
  readonly chunk: number;
}

/** One graph under construction, as the family's builders see it. */
export interface DecoderStep {
  readonly b: GraphBuilder;
  readonly weights: Weights;
  /** T: rows of ids (chunk or 1). */
  readonly rows: number;
  readonly ids: string;
  readonly pos: string;
  readonly len: string;
  /**
   * Write k and v [T, kvHeads, headDim] into layer `layer`'s cache and attend q [T, heads, headDim] over it
   * (causal, scale 1/sqrt(headDim)); returns [T, heads, headDim]. Called once per layer.
   */
  attend(layer: number, q: string, k: string, v: string): string;
}

export interface DecoderArchitecture {
  /** [T, hidden] embeddings of the step's ids. */
  embed(step: DecoderStep): string;
  /** One transformer block: [T, hidden] -> [T, hidden]. */
  block(step: DecoderStep, layer: number, x: string): string;
  /** The last valid row's hidden state [1, hidden] (final norm not yet applied) -> logits [1, vocab]. */
  head(step: DecoderStep, lastRow: string): string;
}

/** Input and output names of the contract (HfModel.generation repeats them for the runtime). */
export const DECODER_NAMES = { ids: 'ids', position: 'pos', length: 'len', logits: 'logits', nextToken: 'next_token' } as const;

export const cacheName = (layer: number, which: 'k' | 'v'): string => `cache.${layer}.${which}`;
export const nextCacheName = (layer: number, which: 'k' | 'v'): string => `${cacheName(layer, which)}.next`;

export function buildDecoderEntries(arch: DecoderArchitecture, weights: Weights, dims: DecoderDims): { prefill: Entry; decode: Entry } {
  return { prefill: buildDecoderEntry('prefill', dims.chunk, arch, weights, dims), decode: buildDecoderEntry('decode', 1, arch, weights, dims) };
}

function buildDecoderEntry(name: string, rows: number, arch: DecoderArchitecture, weights: Weights, dims: DecoderDims): Entry {
  const b = new GraphBuilder(name);
  const ids = b.input(DECODER_NAMES.ids, tensorType('i32', [rows]));
  const pos = b.input(DECODER_NAMES.position, tensorType('i32', []));
  const len = b.input(DECODER_NAMES.length, tensorType('i32', []));
  const cacheType = tensorType('f32', [dims.maxSeq, dims.kvHeads, dims.headDim]);
  const state: StatePair[] = [];
  for (let l = 0; l < dims.layers; l++)
    for (const which of ['k', 'v'] as const) {
      b.input(cacheName(l, which), cacheType);
      state.push({ input: cacheName(l, which), output: nextCacheName(l, which) });
    }

  const attended = new Set<number>();
  const step: DecoderStep = {
    b,
    weights,
    rows,
    ids,
    pos,
    len,
    attend(layer, q, k, v) {
      if (attended.has(layer)) throw new Error(`layer ${layer} attends twice; each layer has one cache`);
      attended.add(layer);
      const [kNext] = b.node('CacheWrite', [cacheName(layer, 'k'), k, pos, len], {}, { names: [nextCacheName(layer, 'k')] });
      const [vNext] = b.node('CacheWrite', [cacheName(layer, 'v'), v, pos, len], {}, { names: [nextCacheName(layer, 'v')] });
      return b.op('Attention', [q, kNext!, vNext!, pos, len], { scale: 1 / Math.sqrt(dims.headDim), causal: true });
    },
  };

  let x = arch.embed(step);
  for (let l = 0; l < dims.layers; l++) x = arch.block(step, l, x);
  if (attended.size !== dims.layers) throw new Error(`${attended.size} of ${dims.layers} layers attended`);
  // Only the last valid row predicts the next token, so the head (the largest matmul) runs on one row.
  const lastRowLogits = arch.head(step, asRow(b, b.op('LastRow', [x, len])));
  const logits = b.op('Reshape', [lastRowLogits], { shape: [-1] }, { names: [DECODER_NAMES.logits] });
  b.op('ArgMax', [logits], { axis: 0, keepdims: 0 }, { names: [DECODER_NAMES.nextToken] });
  b.output(DECODER_NAMES.logits, DECODER_NAMES.nextToken, ...state.map((s) => s.output));
  const graph = b.build();
  assertStepScalarsStayUniform(graph, [pos, len]);
  return { graph, state };
}

/** The ops that take pos and len as uniforms; any other reader would need them as storage tensors. */
const UNIFORM_READERS: ReadonlySet<string> = new Set(['Rope', 'CacheWrite', 'Attention', 'LastRow', 'Positions']);

/**
 * pos and len change every call, so the compiler binds them as uniforms, which only the decode ops accept.
 * A family builder that reads them any other way is a bug here, not in the model: fail while building.
 */
export function assertStepScalarsStayUniform(g: Graph, scalars: readonly string[]): void {
  const readers = consumers(g);
  for (const s of scalars)
    for (const n of readers.get(s) ?? [])
      if (!UNIFORM_READERS.has(n.op)) throw new Error(`${g.name}: %${s} feeds ${n.op}; it may only feed ${[...UNIFORM_READERS].join(', ')}`);
}
