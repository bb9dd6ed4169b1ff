// safetensors checkpoints: open (single file, shard index or folder) without reading tensor data, bind a graph's
// params to the tensors, and write files and sharded checkpoints by streaming.
export { SafetensorsError } from './errors.js';
export type { Checkpoint, CheckpointTensor } from './checkpoint.js';
export { openCheckpoint, SINGLE_FILE_NAME, INDEX_FILE_NAME } from './open.js';
export { openSafetensorsFile, type SafetensorsFile } from './file.js';
export { MAX_HEADER_BYTES } from './header.js';
export { writeSafetensors, writeShardedSafetensors, shardName, type TensorToWrite, type ShardedWriteResult } from './write.js';
export { bindWeights, type BindResult } from './bind.js';
