// safetensors: sharded checkpoints - the writer's shards and index, opening through the index or the folder,
// shard names that must stay inside the folder (the Hugging Face hub cache's links excepted), and indexes that
// do not match their shards.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExternal } from '../../ir/external.js';
import { openCheckpoint, shardName, writeSafetensors, writeShardedSafetensors } from '../../ir/import/safetensors/index.js';
import { fresh, openError, tensor, valuesFor } from './safetensors-fixtures.js';

describe('sharded checkpoints', () => {
  const five = () => ['a', 'b', 'c', 'd', 'e'].map((n, i) => tensor(n, 'F32', [10], valuesFor('F32', [10]).map((v) => v + i)));

  it('writes shards of at most maxShardBytes and reads them back through the index or the folder', () => {
    const dir = fresh('sharded');
    const tensors = five();
    const { indexPath, shardPaths } = writeShardedSafetensors(dir, tensors, 100, { format: 'pt' });
    expect(shardPaths.map((p) => p.slice(dir.length + 1))).toEqual([shardName(1, 3), shardName(2, 3), shardName(3, 3)]);
    expect(shardName(2, 3)).toBe('model-00002-of-00003.safetensors');
    const index = JSON.parse(readFileSync(indexPath, 'utf8'));
    expect(index).toEqual({
      metadata: { total_size: 200 },
      weight_map: { a: shardName(1, 3), b: shardName(1, 3), c: shardName(2, 3), d: shardName(2, 3), e: shardName(3, 3) },
    });
    for (const ckpt of [openCheckpoint(indexPath), openCheckpoint(dir)]) {
      expect(ckpt.path).toBe(indexPath);
      expect(ckpt.metadata).toEqual({ format: 'pt', total_size: '200' });
      expect([...ckpt.tensors.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
      for (const t of tensors) {
        const got = ckpt.tensors.get(t.name)!;
        expect(got.data.file).toBe(join(dir, index.weight_map[t.name]));
        expect([...loadExternal(got.data, 'f32', got.shape).data]).toEqual(t.values.map(Math.fround));
      }
    }
  });

  it('gives a tensor larger than the limit a shard of its own', () => {
    const dir = fresh('big-shards');
    const { shardPaths } = writeShardedSafetensors(dir, [tensor('s', 'U8', [10]), tensor('big', 'U8', [500]), tensor('t', 'U8', [10])], 100);
    expect(shardPaths).toHaveLength(3);
    expect([...openCheckpoint(dir).tensors.values()].map((t) => t.data.file)).toEqual(shardPaths);
  });

  it('prefers model.safetensors over the index in a folder, as Hugging Face does', () => {
    const dir = fresh('both');
    writeShardedSafetensors(dir, five(), 100);
    writeSafetensors(join(dir, 'model.safetensors'), [tensor('single', 'U8', [1])]);
    expect([...openCheckpoint(dir).tensors.keys()]).toEqual(['single']);
  });

  /** A folder with shards one.safetensors (a, b) and two.safetensors (c), and an index written as given. */
  function shardFolder(weightMap: Record<string, string>, extra?: (dir: string) => void): { dir: string; index: string } {
    const dir = fresh('manual');
    mkdirSync(dir);
    writeSafetensors(join(dir, 'one.safetensors'), [tensor('a', 'U8', [2]), tensor('b', 'U8', [2])]);
    writeSafetensors(join(dir, 'two.safetensors'), [tensor('c', 'U8', [2])]);
    extra?.(dir);
    const index = join(dir, 'model.safetensors.index.json');
    writeFileSync(index, JSON.stringify({ metadata: { total_size: 6 }, weight_map: weightMap }));
    return { dir, index };
  }

  it('accepts an index that names shards with ./ and opens each shard once', () => {
    const { index } = shardFolder({ a: 'one.safetensors', b: 'one.safetensors', c: './two.safetensors' });
    expect([...openCheckpoint(index).tensors.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('refuses shard names that lead outside the folder', () => {
    expect(openError(shardFolder({ a: '/etc/passwd' }).index)).toMatch(/shard "\/etc\/passwd" is an absolute path; shards must be files in the index's folder/);
    expect(openError(shardFolder({ a: '../one.safetensors' }).index)).toMatch(/shard "..\/one.safetensors" climbs out with ".."/);
    expect(openError(shardFolder({ a: 'sub\\..\\..\\x.safetensors' }).index)).toMatch(/climbs out with ".."/);
    const outside = fresh('outside.safetensors');
    writeSafetensors(outside, [tensor('a', 'U8', [2])]);
    const { index } = shardFolder({ a: 'link.safetensors' }, (dir) => symlinkSync(outside, join(dir, 'link.safetensors')));
    expect(openError(index)).toMatch(new RegExp(`shard "link.safetensors" resolves to ${outside} through a symbolic link`));
  });

  it('follows links into the Hugging Face hub cache blobs folder', () => {
    const repo = fresh('models--org--name');
    const snapshot = join(repo, 'snapshots', 'abc123');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    writeSafetensors(join(repo, 'blobs', 'f00d'), [tensor('w', 'U8', [3])]);
    writeFileSync(join(repo, 'blobs', 'beef'), JSON.stringify({ weight_map: { w: 'model-00001-of-00001.safetensors' } }));
    symlinkSync('../../blobs/f00d', join(snapshot, 'model-00001-of-00001.safetensors'));
    symlinkSync('../../blobs/beef', join(snapshot, 'model.safetensors.index.json'));
    const ckpt = openCheckpoint(snapshot);
    expect(ckpt.tensors.get('w')!.data.file).toBe(join(snapshot, 'model-00001-of-00001.safetensors'));
  });

  it('refuses a missing shard, a tensor its shard lacks, a tensor in two shards, an index that is not one', () => {
    expect(openError(shardFolder({ a: 'one.safetensors', z: 'three.safetensors' }).index)).toMatch(
      /: shard three.safetensors is missing \(ENOENT.*\); it holds 1 of the checkpoint's tensors, download it next to the index/,
    );
    const { index } = shardFolder({ a: 'one.safetensors', q: 'one.safetensors' });
    expect(openError(index)).toBe(
      `${index}: tensor 'q': weight_map puts it in one.safetensors, but no shard holds it; the index does not match its shards (re-download them together)`,
    );
    expect(openError(shardFolder({ a: 'one.safetensors', c: 'one.safetensors', b: 'two.safetensors' }).index)).toMatch(
      /tensor 'c': weight_map puts it in one.safetensors, but it is in two.safetensors/,
    );
    const dup = shardFolder({ a: 'one.safetensors', c: 'two.safetensors' }, (dir) =>
      writeSafetensors(join(dir, 'two.safetensors'), [tensor('c', 'U8', [2]), tensor('a', 'U8', [1])]),
    );
    expect(openError(dup.index)).toMatch(/tensor 'a': is in both shards one.safetensors and two.safetensors/);
    const notIndex = fresh('x.json');
    writeFileSync(notIndex, '{"weights": {}}');
    expect(openError(notIndex)).toMatch(/has no "weight_map" object/);
    writeFileSync(notIndex, '{"weight_map": {"a": 3}}');
    expect(openError(notIndex)).toMatch(/tensor 'a': weight_map entry is 3, not a shard file name/);
    writeFileSync(notIndex, 'not json');
    expect(openError(notIndex)).toMatch(/is not valid JSON/);
  });

  it('passes a broken shard header through with the shard named', () => {
    const { dir, index } = shardFolder({ a: 'one.safetensors' });
    writeFileSync(join(dir, 'one.safetensors'), new Uint8Array(4));
    expect(openError(index)).toMatch(new RegExp(`^${join(dir, 'one.safetensors')}: is 4 bytes`));
  });
});

