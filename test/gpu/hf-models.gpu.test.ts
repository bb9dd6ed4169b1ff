// Hugging Face checkpoints end to end on the adapter: tiny random llama (GQA, untied and tied), gpt2 and bert
// checkpoints are imported, compiled to one artifact (prefill + decode sharing weights and a KV cache in state
// buffers), and run through the runtime. Every step's logits must match the reference interpreter's within
// 1e-4, and greedy tokens (the runtime's generate() and `kiln generate`) must equal the interpreter's for 16 steps.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileProgram } from '../../compiler/compile.js';
import { loadTokenizer } from '../../compiler/tokenizer.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { writeArtifact } from '../../compiler/emit/write.js';
import { type HfModel, importHf, interpret, makeTensor, scalarTensor } from '../../ir/index.js';
import { Session, sampleToken, seededRandom } from '../../runtime/index.js';
import type { Preset } from '../../scripts/lib/checkpoints.js';
import { promptIds, tempCheckpoint } from '../import/hf-fixtures.js';
import { interpGenerate } from '../import/hf-generate.js';
import { PROFILES } from '../../passes/sparse/profiles.js';
import { kiln } from '../kiln-cli.js';
import { expectStepsMatch, maxDiff } from './decoder-steps.js';
import { testGpu } from './harness.js';

const MAX_SEQ = 48;
const CHUNK = 8;
const STEPS = 16;

function programOf(model: HfModel) {
  return { name: model.family, entries: model.entries, ...(model.generation ? { generation: model.generation } : {}) };
}


const decoders: [string, 'llama' | 'gpt2', Preset][] = [
  ['llama (GQA, untied head)', 'llama', 'tiny'],
  ['llama (tied embeddings)', 'llama', 'tiny-tied'],
  ['gpt2', 'gpt2', 'tiny'],
];

