// The decoder benches' shared half (bench:decode, eval:quant): GPT-2- and Llama-shaped random checkpoints written
// once into a cache folder (reused while complete and made from the same preset), compiled per variant (sparse,
// f16 weights, bitpack widths, pruned) for the local adapter into a directory next to the checkpoint; fixed prompt
// ids; the one device every session shares.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { compileProgram } from '../../compiler/compile.js';
import { writeArtifact } from '../../compiler/emit/write.js';
import { importHf } from '../../ir/import/hf/index.js';
import type { Manifest } from '../../runtime/index.js';
import { type CheckpointFamily, type PresetName, parameterCount, presetConfig, presetTensors, writeRandomCheckpoint } from '../../scripts/lib/checkpoints.js';
import { localAdapter } from './kiln.js';

/** Cache capacity and prefill chunk the models are compiled with. */
export const MAX_SEQ = 256;
export const CHUNK = 128;
const SEED = 0;

export interface Runs {
  readonly warmup: number;
  readonly runs: number;
}

export interface ModelSpec {
  readonly family: CheckpointFamily;
  readonly preset: PresetName;
  // The software adapter takes seconds per 500M step, so the large model gets few runs.
  readonly prefill: Runs;
  readonly decode: Runs;
  /** Compile with the sparsify pass at this sparsity (and f16 sparse values). */
  readonly sparsity?: number;
  /** Compile with --weights-dtype f16 (dense weights stored as f16, widened in the matmuls). */
  readonly weightsDtype?: 'f16';
  /** Compile with --bits (bitpack), e.g. weights only at 4 bits in groups of 128; `layers`: per-layer widths. */
  readonly bits?: { readonly bits: string; readonly group: number; readonly layers?: Readonly<Record<string, string>> };
  /** Compile with --prune (prune-structured): channel and head ratios. */
  readonly prune?: { readonly ratio: number; readonly heads: number };
}

export interface Prepared {
  readonly name: string;
  readonly spec: ModelSpec;
  readonly parameters: number;
  readonly artifactDir: string;
  readonly manifest: Manifest;
}


/**
 * The checkpoint's folder in the cache, written when missing. A marker written last records the config and
 * the weights file's size, so a checkpoint is reused only when complete and made from the same preset.
 */
function cachedCheckpoint(cacheDir: string, spec: ModelSpec, config: Record<string, unknown>, log: (line: string) => void): { configPath: string; weightsPath: string } {
  const vocab = String(config.vocab_size);
  const dir = resolve(cacheDir, `${spec.family}-${spec.preset}-v${vocab}-seed${SEED}`);
  const marker = join(dir, 'bench-checkpoint.json');
  const configPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  const wanted = JSON.stringify({ config, seed: SEED });
  if (existsSync(marker) && existsSync(weightsPath)) {
    const recorded = JSON.parse(readFileSync(marker, 'utf8')) as { key: string; weightsBytes: number };
    if (recorded.key === wanted && statSync(weightsPath).size === recorded.weightsBytes) {
      log(`${spec.preset}: reusing the checkpoint in ${dir}`);
      return { configPath, weightsPath };
    }
  }
  log(`${spec.preset}: writing a random checkpoint into ${dir} ...`);
  const written = writeRandomCheckpoint(dir, spec.family, config, SEED);
  writeFileSync(marker, `${JSON.stringify({ key: wanted, weightsBytes: statSync(written.weightsPath).size })}\n`);
  return { configPath: written.configPath, weightsPath: written.weightsPath };
}

export async function prepare(cacheDir: string, name: string, spec: ModelSpec, log: (line: string) => void): Promise<Prepared> {
  const config = presetConfig(spec.family, spec.preset);
  const { configPath, weightsPath } = cachedCheckpoint(cacheDir, spec, config, log);
  const model = importHf(configPath, { weights: weightsPath, maxSeq: MAX_SEQ, chunk: CHUNK });
  if (!model.generation) throw new Error(`${name}: the importer made no prefill/decode entry points`);
  const variant = `${spec.sparsity === undefined ? '' : `-sparse${Math.round(spec.sparsity * 100)}`}${spec.weightsDtype ? `-${spec.weightsDtype}` : ''}${spec.bits ? `-${spec.bits.bits}g${spec.bits.group}${Object.entries(spec.bits.layers ?? {}).map(([k, v]) => `-${k.replace(/[^A-Za-z0-9]/g, '')}${v}`).join('')}` : ''}${spec.prune ? `-pruned${spec.prune.ratio}h${spec.prune.heads}` : ''}`;
  const artifactDir = join(dirname(configPath), `artifact${variant}`);
  log(`${name}: compiling into ${artifactDir} ...`);
  // Every variant is compiled for the adapter it runs on (as `kiln compile --device-profile auto`): the profile
  // decides sparse kernels and weight layouts (arrange-layout's panels for the decode GEMVs and the prefill GEMM).
  // Subgroups where the adapter has them (the quant GEMV shares activations through them; only kernels that use
  // them make the artifact require the feature).
  const local = await localAdapter();
  const subgroups = local.subgroups ? { subgroups: true } : {};
  const sparse = spec.sparsity === undefined ? {} : { sparsify: { sparsity: spec.sparsity } };
  const narrow = spec.weightsDtype ? { weightsDtype: spec.weightsDtype } : {};
  const target = { shaderF16: spec.sparsity !== undefined || !!spec.weightsDtype, ...subgroups };
  const artifact = compileProgram(
    { name: model.family, entries: model.entries, generation: model.generation },
    { source: 'config.json', profile: local.profile, target, ...sparse, ...narrow, ...(spec.bits ? { bits: spec.bits } : {}), ...(spec.prune ? { prune: spec.prune } : {}) },
  );
  writeArtifact(artifactDir, artifact);
  // A pruned model has what the pruning report says it lost fewer parameters.
  const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, shape.length ? 1 : 0);
  const pruned = (artifact.manifest.pruning?.layers ?? []).reduce((n, l) => n + count(l.before) - count(l.after), 0);
  const parameters = parameterCount(presetTensors(spec.family, config)) - pruned;
  return { name, spec, parameters, artifactDir, manifest: artifact.manifest };
}

/** `length` token ids below `vocab`, the same every run (a fixed LCG). */
export function promptIds(length: number, vocab: number): number[] {
  let s = 12345;
  return Array.from({ length }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % vocab;
  });
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** One device for the bandwidth kernel and every session: the limits every compiled model asks for. */
export function requiredLimits(manifests: readonly Manifest[]): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const m of manifests) for (const [k, v] of Object.entries(m.requires.limits)) limits[k] = Math.max(limits[k] ?? 0, v);
  return limits;
}
