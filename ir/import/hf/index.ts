// Hugging Face import: config.json + safetensors -> kiln entry graphs (llama/mistral/qwen2, gpt2, bert).
export { importHf } from './import.js';
export type { HfGeneration, HfImportOptions, HfModel } from './model.js';
export type { Entry as HfEntry, StatePair as HfStatePair } from './decoder.js';
export { HfImportError } from './errors.js';
export { HF_MODEL_TYPES, parseHfConfig, readHfConfig, type BertConfig, type Gpt2Config, type HfConfig, type HfFamily, type LlamaConfig } from './config.js';
