// Text generation in headless Chromium: a tiny random llama checkpoint compiled to a decoder artifact generates,
// through model.js's generate() on navigator.gpu, the interpreter's tokens, greedy and sampled with a seed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../compiler/compile.js';
import { writeArtifact } from '../../compiler/emit/write.js';
import { importHf } from '../../ir/index.js';
import { sampleToken, seededRandom } from '../../runtime/index.js';
import { promptIds, tempCheckpoint } from '../import/hf-fixtures.js';
import { interpGenerate } from '../import/hf-generate.js';
import { generateInBrowser } from './browser-harness.js';

const STEPS = 12;

describe('a decoder artifact in headless Chromium', () => {
  const ckpt = tempCheckpoint('llama', 'tiny');
  const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: 32, chunk: 8 });
  const prompt = promptIds(10, model.generation!.vocabSize);
  const dir = join(mkdtempSync(join(tmpdir(), 'kiln-browser-gen-')), 'artifact');
  writeArtifact(dir, compileProgram({ name: 'llama', entries: model.entries, generation: model.generation! }));

  it('generates the interpreter\'s greedy tokens, then its sampled tokens for a seed', async () => {
    const greedy = interpGenerate(model, prompt, STEPS).tokens;
    const sampling = { temperature: 0.9, topK: 40, topP: 0.95, seed: 99 };
    const random = seededRandom(sampling.seed);
    const sampled = interpGenerate(model, prompt, STEPS, (logits) => sampleToken(logits, sampling, random)).tokens;
    expect(sampled).not.toEqual(greedy);
    const a = await generateInBrowser(dir, prompt, { maxNewTokens: STEPS, stopAtEos: false });
    console.log(`browser adapter: ${a.adapter}`);
    expect(a.tokens).toEqual(greedy);
    const b = await generateInBrowser(dir, prompt, { maxNewTokens: STEPS, stopAtEos: false, ...sampling });
    expect(b.tokens).toEqual(sampled);
  });
});
