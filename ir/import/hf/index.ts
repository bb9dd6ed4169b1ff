// Hugging Face import: config.json + safetensors -> kiln entry graphs (llama/mistral/qwen2, gpt2, bert).
export { importHf, DEFAULT_CHUNK, DEFAULT_MAX_SEQ } from './import.js';
export type { HfGeneration, HfImportOptions, HfModel } from './model.js';
export type { Entry, StatePair } from './decoder.js';
export { HfImportError } from './errors.js';
export { MODEL_TYPES, parseHfConfig, readHfConfig, type BertConfig, type Gpt2Config, type HfConfig, type HfFamily, type LlamaConfig } from './config.js';
