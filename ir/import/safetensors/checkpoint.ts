// What opening a checkpoint yields: the tensors' names, formats and shapes, and where each one's bytes lie. No
// tensor data is read; binding a graph to a checkpoint only records ExternalData, so multi-gigabyte weights are
// streamed by the packer later instead of loaded here.
import type { DType } from '../../dtype.js';
import type { ExternalData, ExternalFormat } from '../../external.js';

export interface CheckpointTensor {
  readonly name: string;
  readonly format: ExternalFormat;
  readonly shape: number[];
  /** The IR dtype the data becomes (FORMAT_DTYPE[format]). */
  readonly dtype: DType;
  readonly data: ExternalData;
}

export interface Checkpoint {
  /** Absolute path of the file opened: a .safetensors file or a model.safetensors.index.json. */
  readonly path: string;
  /** Tensors in file order (data offset); for a sharded checkpoint, shard by shard. */
  readonly tensors: ReadonlyMap<string, CheckpointTensor>;
  /** The file's `__metadata__`; for a sharded checkpoint, the shards' merged with the index's `metadata`. */
  readonly metadata: Record<string, string>;
}
