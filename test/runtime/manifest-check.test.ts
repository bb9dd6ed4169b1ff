// runtime/manifest-check.ts: real manifests (a plain graph and a decoder) pass; targeted damage gets a message
// naming the JSON path or reference; random damage (fast-check) never makes the checker throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGraph, compileProgram } from '../../compiler/compile.js';
import { importHf, parseKir } from '../../ir/index.js';
import { checkManifest } from '../../runtime/manifest-check.js';
import { tempCheckpoint } from '../import/hf-fixtures.js';
import { SMALL_KIR as SMALL, arbMutation, mutate } from '../../scripts/lib/manifest-mutations.js';

/** Manifests as loose JSON, so the tests can damage any field. */
type Json = any;
const plain: Json = JSON.parse(JSON.stringify(compileGraph(parseKir(SMALL, 'm.kir')).manifest));
const ckpt = tempCheckpoint('llama', 'tiny');
const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: 16, chunk: 4 });
const decoder: Json = JSON.parse(JSON.stringify(compileProgram({ name: 'llama', entries: model.entries, generation: model.generation! }).manifest));

const edited = (m: Json, edit: (c: Json) => void): string[] => {
  const c = structuredClone(m);
  edit(c);
  return checkManifest(c);
};

describe('checkManifest', () => {
  it('accepts what the compiler writes', () => {
    expect(checkManifest(plain)).toEqual([]);
    expect(checkManifest(decoder)).toEqual([]);
  });

  it('names the version or format when they differ, before anything else', () => {
    expect(edited(plain, (c) => (c.version = 1))).toEqual([expect.stringMatching(/manifest version 1 is not supported .* reads version 3/)]);
    expect(edited(plain, (c) => (c.format = 'onnx'))).toEqual([expect.stringMatching(/format is "onnx"/)]);
    expect(checkManifest([])).toEqual(['manifest is not a JSON object']);
  });

  it('names the JSON path of a field with the wrong type or range', () => {
    expect(edited(plain, (c) => (c.kernels[0].workgroupSize = [64, 1]))).toContain('manifest.kernels[0].workgroupSize must have 3 items, got 2');
    expect(edited(plain, (c) => (c.buffers[0].bytes = -4))).toContain('manifest.buffers[0].bytes must be an integer in 0..9007199254740991, got -4');
    expect(edited(plain, (c) => delete c.entryPoints.run.dispatches[0].label)).toContain('manifest.entryPoints.run.dispatches[0].label is missing');
    expect(edited(plain, (c) => (c.entryPoints.run.outputs[0].dtype = 'f64'))).toContain('manifest.entryPoints.run.outputs[0].dtype: unknown dtype "f64"');
    expect(edited(decoder, (c) => (c.generation.chunk = 0))).toContain('manifest.generation.chunk must be an integer in 1..9007199254740991, got 0');
    // Found by `npm run fuzz` (manifest): `kiln inspect` prints costs, memory and sparsity, and crashed on these.
    expect(edited(plain, (c) => delete c.entryPoints.run.dispatches[0].cost.flops)).toContain('manifest.entryPoints.run.dispatches[0].cost.flops is missing');
    expect(edited(plain, (c) => (c.memory = { arenaBytes: 0 }))).toContain('manifest.memory.noReuseBytes is missing');
    expect(edited(plain, (c) => (c.sparsity = { profile: 'p', layers: [{}] }))).toContain('manifest.sparsity.layers[0].weight is missing');
  });

  it('names references that do not resolve', () => {
    expect(edited(plain, (c) => (c.entryPoints.run.dispatches[0].kernel = 99))).toEqual([expect.stringMatching(/run\[0\] .*unknown kernel 99/)]);
    expect(edited(plain, (c) => c.buffers.push(c.buffers[0]))).toContain(`buffer id ${plain.buffers[0].id} is declared twice`);
    expect(edited(plain, (c) => (c.entryPoints.run.inputs[0].region.offset = 1 << 30))).toEqual([expect.stringMatching(/run: tensor x: range \d+\+24 exceeds buffer/)]);
    expect(edited(decoder, (c) => (c.generation.decode = 'toString'))).toEqual(["generation names entry point 'toString', which the manifest lacks"]);
    expect(edited(plain, (c) => (c.entryPoints = {}))).toEqual(['"entryPoints" is empty: the artifact has nothing to run']);
  });

  it('never throws on a randomly damaged manifest, and returns messages', () => {
    for (const m of [plain, decoder])
      fc.assert(
        fc.property(arbMutation(m), (mutation) => {
          const problems = checkManifest(mutate(m, mutation));
          expect(Array.isArray(problems) && problems.every((p) => typeof p === 'string')).toBe(true);
        }),
        { numRuns: 300 },
      );
  });
});
