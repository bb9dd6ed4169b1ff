// tsx scripts/make-checkpoints.ts <outdir> --family llama --preset tiny [--seed N] [--shard-bytes N]
// Writes a random Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json for small vocabularies)
// for tests, demos and benchmarks; see scripts/lib/checkpoints.ts for the presets and the initialisation.
import { parseArgs } from 'node:util';
import { type CheckpointFamily, PRESET_NAMES, type PresetName, writeRandomCheckpoint } from './lib/checkpoints.js';

const FAMILIES: readonly CheckpointFamily[] = ['llama', 'gpt2', 'bert'];
const USAGE = `usage: tsx scripts/make-checkpoints.ts <outdir> --family ${FAMILIES.join('|')} --preset ${PRESET_NAMES.join('|')} [--seed N] [--shard-bytes N]`;

function fail(message: string): never {
  console.error(`make-checkpoints: ${message}\n${USAGE}`);
  process.exit(2);
}

function wholeNumber(flag: string, text: string | undefined, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) fail(`${flag} must be a whole number, got '${text}'`);
  return Number(text);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { family: { type: 'string' }, preset: { type: 'string', default: 'tiny' }, seed: { type: 'string' }, 'shard-bytes': { type: 'string' } },
    });
  } catch (e) {
    return fail((e as Error).message);
  }
})();

if (positionals.length !== 1) fail('give exactly one output folder');
const family = values.family as CheckpointFamily | undefined;
if (!family || !FAMILIES.includes(family)) fail(`--family must be one of ${FAMILIES.join(', ')}`);
const preset = values.preset as PresetName;
if (!PRESET_NAMES.includes(preset)) fail(`--preset must be one of ${PRESET_NAMES.join(', ')}`);
const seed = wholeNumber('--seed', values.seed, 0)!;
const maxShardBytes = wholeNumber('--shard-bytes', values['shard-bytes']);

const started = Date.now();
try {
  const written = writeRandomCheckpoint(positionals[0]!, family, preset, seed, maxShardBytes !== undefined ? { maxShardBytes } : {});
  console.log(`${family} ${preset} (seed ${seed}): ${written.parameters.toLocaleString('en-US')} parameters in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const path of [written.configPath, written.weightsPath, written.tokenizerPath]) if (path) console.log(`  ${path}`);
} catch (e) {
  fail((e as Error).message);
}
