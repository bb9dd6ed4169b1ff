// manifest target: an artifact's manifest.json through readManifestFile (compiler/cli/files.ts: JSON, then
// runtime/manifest-check.ts checkManifest) and, when it passes, `kiln inspect` (text and --json), which reads
// every entry point, dispatch and kernel reference on the CPU. Cases are real manifests compiled in-process (the
// manifest tests' graph, examples/mlp.kir, a tiny llama decoder) with fields replaced or deleted (the manifest
// tests' mutations), values swapped between fields (type-right, reference-wrong), items repeated, or text damage.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readManifestFile } from '../../compiler/cli/files.js';
import { inspectCommand } from '../../compiler/cli/model-commands.js';
import { compileGraph, compileProgram } from '../../compiler/compile.js';
import { bindSymbols, importHf, parseKir } from '../../ir/index.js';
import { writeRandomCheckpoint } from '../../scripts/lib/checkpoints.js';
import { SMALL_KIR, arbMutation, jsonPaths, mutate } from '../lib/manifest-mutations.js';
import { mutateText } from './mutate.js';
import type { Rng } from './rng.js';
import { type FuzzTarget, scratchDir, utf8 } from './targets.js';

type Json = any; // manifests as loose JSON, so any field can be damaged

const silent = { out: () => {}, err: () => {}, write: () => {} };

function realManifests(work: string): Json[] {
  const plain = compileGraph(parseKir(SMALL_KIR, 'm.kir')).manifest;
  const mlp = compileGraph(bindSymbols(parseKir(readFileSync(new URL('../../examples/mlp.kir', import.meta.url), 'utf8'), 'mlp.kir'), { batch: 2 })).manifest;
  const ckpt = writeRandomCheckpoint(mkdtempSync(join(work, 'llama-')), 'llama', 'tiny', 1);
  const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: 16, chunk: 4 });
  const decoder = compileProgram({ name: 'llama', entries: model.entries, generation: model.generation! }).manifest;
  return [plain, mlp, decoder].map((m) => JSON.parse(JSON.stringify(m)));
}

const get = (m: Json, path: (string | number)[]): Json => path.reduce((v, k) => v?.[k], m);

/** A field set to the value of another field of the same JSON type: each is plausible, the pair may not be. */
function swapValues(rng: Rng, m: Json): Json {
  const leaves = jsonPaths(m).filter((p) => typeof get(m, p) !== 'object');
  const to = rng.pick(leaves);
  const sameType = leaves.filter((p) => typeof get(m, p) === typeof get(m, to));
  return mutate(m, { path: to, kind: 'replace', value: get(m, rng.pick(sameType)) });
}

/** A list item repeated (a buffer or kernel declared twice, a dispatch run twice). */
function repeatItem(rng: Rng, m: Json): Json {
  const lists = jsonPaths(m).filter((p) => Array.isArray(get(m, p)) && get(m, p).length);
  if (!lists.length) return m;
  const path = rng.pick(lists);
  const copy = structuredClone(m);
  const list = get(copy, path);
  list.splice(rng.int(list.length + 1), 0, structuredClone(rng.pick(list)));
  return copy;
}

export function manifestTarget(): FuzzTarget {
  const work = scratchDir('manifest');
  const manifests = realManifests(work);
  const artifact = join(work, 'artifact');
  mkdirSync(artifact);
  return {
    corpus: 'compiled manifests: the manifest tests graph, examples/mlp.kir (batch=2), a tiny llama decoder',
    generate(rng) {
      let m = rng.pick(manifests);
      const k = rng.int(10);
      if (k === 0) return utf8(JSON.stringify(m));
      if (k < 8)
        for (let n = rng.range(1, 3); n > 0; n--) {
          const r = rng.int(4);
          m = r < 2 ? mutate(m, rng.sample(arbMutation(m))) : r === 2 ? swapValues(rng, m) : repeatItem(rng, m);
        }
      const textOf = JSON.stringify(m, null, rng.chance(0.5) ? 2 : undefined);
      return utf8(k >= 8 ? mutateText(rng, textOf, ['{', '}', '[', ']', '"', ',', 'null', '-1', '1e400', '"toString"']) : textOf);
    },
    exercise(input) {
      writeFileSync(join(artifact, 'manifest.json'), input);
      readManifestFile(artifact);
      inspectCommand(artifact, {}, silent);
      inspectCommand(artifact, { json: true }, silent);
    },
  };
}
