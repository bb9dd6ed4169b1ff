// safetensors target: openCheckpoint (ir/import/safetensors), then bindWeights, as `kiln compile g.kir --weights`
// does. Cases are files from the writer (random names, formats, shapes) and, when ../shared is present, Burn's
// real MNIST checkpoint, damaged field by field (safetensors-mutate.ts) or byte by byte; random JSON headers; and
// shard indexes (a case starting with '{' is written as model.safetensors.index.json next to two real shards).
// An accepted checkpoint must be sound (ranges inside the file, sized by their shape, disjoint, in the folder);
// the MNIST one is bound to examples/burn-mnist/graph.kir and compiled, which reads every weight.
import { readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compileGraph } from '../../compiler/compile.js';
import { FORMAT_BYTES, FORMAT_DTYPE } from '../../ir/external.js';
import { type Checkpoint, type Graph, bindWeights, openCheckpoint, parseKir, tensorType, writeShardedSafetensors } from '../../ir/index.js';
import { sharedDir } from '../lib/shared.js';
import { mutateBytes } from './mutate.js';
import type { Rng } from './rng.js';
import { mutateHeaderJson, mutateSafetensors } from './safetensors-mutate.js';
import { arbAnyHeader, arbMetadata, arbSpecs, assemble, bytesOf, writeValid } from './safetensors-specs.js';
import { type FuzzTarget, scratchDir, utf8 } from './targets.js';

const INDEX = 'model.safetensors.index.json';

/** What an accepted checkpoint promises (the reader's contract); a broken promise is thrown as a plain Error. */
function checkSound(ckpt: Checkpoint, folder: string): void {
  const ranges = new Map<string, [number, number][]>();
  for (const t of ckpt.tensors.values()) {
    const d = t.data;
    const size = statSync(d.file).size;
    const where = relative(folder, realpathSync(d.file));
    if (where.startsWith('..') || where.startsWith('/')) throw new Error(`unsound: ${t.name} reads ${d.file}, outside ${folder}`);
    if (t.dtype !== FORMAT_DTYPE[t.format] || !t.shape.every((n) => Number.isSafeInteger(n) && n >= 0)) throw new Error(`unsound: ${t.name} is ${t.format}[${t.shape}] as ${t.dtype}`);
    if (d.bytes !== t.shape.reduce((a, b) => a * b, 1) * FORMAT_BYTES[t.format] || d.offset < 8 || d.offset + d.bytes > size)
      throw new Error(`unsound: ${t.name} range ${d.offset}+${d.bytes} in a ${size}-byte file`);
    if (d.bytes) ranges.set(d.file, [...(ranges.get(d.file) ?? []), [d.offset, d.offset + d.bytes]]);
  }
  for (const list of ranges.values()) {
    list.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < list.length; i++) if (list[i]![0] < list[i - 1]![1]) throw new Error(`unsound: overlapping ranges ${list[i - 1]} and ${list[i]}`);
  }
}

/**
 * A graph with a param per tensor, so that binding succeeds, except (picked by the tensor count, so the input
 * alone decides) with one param declared f32 (a mismatch for other formats) or one misspelt name (suggestions).
 */
function paramGraph(ckpt: Checkpoint): Graph {
  const x = { name: 'x', type: tensorType('f32', [1]) };
  const names = [...ckpt.tensors.keys()];
  const twist = names.length % 3;
  const constants = [...names, ...(twist === 1 ? [`${names[0] ?? 'w'}_`] : [])].map((source, i) => {
    const t = ckpt.tensors.get(source);
    return { name: `p${i}`, type: tensorType(twist === 2 && i === 0 ? 'f32' : (t?.dtype ?? 'f32'), t?.shape ?? [1]), source };
  });
  return { name: 'g', symbols: {}, inputs: [x], constants, nodes: [], outputs: ['x'], types: new Map([x, ...constants].map((d) => [d.name, d.type])) };
}

export function safetensorsTarget(): FuzzTarget {
  const work = realpathSync(scratchDir('safetensors'));
  const shared = sharedDir();
  const mnist = shared ? new Uint8Array(readFileSync(join(shared, 'models/burn-mnist-safetensors/mnist.safetensors'))) : undefined;
  const burn = parseKir(readFileSync(new URL('../../examples/burn-mnist/graph.kir', import.meta.url), 'utf8'), 'graph.kir');
  // Two real shards and their index; index cases replace the index only.
  const shardSpecs = [0, 1, 2, 3].map((i) => ({ name: `layer.${i}.weight`, format: i % 2 ? ('F16' as const) : ('F32' as const), shape: [2, 3], seed: i }));
  // (In their own folder: an index naming fuzz.safetensors, which changes from case to case, must be refused.)
  const sharded = join(work, 'sharded');
  writeShardedSafetensors(sharded, shardSpecs.map((s) => ({ ...s, chunks: () => [bytesOf(s)] })), 40, { format: 'pt' });
  const index = JSON.parse(readFileSync(join(sharded, INDEX), 'utf8'));

  const validFile = (rng: Rng): Uint8Array => writeValid(join(work, 'valid.safetensors'), rng.sample(arbSpecs), rng.sample(arbMetadata));
  return {
    corpus: `generated files and shard indexes${mnist ? ', burn-mnist mnist.safetensors (bound to examples/burn-mnist/graph.kir and compiled)' : ' (../shared absent: no real checkpoint)'}`,
    generate(rng) {
      switch (rng.int(mnist ? 6 : 5)) {
        case 0:
        case 1:
          return rng.chance(0.8) ? mutateSafetensors(rng, validFile(rng)) : validFile(rng);
        case 2:
          return assemble(rng.sample(arbAnyHeader), Uint8Array.from({ length: rng.int(64) }, () => rng.int(256)));
        case 3: {
          const damaged = structuredClone(index);
          for (let n = rng.range(1, 2); n > 0; n--) mutateHeaderJson(rng, rng.chance(0.7) ? damaged.weight_map : damaged);
          if (rng.chance(0.3) && damaged.weight_map && typeof damaged.weight_map === 'object') damaged.weight_map[rng.pick(Object.keys(index.weight_map))] = rng.pick(['../fuzz.safetensors', '/etc/hostname', INDEX, '.', '', 'model.safetensors', 'sharded/../model-00001-of-00002.safetensors']);
          return utf8(JSON.stringify(damaged));
        }
        case 4:
          return mutateBytes(rng, rng.chance(0.2) ? utf8(JSON.stringify(index)) : validFile(rng));
        default:
          return rng.chance(0.8) ? mutateSafetensors(rng, mnist!) : mutateBytes(rng, mnist!.subarray(0, 4096));
      }
    },
    exercise(input) {
      const path = input[0] === 0x7b ? join(sharded, INDEX) : join(work, 'fuzz.safetensors');
      writeFileSync(path, input);
      const ckpt = openCheckpoint(path);
      checkSound(ckpt, work);
      if (ckpt.tensors.has('conv1.weight')) compileGraph(bindWeights(burn, ckpt, 'fuzz.safetensors').graph);
      else bindWeights(paramGraph(ckpt), ckpt, 'fuzz.safetensors');
    },
  };
}
