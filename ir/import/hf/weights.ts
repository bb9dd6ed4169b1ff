// The checkpoint's tensors as graph constants. A weight is declared by its Hugging Face name (constant name and
// `source` alike) with its ExternalData, so nothing is read at import time and two entries built from one
// checkpoint declare identical constants, which the compiler packs once. Each weight is checked against the
// shape the config implies, so a mismatched config and checkpoint fail here, naming the tensor and the file.
import type { GraphBuilder } from '../../builder.js';
import type { DType } from '../../dtype.js';
import { type ExternalFormat, formatFits, loadExternal } from '../../external.js';
import type { Tensor } from '../../tensor.js';
import { tensorType } from '../../types.js';
import type { Checkpoint, CheckpointTensor } from '../safetensors/index.js';
import { closeNames } from '../safetensors/suggest.js';
import { hfError } from './errors.js';
import type { HfQuantConfig } from './quant.js';

export class Weights {
  private readonly declared = new WeakMap<GraphBuilder, Set<string>>();
  private readonly used = new Set<string>();

  /** `prefix` is prepended to every name (e.g. 'transformer.' for a GPT2LMHeadModel checkpoint). */
  constructor(
    readonly checkpoint: Checkpoint,
    readonly prefix = '',
    /** A pre-quantized checkpoint's quantization_config (hf/quant.ts reads its layers). */
    readonly quant?: HfQuantConfig,
  ) {}

  has(name: string): boolean {
    return this.checkpoint.tensors.has(this.prefix + name);
  }

  /** How many numbered blocks `${stem}0.`, `${stem}1.`, ... the checkpoint holds: one more than the highest index named. */
  countIndexed(stem: string): number {
    const head = this.prefix + stem;
    let count = 0;
    for (const name of this.checkpoint.tensors.keys()) {
      if (!name.startsWith(head)) continue;
      const m = /^(\d+)\./.exec(name.slice(head.length));
      if (m) count = Math.max(count, Number(m[1]) + 1);
    }
    return count;
  }

  /** The first of several names the checkpoint holds (old BERT checkpoints say gamma/beta for weight/bias). */
  firstPresent(names: readonly string[]): string {
    return names.find((n) => this.has(n)) ?? names[0]!;
  }

  /**
   * Declare weight `name` (without the prefix) in b, checked to have `shape`; returns the constant's name. A
   * weight used twice in one graph (tied embeddings) is declared once.
   */
  constant(b: GraphBuilder, name: string, shape: readonly number[]): string {
    const full = this.prefix + name;
    const t = this.checkpoint.tensors.get(full);
    if (!t) {
      const near = closeNames(full, this.checkpoint.tensors.keys());
      const hint = near.length ? `; similar names: ${near.map((n) => `'${n}'`).join(', ')}` : '';
      return hfError(this.checkpoint.path, `missing tensor '${full}' (expected shape [${shape.join(',')}])${hint}`);
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      hfError(t.data.file, `tensor '${full}' has shape [${t.shape.join(',')}], expected [${shape.join(',')}] from the config`);
    if (!formatFits(t.format, 'f32')) hfError(t.data.file, `tensor '${full}' is ${t.format}; expected floats (F32, F16, BF16 or F64)`);
    this.used.add(full);
    let names = this.declared.get(b);
    if (!names) this.declared.set(b, (names = new Set()));
    if (!names.has(full)) {
      names.add(full);
      // Declared f32 whatever the file holds: F16/BF16/F64 data is widened (or narrowed) to f32 on load.
      b.declareConstant({ name: full, type: tensorType('f32', shape), source: full, external: t.data });
    }
    return full;
  }

  /**
   * Tensor `name` (without the prefix), checked to have `shape` and one of `formats`, for an importer that reads
   * its bytes itself (a quantized layer's packed codes).
   */
  tensor(name: string, shape: readonly number[], formats: readonly ExternalFormat[]): CheckpointTensor {
    const full = this.prefix + name;
    const t = this.checkpoint.tensors.get(full);
    const q = this.quant ? ` and its quantization_config (${this.quant.method}, ${this.quant.bits} bits, group_size ${this.quant.group || -1})` : '';
    if (!t) return hfError(this.checkpoint.path, `missing tensor '${full}' (expected shape [${shape.join(',')}] from the config${q})`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      hfError(t.data.file, `tensor '${full}' has shape [${t.shape.join(',')}], expected [${shape.join(',')}] from the config${q}`);
    if (!formats.includes(t.format)) hfError(t.data.file, `tensor '${full}' is ${t.format}; expected ${formats.join(' or ')}`);
    this.used.add(full);
    return t;
  }

  /** A tensor's values, read now. */
  load(t: CheckpointTensor, shape: readonly number[], dtype: DType): Tensor {
    return loadExternal(t.data, dtype, shape);
  }

  /** Checkpoint tensors no graph has used so far (reported as a note: they may be another head's weights). */
  unused(): string[] {
    return [...this.checkpoint.tensors.keys()].filter((n) => !this.used.has(n));
  }
}
