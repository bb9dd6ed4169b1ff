// The decoder entry contract the compiler and runtime rely on: input/output names, types and order, state
// pairs, shared weight constants across entries, pos/len only feeding uniform-taking ops, size defaults, and
// checkpoints in other encodings or shards.
import { describe, expect, it } from 'vitest';
import { type Graph, consumers } from '../../ir/graph.js';
import { GraphBuilder } from '../../ir/builder.js';
import { importHf } from '../../ir/import/hf/index.js';
import { assertStepScalarsStayUniform } from '../../ir/import/hf/decoder.js';
import { formatType, tensorType } from '../../ir/types.js';
import { verify } from '../../ir/verify.js';
import { interpGenerate } from './hf-generate.js';
import { promptIds, tempCheckpoint } from './hf-fixtures.js';

const signature = (g: Graph) => ({
  inputs: g.inputs.map((i) => `${i.name}: ${formatType(i.type)}`),
  outputs: g.outputs.map((o) => `${o}: ${formatType(g.types.get(o)!)}`),
});

describe('decoder entry contract', () => {
  const ck = tempCheckpoint('llama', 'tiny');
  const model = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 40, chunk: 8 });
  const { prefill, decode } = model.entries as Record<'prefill' | 'decode', (typeof model.entries)[string]>;

  it('has the documented inputs, outputs and state for both entries', () => {
    const caches = (suffix: string) => [0, 1].flatMap((l) => [`cache.${l}.k${suffix}: f32[40,2,8]`, `cache.${l}.v${suffix}: f32[40,2,8]`]);
    for (const [entry, rows] of [[prefill, 8], [decode, 1]] as const) {
      expect(signature(entry.graph)).toEqual({
        inputs: [`ids: i32[${rows}]`, 'pos: i32[]', 'len: i32[]', ...caches('')],
        outputs: ['logits: f32[96]', 'next_token: i32[]', ...caches('.next')],
      });
      expect(entry.state).toEqual([0, 1].flatMap((l) => ['k', 'v'].map((w) => ({ input: `cache.${l}.${w}`, output: `cache.${l}.${w}.next` }))));
      expect(verify(entry.graph)).toEqual([]);
    }
    expect(model.generation).toEqual({
      prefill: 'prefill',
      decode: 'decode',
      ids: 'ids',
      position: 'pos',
      length: 'len',
      nextToken: 'next_token',
      logits: 'logits',
      chunk: 8,
      maxSeq: 40,
      eosTokenId: 2,
      vocabSize: 96,
    });
  });

  it('declares every weight once per entry, by its checkpoint name, identically in both entries', () => {
    const weights = (g: Graph) => g.constants.filter((c) => c.external);
    const p = weights(prefill.graph);
    expect(p).toHaveLength(1 + 2 * 9 + 1 + 1); // embed, 2 layers of 9, final norm, lm_head
    expect(model.notes).toEqual([]); // so every checkpoint tensor is used
    expect(weights(decode.graph)).toEqual(p);
    for (const c of p) {
      expect(c.source).toBe(c.name);
      expect(c.type.dtype).toBe('f32');
      expect(c.external!.name).toBe(c.name);
    }
  });

  it('feeds pos and len only to the ops that take them as uniforms', () => {
    for (const g of [prefill.graph, decode.graph]) {
      const readers = consumers(g);
      const ops = new Set(['pos', 'len'].flatMap((s) => (readers.get(s) ?? []).map((n) => n.op)));
      expect([...ops].sort()).toEqual(['Attention', 'CacheWrite', 'LastRow', 'Rope']);
    }
    const gpt2 = tempCheckpoint('gpt2', 'tiny');
    const g = importHf(gpt2.configPath, { weights: gpt2.weightsPath, maxSeq: 16 }).entries.decode!.graph;
    expect(consumers(g).get('pos')!.map((n) => n.op)).toContain('Positions');
  });

  it('refuses a builder that lets pos reach another op', () => {
    const b = new GraphBuilder('bad');
    b.input('pos', tensorType('i32', []));
    b.output(b.op('Add', ['pos', 'pos']));
    expect(() => assertStepScalarsStayUniform(b.build(), ['pos'])).toThrow(/bad: %pos feeds Add; it may only feed Rope, CacheWrite, Attention, LastRow, Positions/);
  });

  it('defaults maxSeq to min(max positions, 2048) and chunk to min(128, maxSeq)', () => {
    const small = importHf(ck.configPath, { weights: ck.weightsPath });
    expect([small.generation!.maxSeq, small.generation!.chunk]).toEqual([128, 128]);
    const long = tempCheckpoint('llama', { max_position_embeddings: 4096 });
    const big = importHf(long.configPath, { weights: long.weightsPath });
    expect([big.generation!.maxSeq, big.generation!.chunk]).toEqual([2048, 128]);
    const short = importHf(ck.configPath, { weights: ck.weightsPath, maxSeq: 24 });
    expect(short.generation!.chunk).toBe(24);
    const bert = tempCheckpoint('bert', 'tiny');
    expect(importHf(bert.configPath, { weights: bert.weightsPath }).entries.run!.graph.inputs[0]!.type.shape).toEqual([64]);
  });

  it('reads F16 checkpoints as f32 constants and sharded checkpoints through their index, with the same tokens', () => {
    const prompt = promptIds(10, 96);
    const tokens = (c: ReturnType<typeof tempCheckpoint>) => interpGenerate(importHf(c.configPath, { weights: c.weightsPath, maxSeq: 24, chunk: 4 }), prompt, 4).tokens;
    const f16 = tempCheckpoint('llama', 'tiny', { format: 'F16' });
    const f16Model = importHf(f16.configPath, { weights: f16.weightsPath, maxSeq: 24 });
    const embed = f16Model.entries.decode!.graph.constants.find((c) => c.name === 'model.embed_tokens.weight')!;
    expect([embed.type.dtype, embed.external!.format]).toEqual(['f32', 'F16']);
    const sharded = tempCheckpoint('llama', 'tiny', { maxShardBytes: 20_000 });
    expect(sharded.weightsPath).toMatch(/model\.safetensors\.index\.json$/);
    expect(tokens(sharded)).toEqual(tokens(ck));
    expect(tokens(f16)).toHaveLength(4);
  });
});
