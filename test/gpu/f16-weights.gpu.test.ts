// `weightsDtype: 'f16'` on the adapter: tiny random llama and gpt2 checkpoints compiled with f16 matmul and
// embedding weights give the interpreter's logits (within 1e-4) and greedy tokens on the rewritten graphs, with
// and without shader-f16 (f16 packed two per u32), hold about half the weight bytes, and never widen a whole
// weight at run time (the widening casts are fused into the matmuls).
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { storeWeightsAsF16 } from '../../passes/index.js';
import { type HfModel, importHf } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';
import { promptIds, tempCheckpoint } from '../import/hf-fixtures.js';
import { interpGenerate } from '../import/hf-generate.js';
import { expectStepsMatch } from './decoder-steps.js';
import { testGpu } from './harness.js';

const STEPS = 12;

function programOf(model: HfModel) {
  return { name: model.family, entries: model.entries, generation: model.generation! };
}

/** The model with every entry graph rewritten as the compiler rewrites it: the interpreter's reference. */
function narrowed(model: HfModel): HfModel {
  const entries = Object.fromEntries(Object.entries(model.entries).map(([k, e]) => [k, { ...e, graph: storeWeightsAsF16(e.graph) }]));
  return { ...model, entries };
}


describe.each(['llama', 'gpt2'] as const)('%s with f16 weights', (family) => {
  const ckpt = tempCheckpoint(family, 'tiny');
  const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: 32, chunk: 8 });
  const gen = model.generation!;
  const prompt = promptIds(11, gen.vocabSize);
  const reference = interpGenerate(narrowed(model), prompt, STEPS);

  it('the rewritten graphs read f16 weights only through matmuls and gathers', () => {
    for (const e of Object.values(narrowed(model).entries)) {
      const f16 = new Set(e.graph.constants.filter((c) => c.type.dtype === 'f16').map((c) => c.name));
      expect(f16.size).toBeGreaterThan(0);
      for (const n of e.graph.nodes) for (const v of n.inputs) if (f16.has(v)) expect(['Cast', 'Gather'], `${n.op} reads %${v}`).toContain(n.op);
    }
  });

  for (const shaderF16 of [true, false]) {
    it(`matches the interpreter step by step (shader-f16 ${shaderF16 ? 'on' : 'off'}), with half the weight bytes`, async () => {
      const gpu = await testGpu();
      if (shaderF16) expect(gpu.shaderF16, 'the adapter offers shader-f16').toBe(true);
      const dense = compileProgram(programOf(model), { target: { shaderF16 } });
      const artifact = compileProgram(programOf(model), { target: { shaderF16 }, weightsDtype: 'f16' });
      expect(artifact.manifest.memory!.weightsBytes / dense.manifest.memory!.weightsBytes).toBeLessThan(0.6);
      // No dispatch widens a weight: every Cast left runs on gathered rows or activations.
      for (const e of Object.values(artifact.manifest.entryPoints)) for (const d of e.dispatches) expect(d.label).not.toMatch(/Cast\(%[^)]*(weight|wte|wpe|c_attn|c_fc|c_proj)/);
      const session = await Session.load(artifactFiles(artifact), { device: gpu.acquired });
      try {
        await expectStepsMatch(session, gen, prompt, reference);
      } finally {
        session.dispose();
      }
    });
  }
});
