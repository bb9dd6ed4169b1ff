// The artifact's manifest: the whole execution plan as JSON-serialisable data. The compiler writes it, the
// runtime executes it and knows no ops: buffers to create, kernels (WGSL files) to build into pipelines, and per
// entry point its inputs, outputs and an ordered list of dispatches with their buffer bindings. Bumping
// MANIFEST_VERSION is required for any change a runtime of the previous version would misread.
// Version 2: several entry points (a decoder's prefill and decode) sharing weights and persistent state buffers
// (a KV cache), uniform inputs, weights split into pages, and an optional generation recipe.
// Version 3: branches on run-time conditions (EntryPoint.branches), which a version-2 runtime would run both sides of;
// symbolic dims (symbols, dimsBuffer, dispatch sizes and output dims computed per run).

export const MANIFEST_FORMAT = 'kiln-artifact';
export const MANIFEST_VERSION = 3;

/** Element types as stored in buffers (the IR's dtype names). */
export type StorageDType = string;

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: number;
  readonly model: { readonly name: string; readonly source: string; readonly compiler: string };
  /** What the device must offer. */
  readonly requires: {
    readonly features: readonly string[];
    readonly limits: Readonly<Record<string, number>>;
  };
  readonly buffers: readonly BufferDecl[];
  readonly kernels: readonly KernelDecl[];
  /** Entry points by name: 'run' for a plain model; 'prefill' and 'decode' for a decoder. */
  readonly entryPoints: Readonly<Record<string, EntryPoint>>;
  /** How to generate tokens with the entry points (decoders only). */
  readonly generation?: GenerationDecl;
  /** A Hugging Face tokenizer.json shipped with the artifact (relative path), for text prompts. */
  readonly tokenizer?: string;
  /** Per matmul weight with zeros: its sparsity, the kernel the compiler chose and the bytes (for `kiln inspect`). */
  readonly sparsity?: {
    readonly profile: string;
    readonly layers: readonly {
      readonly weight: string;
      readonly m: number;
      readonly k: number;
      readonly n: readonly number[];
      readonly sparsity: number;
      readonly kernel: string;
      readonly denseBytes: number;
      readonly bytes: number;
    }[];
  };
  /**
   * Per quantized matmul weight: width, scheme, group, the kernel reading it, stored against float bytes and, where
   * the compiler quantized it, the error against the float weight (relative Frobenius, max abs); for `kiln inspect`.
   */
  readonly quantization?: {
    readonly layers: readonly {
      readonly weight: string;
      readonly shape: readonly number[];
      readonly bits: number;
      readonly scheme: string;
      readonly group: number;
      readonly kernel: string;
      readonly bytes: number;
      readonly floatBytes: number;
      readonly relError: number | null;
      readonly maxError: number | null;
    }[];
    /**
     * With `kiln compile --bits ... --calibrate <dir>`: the quantized program's outputs against the float program's
     * on the sample inputs, both by the reference interpreter: per output the largest |difference| and the relative
     * error ||quantized - float|| / ||float|| over all samples.
     */
    readonly calibration?: { readonly samples: number; readonly outputs: readonly { readonly output: string; readonly maxError: number; readonly relError: number }[] };
  };
  /**
   * What structured pruning removed (kiln compile --prune): per group its weights and width (channels, or key/value
   * heads with their query heads) before and after; per weight that shrank its shape and the FLOPs of the matmuls
   * and convolutions reading it in `entry`, before and after (null for a symbolic size); for `kiln inspect`.
   */
  readonly pruning?: {
    readonly entry: string;
    readonly groups: readonly { readonly weights: readonly string[]; readonly kind: 'heads' | 'channels'; readonly before: number; readonly after: number }[];
    readonly layers: readonly {
      readonly weight: string;
      readonly before: readonly number[];
      readonly after: readonly number[];
      readonly flopsBefore: number | null;
      readonly flopsAfter: number | null;
    }[];
  };
  /** Activation arena size against the no-reuse total (what memory planning saved). */
  readonly memory?: { readonly arenaBytes: number; readonly noReuseBytes: number; readonly weightsBytes: number };
  /** The device profile the dispatches' predicted times (cost.traffic.ms) are for. */
  readonly costProfile?: string;
  /**
   * Symbolic dims the artifact serves without recompiling (--dim batch=1..4): their bounds, in the order their
   * values sit in the dims uniform buffer `dimsBuffer`, which the runtime writes per run from the input shapes.
   */
  readonly symbols?: readonly SymbolDecl[];
  readonly dimsBuffer?: number;
  /** sha256 (hex) and size of every other file in the artifact, by relative path. */
  readonly files: Readonly<Record<string, { readonly sha256: string; readonly bytes: number }>>;
}