describe.each(decoders)('%s', (_name, family, preset) => {
  const ckpt = tempCheckpoint(family, preset);
  const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: MAX_SEQ, chunk: CHUNK });
  const gen = model.generation!;
  // 11 prompt tokens: one full prefill chunk and one padded chunk (len 3 of 8).
  const prompt = promptIds(11, gen.vocabSize);
  const reference = interpGenerate(model, prompt, STEPS);

  it('matches the interpreter step by step: logits within 1e-4, same tokens', async () => {
    const gpu = await testGpu();
    const session = await Session.load(artifactFiles(compileProgram(programOf(model))), { device: gpu.acquired });
    try {
      await expectStepsMatch(session, gen, prompt, reference);
      // generate() reproduces the same tokens on the same session (the cache is overwritten, never reset).
      expect(await session.generate(prompt, { maxNewTokens: STEPS, stopAtEos: false })).toEqual(reference.tokens);
    } finally {
      session.dispose();
    }
  });

  it('with checkpoint weights laid out in panels (lavapipe profile: decode GEMVs and a 10-row prefill GEMM read them in place) matches step by step', async () => {
    const gpu = await testGpu();
    // A prefill chunk of 10 rows: the arranged kernel's blocks of 8 rows, the last one ragged.
    const wide = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: MAX_SEQ, chunk: 10 });
    const artifact = compileProgram(programOf(wide), { profile: PROFILES.lavapipe! });
    // Every projection's weight is arranged and read by the arranged kernel, in the decode and the prefill entry.
    const arranged = artifact.manifest.kernels.filter((k) => k.file.includes('gemv-arranged')).length;
    expect(arranged).toBeGreaterThanOrEqual(2);
    const session = await Session.load(artifactFiles(artifact), { device: gpu.acquired });
    try {
      await expectStepsMatch(session, wide.generation!, prompt, reference);
    } finally {
      session.dispose();
    }
  });

  it('samples the interpreter\'s tokens for a seed (temperature, top-k, top-p), through Session.generate and kiln generate', async () => {
    const gpu = await testGpu();
    const opts = { temperature: 0.9, topK: 40, topP: 0.95, seed: 1234 };
    const random = seededRandom(opts.seed);
    const sampled = interpGenerate(model, prompt, STEPS, (logits) => sampleToken(logits, opts, random)).tokens;
    // A sampled run must leave the greedy path somewhere, or this test would not tell sampling from argmax.
    expect(sampled).not.toEqual(reference.tokens);
    const session = await Session.load(artifactFiles(compileProgram(programOf(model))), { device: gpu.acquired });
    try {
      expect(await session.generate(prompt, { maxNewTokens: STEPS, stopAtEos: false, ...opts })).toEqual(sampled);
      expect(await session.generate(prompt, { maxNewTokens: STEPS, stopAtEos: false, ...opts })).toEqual(sampled);
    } finally {
      session.dispose();
    }
    if (family !== 'gpt2') return; // one family is enough for the CLI flags
    const dir = join(mkdtempSync(join(tmpdir(), 'kiln-sample-')), 'artifact');
    writeArtifact(dir, compileProgram(programOf(model)));
    const flags = ['--temperature', '0.9', '--top-k', '40', '--top-p', '0.95', '--seed', '1234'];
    const g = kiln(['generate', dir, '--ids', prompt.join(','), '--max-new-tokens', String(STEPS), ...flags, '--json']);
    expect(g.status, g.stderr).toBe(0);
    const printed = (JSON.parse(g.stdout) as { tokens: number[] }).tokens;
    expect(printed).toEqual(sampled.slice(0, printed.length));
    const bad = kiln(['generate', dir, '--ids', '1', '--top-p', '0.5']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--temperature above 0/);
  });

  // Defined for llama only (not skipped elsewhere): its split touches just the embedding and the head, so the extra kernels stay few on a slow
  // adapter; the K-split of gpt2's [K, M] weights is checked against the interpreter in split-oversized.test.ts.
  if (family === 'llama') it('gives the same tokens with the embedding and head split under a small binding limit', async () => {
    // 96 x 32 f32 embeddings are 12 KiB: an 8 KiB limit splits them (and the head, and gpt2's larger matmul weights) in two,
    // the path real vocabularies take on adapters limited to 128 MiB per binding.
    const gpu = await testGpu();
    const artifact = compileProgram(programOf(model), { maxBindingBytes: 8192 });
    expect(Object.keys(artifact.manifest.files).length).toBeGreaterThan(0);
    const session = await Session.load(artifactFiles(artifact), { device: gpu.acquired });
    try {
      expect(await session.generate(prompt, { maxNewTokens: STEPS, stopAtEos: false })).toEqual(reference.tokens);
    } finally {
      session.dispose();
    }
  });

  it('kiln generate prints the interpreter\'s greedy tokens, for --ids and --prompt', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), `kiln-gen-${family}-`)), 'artifact');
    const c = kiln(['compile', ckpt.configPath, '--weights', ckpt.weightsPath, '--max-seq', String(MAX_SEQ), '--chunk', String(CHUNK), '-o', dir]);
    expect(c.status, c.stderr).toBe(0);
    const g = kiln(['generate', dir, '--ids', prompt.join(','), '--max-new-tokens', String(STEPS), '--json']);
    expect(g.status, g.stderr).toBe(0);
    const printed = JSON.parse(g.stdout) as { tokens: number[] };
    // The CLI stops at EOS like any user-facing generate; compare the tokens it printed with the reference prefix.
    expect(printed.tokens).toEqual(reference.tokens.slice(0, printed.tokens.length));
    const eos = gen.eosTokenId;
    if (printed.tokens.length < STEPS) expect(printed.tokens.at(-1)).toBe(eos);

    // Text prompts go through the checkpoint's tokenizer.json, which the artifact ships.
    expect(ckpt.tokenizerPath).toBeDefined();
    const text = 'the world is';
    const p = kiln(['generate', dir, '--prompt', text, '--max-new-tokens', String(STEPS), '--json']);
    expect(p.status, p.stderr).toBe(0);
    const fromText = JSON.parse(p.stdout) as { tokens: number[]; text: string };
    const tokenizer = await loadTokenizer(ckpt.tokenizerPath!);
    const expected = interpGenerate(model, tokenizer.encode(text), STEPS).tokens;
    expect(fromText.tokens).toEqual(expected.slice(0, fromText.tokens.length));
    expect(fromText.text).toBe(tokenizer.decode(fromText.tokens));
    // Without --json the same text streams to stdout as it is generated, ending with a newline.
    const streamed = kiln(['generate', dir, '--prompt', text, '--max-new-tokens', String(STEPS)]);
    expect(streamed.status, streamed.stderr).toBe(0);
    expect(streamed.stdout).toBe(`${fromText.text}\n`);
  });
});

describe('bert', () => {
  const ckpt = tempCheckpoint('bert', 'tiny');
  const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, seq: 12 });
  const graph = model.entries.run!.graph;

  it.each([12, 7])('matches the interpreter with %i valid tokens of 12', async (len) => {
    const ids = promptIds(12, 96);
    const inputs = {
      input_ids: makeTensor('i32', [12], ids),
      token_type_ids: makeTensor('i32', [12], (i) => (i < 4 ? 0 : 1)),
      len: scalarTensor('i32', len),
    };
    const want = interpret(graph, inputs);
    const gpu = await testGpu();
    const session = await Session.load(artifactFiles(compileProgram(programOf(model))), { device: gpu.acquired });
    try {
      const got = await session.run(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.data])));
      for (const [name, w] of Object.entries(want)) {
        expect(got[name], name).toBeDefined();
        expect(maxDiff(got[name]!.data, w.data), name).toBeLessThan(1e-4);
      }
    } finally {
      session.dispose();
    }
  });

  it('writes an artifact kiln generate refuses clearly (an encoder has no decode entry)', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kiln-bert-')), 'artifact');
    writeArtifact(dir, compileProgram(programOf(model)));
    const g = kiln(['generate', dir, '--ids', '1,2', '--json']);
    expect(g.status).toBe(1);
    expect(g.stderr).toMatch(/no prefill\/decode entry points/);
  });
});
