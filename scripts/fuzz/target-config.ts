// config target: a Hugging Face config.json through importHf (ir/import/hf) against a real tiny checkpoint, as
// `kiln compile config.json --weights ...` does, then the compiler when it imports. The checkpoint is picked
// from the text alone (its model_type's family, the variant by a hash), so a saved config replays the same
// way: llama (untied, tied, F16 in shards), gpt2 ('transformer.' prefix, BF16) and bert ('bert.' prefix).
// Cases are the tiny presets with keys replaced by wrong values (the config fuzz test's), removed, scaled off the
// checkpoint, swapped in from another family, with junk rope_scaling; or the text damaged.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compileProgram } from '../../compiler/compile.js';
import { HF_MODEL_TYPES, importHf } from '../../ir/index.js';
import { type CheckpointFamily, type WriteOptions, type WrittenCheckpoint, presetConfig, writeRandomCheckpoint } from '../../scripts/lib/checkpoints.js';
import { mutateText } from './mutate.js';
import { EDGE_NUMBERS, type Rng, hashBytes } from './rng.js';
import { type FuzzTarget, scratchDir, text, utf8 } from './targets.js';

/** Values of the wrong type or range for any config key (the config fuzz test's generator too). */
export const badConfigValue = fc.oneof(
  fc.constantFrom(null, true, false, '', 'abc', 'toString', '__proto__', 'constructor', [], {}, [1, 2], 0, -1, -0, 0.5, 1.5, 1e12, 2 ** 31, 2 ** 53, Number.MAX_VALUE, 1e-300),
  fc.integer({ min: -5, max: 4096 }),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 8 }),
);

const FAMILIES: readonly CheckpointFamily[] = ['llama', 'gpt2', 'bert'];
const VARIANTS: Readonly<Record<CheckpointFamily, readonly [preset: 'tiny' | 'tiny-tied', options: WriteOptions][]>> = {
  llama: [['tiny', {}], ['tiny-tied', {}], ['tiny', { format: 'F16', maxShardBytes: 40_000 }]],
  gpt2: [['tiny', { tensorPrefix: 'transformer.' }], ['tiny', { format: 'BF16' }]],
  bert: [['tiny', { tensorPrefix: 'bert.' }]],
};
const ROPE_SCALING: readonly unknown[] = [null, {}, { type: 'linear', factor: 2 }, { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 }, { type: 'dynamic', factor: -1 }, { rope_type: 'yarn' }, 'linear', [2]];

function damage(rng: Rng, config: Record<string, unknown>): void {
  const keys = Object.keys(config);
  const key = rng.pick(keys);
  switch (rng.int(6)) {
    case 0:
      config[key] = rng.sample(badConfigValue);
      break;
    case 1:
      delete config[key];
      break;
    case 2: {
      // A size off the checkpoint's (the config and the weights disagree) or at an edge.
      const numeric = keys.filter((k) => typeof config[k] === 'number');
      const k = numeric.length ? rng.pick(numeric) : key;
      const v = Number(config[k]);
      config[k] = rng.pick([v * 2, Math.floor(v / 2), v + 1, v - 1, rng.pick(EDGE_NUMBERS)]);
      break;
    }
    case 3:
      config.model_type = rng.pick([...Object.keys(HF_MODEL_TYPES), 'llama ', 'LLAMA', 't5', 'hasOwnProperty']);
      break;
    case 4: // a key of another family (the importer must not confuse the families' names for the same size)
      Object.assign(config, Object.fromEntries(Object.entries(presetConfig(rng.pick(FAMILIES), 'tiny')).filter(() => rng.chance(0.3))));
      break;
    default:
      config.rope_scaling = rng.pick(ROPE_SCALING);
  }
}

export function configTarget(): FuzzTarget {
  const root = scratchDir('config');
  const checkpoints = Object.fromEntries(
    FAMILIES.map((f) => [f, VARIANTS[f].map(([preset, options], i) => writeRandomCheckpoint(join(root, `${f}-${i}`), f, preset, 1, options))]),
  ) as Record<CheckpointFamily, WrittenCheckpoint[]>;

  /** The checkpoint a config is imported against: its model_type's family, else any (the text picks). */
  const checkpointFor = (configText: string): WrittenCheckpoint => {
    const h = hashBytes(configText);
    let family: CheckpointFamily = FAMILIES[h % FAMILIES.length]!;
    try {
      const type = (JSON.parse(configText) as { model_type?: unknown })?.model_type;
      if (typeof type === 'string' && Object.hasOwn(HF_MODEL_TYPES, type)) family = HF_MODEL_TYPES[type]!;
    } catch {
      // not JSON: any checkpoint refuses it the same way
    }
    const list = checkpoints[family];
    return list[(h >>> 8) % list.length]!;
  };

  return {
    corpus: `tiny llama/gpt2/bert checkpoints (${Object.values(checkpoints).flat().length} variants: tied, F16 shards, BF16, prefixed names)`,
    generate(rng) {
      const family = rng.pick(FAMILIES);
      const config = presetConfig(family, family === 'llama' && rng.chance(0.3) ? 'tiny-tied' : 'tiny');
      const k = rng.int(10);
      if (k < 7) for (let n = rng.range(1, 3); n > 0; n--) damage(rng, config);
      const json = JSON.stringify(config, null, 2);
      return utf8(k === 7 ? json.slice(0, rng.int(json.length)) : k >= 8 ? mutateText(rng, json, ['"model_type"', '"hidden_size"', 'null', '{', '}', '[', ']', ',', ':']) : json);
    },
    exercise(input) {
      const ck = checkpointFor(text(input));
      writeFileSync(ck.configPath, input);
      const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 16, chunk: 4 });
      compileProgram({ name: model.family, entries: model.entries, ...(model.generation ? { generation: model.generation } : {}) });
    },
  };
}
