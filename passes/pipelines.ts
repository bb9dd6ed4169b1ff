// Named pipelines: flat, ordered lists with the reason for each step. compilePipeline is everything `kiln compile`
// does to a graph before scheduling (`kiln compile --print-pipeline` prints it); what the compiler does after is
// scheduling (fusion, kernel choice), memory planning and emission, none of which rewrites the graph.
import { arrangeLayout } from './arrange-layout.js';
import { controlFlow } from './control-flow.js';
import { eliminateDead } from './eliminate-dead.js';
import { encodeSparseWeights } from './encode-sparse-weights.js';
import { fitSymbolBoundsPass } from './fit-symbol-bounds.js';
import { foldConstants } from './fold-constants.js';
import { inferShapes } from './infer-shapes.js';
import { materializeEncodings } from './materialize-encodings.js';
import { type Pass, type PipelineStep, configure } from './pass.js';
import { type SparsifyOptions, sparsify } from './sparsify.js';
import { splitOversized } from './split-oversized-weights.js';
import { storeWeightsF16 } from './store-weights-f16.js';
import { bitpack } from './bitpack.js';
import { pruneStructured } from './prune-structured.js';

export const DEFAULT_PIPELINE: readonly Pass<any>[] = [
  // Parsed or imported graphs may lack result types; everything after needs them.
  inferShapes,
  // Shape arithmetic and weight preprocessing subgraphs collapse into constants before any kernel is planned.
  foldConstants,
  // If/Loop/Scan resolved at compile time where the condition or trip count is known (inlined, unrolled).
  controlFlow,
  // Folding leaves the constants' former producers and inputs unused; drop them so no kernel is emitted for them.
  eliminateDead,
];

export interface CompilePipelineOptions {
  /** Prune matmul weights first (--sparsity, --sparsity-scope). */
  readonly sparsify?: Partial<SparsifyOptions>;
  /** Remove channel groups (--prune, --prune-scope, --prune-multiple, --prune-only): raw prune-structured options. */
  readonly prune?: Readonly<Record<string, unknown>>;
  /** Quantize matmul weights and activations to integer codes (--bits w<n>a<m>, --bits-group, --bits-keep). */
  readonly bits?: Readonly<Record<string, unknown>>;
  /** Storage of dense matmul and embedding weights (--weights-dtype). */
  readonly weightsDtype?: 'f32' | 'f16';
  /** Largest tensor one binding may hold (default: the target's maxStorageBufferBindingSize). */
  readonly maxBindingBytes?: number;
  /** Weight layouts (--layout): auto (arrange-layout chooses) or row-major (the pass leaves them; the baseline). */
  readonly layout?: 'auto' | 'row-major';
}

/** What `kiln compile` runs, in order, for these options. */
export function compilePipeline(opts: CompilePipelineOptions = {}): PipelineStep<any>[] {
  return [
    configure(inferShapes),
    // Pruning first, on the weights as the model has them: everything after sees the zeros.
    ...(opts.sparsify ? [configure(sparsify, opts.sparsify)] : []),
    ...DEFAULT_PIPELINE.slice(1).map((p) => configure(p)),
    // Whole channels go once shapes are folded to constants (a Reshape's target dim is rewritten), before any
    // quantization or storage choice sees the weights.
    ...(opts.prune ? [configure(pruneStructured, opts.prune)] : []),
    // Matmul weights to n-bit codes and their products to exact integer BitMatMuls, before any storage choice.
    ...(opts.bits ? [configure(bitpack, opts.bits)] : []),
    // Tensors over one binding's limit (embeddings, LM heads) become row blocks that fit, before any storage choice.
    configure(splitOversized, opts.maxBindingBytes !== undefined ? { maxBindingBytes: opts.maxBindingBytes } : {}),
    // Weights with zeros go Tiled-CSL where the target's cost model favours the sparse kernels (over all entries).
    configure(encodeSparseWeights),
    // The dense weights left may be stored f16 (Casts widen them; the matmul kernels fuse the Casts into loads).
    ...(opts.weightsDtype === 'f16' ? [configure(storeWeightsF16)] : []),
    // GEMV weights (f32 or f16 as stored now) in the order the arranged kernel streams them, where it moves fewer bytes.
    configure(arrangeLayout, opts.layout ? { layout: opts.layout } : {}),
    // Last: readers that cannot read a layout or encoding in place get the decoded tensor.
    configure(materializeEncodings),
    // Symbols nobody bounded get the largest range whose values fit the target's bindings: memory is planned for it.
    configure(fitSymbolBoundsPass, opts.maxBindingBytes !== undefined ? { maxBindingBytes: opts.maxBindingBytes } : {}),
  ];
}