export interface EntryPoint {
  readonly inputs: readonly IOTensor[];
  readonly outputs: readonly IOTensor[];
  readonly dispatches: readonly Dispatch[];
  /** Branches of the dispatch list on run-time conditions, enclosing ones before those nested in them. */
  readonly branches?: readonly Branch[];
}

/**
 * An If whose condition is known only at run time: dispatches [then, else) are its then side, [else, end) its else
 * side. Reaching dispatch `then`, the runtime reads the condition back (4 bytes: a bool, stored as u32 0/1), runs
 * one side, skipping the other, and carries on at `end`.
 */
export interface Branch {
  readonly condition: Region;
  readonly then: number;
  readonly else: number;
  readonly end: number;
}

/**
 * Greedy generation over a prefill and a decode entry. Both take `ids` (i32[chunk] and i32[1]), the position
 * (tokens already in the cache) and the valid length as uniforms, update the state buffers in place, and return
 * the next token (and its logits). Prompts longer than `chunk` are prefilled chunk by chunk.
 */
export interface GenerationDecl {
  readonly prefill: string;
  readonly decode: string;
  readonly ids: string;
  readonly position: string;
  readonly length: string;
  readonly nextToken: string;
  readonly logits: string;
  readonly chunk: number;
  readonly maxSeq: number;
  readonly vocabSize: number;
  readonly eosTokenId?: number;
}

/** A byte range of one buffer. */
export interface Region {
  readonly buffer: number;
  readonly offset: number;
  readonly bytes: number;
}

export interface IOTensor {
  readonly name: string;
  /** The dtype the data has on the device. */
  readonly dtype: StorageDType;
  /** The dtype the source model declared when import narrowed or widened it (e.g. 'int64' held as i32). */
  readonly declaredDtype?: string;
  /** Static dims, symbol names (bound from the input shapes) and, for outputs, dims computed from symbols. */
  readonly shape: readonly ManifestDim[];
  readonly region: Region;
}

export interface BufferDecl {
  readonly id: number;
  /**
   * weights: filled from `source` at load; arena: activations (inputs, intermediates, outputs) and kernel
   * temporaries; uniform: scalar inputs read by kernels as uniforms (written per run like any input).
   */
  readonly kind: 'weights' | 'arena' | 'uniform' | 'state';
  readonly bytes: number;
  /** For weights: where the initial contents come from. */
  readonly source?: { readonly file: string; readonly offset: number };
  /** For state: the value name (the state input it holds between runs); zero at load. */
  readonly state?: string;
}

export interface KernelDecl {
  readonly id: number;
  /** Relative path of the WGSL file. */
  readonly file: string;
  readonly entryPoint: string;
  readonly workgroupSize: readonly [number, number, number];
  /** Workgroup memory the kernel declares, as counted against maxComputeWorkgroupStorageSize (absent: none). */
  readonly workgroupStorageBytes?: number;
  readonly bindings: readonly { readonly binding: number; readonly access: 'read' | 'read_write' | 'uniform' }[];
}

export interface Dispatch {
  readonly kernel: number;
  /** One region per kernel binding, in binding order. */
  readonly bindings: readonly Region[];
  /** Workgroup counts; with symbols, a count may be a manifest dim the runtime evaluates per run. */
  readonly workgroups: readonly [ManifestDim, ManifestDim, ManifestDim];
  /** The node(s) this dispatch computes, for error messages and profiles. */
  readonly label: string;
  /** Predicted work and traffic, for `kiln inspect` and `kiln profile` (the runtime ignores it). */
  readonly cost?: { readonly flops: number; readonly bytesRead: number; readonly bytesWritten: number; readonly traffic?: TrafficDecl };
}

/**
 * The traffic model's account of a dispatch (compiler/traffic/): its streams [binding, bytes, run, times, step?],
 * whether its kernel family described them (else each binding counts as streamed once), the flops executed, and
 * the bytes at transaction granularity and time predicted on the manifest's `costProfile`.
 */
export interface TrafficDecl {
  readonly streams: readonly (readonly [binding: number, bytes: number, run: number, times: number, step?: number])[];
  readonly described: boolean;
  /** Flops executed when tiles pad the problem past the node's own count (cost.flops). */
  readonly flops?: number;
  /** Barrier waits over the dispatch (rounds x workgroups x invocations). */
  readonly barriers?: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly ms: number;
}

/** A symbolic dim the artifact accepts, with the bounds it was compiled for. */
export interface SymbolDecl {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

/**
 * A dim in the manifest: a number, a symbol's name, or a postfix program over numbers and symbol names with the
 * operators '+', '*' and '//' (floor division), e.g. [2, "sequence", "*", 1, "+"] for 2*sequence+1.
 */
export type ManifestDim = number | string | readonly (number | string)[];
