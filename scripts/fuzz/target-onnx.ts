// onnx target: importOnnx, then the pass pipeline and the compiler (compileProgram), as `kiln compile m.onnx`
// does, never on a GPU. Cases are real models (mnist-8 and tiny-distilbert-sst2 from ../shared when present), the
// corrupt-model test's small conv net and random op chains built with the test builder, damaged field by field
// through the ONNX schema (onnx-mutate.ts) and then, sometimes, byte by byte (cuts, flips, lost spans). External
// data may only come from a scratch folder holding one weights.bin.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileProgram } from '../../compiler/compile.js';
import { importOnnx } from '../../ir/index.js';
import { sharedDir } from '../lib/shared.js';
import { mutateBytes } from './mutate.js';
import { mutateOnnx } from './onnx-mutate.js';
import { randomModel, smallModel } from './onnx-models.js';
import { type FuzzTarget, scratchDir } from './targets.js';

/** Sizes for the real models' symbolic dims (distilbert: batch x sequence), as `kiln compile --dim` gives them. */
const SYMBOLS = { batch: 1, sequence: 8 };

export function onnxTarget(): FuzzTarget {
  const work = scratchDir('onnx');
  // The model's folder, for external data: one 4 KiB file of floats (and nothing else to find in it).
  writeFileSync(join(work, 'weights.bin'), new Uint8Array(new Float32Array(1024).map((_, i) => i / 1024).buffer));
  const shared = sharedDir();
  const real = shared ? ['mnist-8', 'tiny-distilbert-sst2'].map((m) => new Uint8Array(readFileSync(join(shared, 'models', m, 'model.onnx')))) : [];
  const small = smallModel();
  return {
    corpus: `${shared ? 'mnist-8, tiny-distilbert-sst2, ' : '(../shared absent: generated models only) '}the small conv net, random op chains`,
    generate(rng) {
      const k = rng.int(10);
      const base = k < 3 && real.length ? rng.pick(real) : k < 5 ? small : randomModel(rng);
      let bytes = rng.chance(0.85) ? mutateOnnx(rng, base) : base;
      if (rng.chance(0.25)) bytes = mutateBytes(rng, bytes);
      return bytes;
    },
    exercise(input) {
      const { graph, declaredDtypes } = importOnnx(input, { file: 'fuzz.onnx', baseDir: work, symbols: SYMBOLS });
      compileProgram({ name: graph.name, entries: { run: { graph } } }, { source: 'fuzz.onnx', declaredDtypes });
    },
  };
}
