// safetensors: bindWeights gives a graph's params the external data of checkpoint tensors, checking names (with
// suggestions), shapes and dtypes, and reports every problem at once.
import { describe, expect, it } from 'vitest';
import { bindWeights, type Checkpoint, openCheckpoint, SafetensorsError, writeSafetensors, writeShardedSafetensors } from '../../ir/import/safetensors/index.js';
import { interpret } from '../../ir/interp.js';
import '../../ir/ops/index.js';
import { parseKir } from '../../ir/parse.js';
import { makeTensor } from '../../ir/tensor.js';
import { fresh, tensor } from './safetensors-fixtures.js';

describe('bindWeights', () => {
  function checkpoint(): Checkpoint {
    const path = fresh('mnist-like.safetensors');
    writeSafetensors(path, [
      tensor('conv1.weight', 'F32', [8, 1, 3, 3]),
      tensor('conv1.bias', 'F32', [8], [1, 2, 3, 4, 5, 6, 7, 8]),
      tensor('half', 'F16', [4], [1, -2, 0.5, 0]),
      tensor('steps', 'I64', []),
      tensor('extra', 'U8', [1]),
    ]);
    return openCheckpoint(path);
  }

  const kir = (params: string, body = '%y = Add(%x, %x)') =>
    parseKir(`graph @g(%x: f32[4]) {\n${params}\n  ${body}\n  return %y\n}\n`, 'model.kir');

  function bindError(params: string, ckpt = checkpoint(), where?: string): string {
    try {
      bindWeights(kir(params), ckpt, where);
    } catch (e) {
      expect(e).toBeInstanceOf(SafetensorsError);
      return (e as Error).message;
    }
    throw new Error('expected binding to fail');
  }

  it('gives params external data, widens F16 into f32, binds a param without source to its own name', () => {
    const ckpt = checkpoint();
    const g = parseKir(
      `graph @g(%x: f32[4]) {\n  param %w: f32[8,1,3,3] = "conv1.weight"\n  param %half: f32[4]\n  param %h16: f16[4] = "half"\n  param %steps: i32[]\n  const %k: f32[4] = [1, 1, 1, 1]\n  %y = Add(%x, %half)\n  return %y\n}\n`,
      'model.kir',
    );
    const { graph, unused } = bindWeights(g, ckpt);
    const ext = Object.fromEntries(graph.constants.map((c) => [c.name, c.external]));
    expect(ext.w).toEqual(ckpt.tensors.get('conv1.weight')!.data);
    expect(ext.half).toEqual(ckpt.tensors.get('half')!.data);
    expect(ext.h16).toEqual(ckpt.tensors.get('half')!.data);
    expect(ext.steps).toEqual(ckpt.tensors.get('steps')!.data);
    expect(ext.k).toBeUndefined();
    expect(unused).toEqual(['conv1.bias', 'extra']);
    expect(g.constants.every((c) => c.external === undefined)).toBe(true); // the input graph is not mutated
    const y = interpret(graph, { x: makeTensor('f32', [4], [10, 20, 30, 40]) }).y!;
    expect([...y.data]).toEqual([11, 18, 30.5, 40]);
  });

  it('leaves params that already have external data alone, so checkpoints can be layered', () => {
    const first = checkpoint();
    const g = kir('  param %w: f32[8,1,3,3] = "conv1.weight"\n  param %only: u8[2] = "only"');
    const second = fresh('second.safetensors');
    writeSafetensors(second, [tensor('only', 'U8', [2])]);
    const partial = bindWeights({ ...g, constants: g.constants.slice(0, 1) }, first).graph;
    const layered = bindWeights({ ...g, constants: [partial.constants[0]!, g.constants[1]!] }, openCheckpoint(second));
    expect(layered.graph.constants.map((c) => c.external?.file)).toEqual([first.path, second]);
  });

  it('reports a missing tensor with close names and a few available ones', () => {
    const msg = bindError('  param %w: f32[8,1,3,3] = "conv1.weigth"');
    expect(msg).toMatch(/^model.kir:2:3: param %w: f32\[8,1,3,3\] wants "conv1.weigth", which is not in .*mnist-like.safetensors; did you mean "conv1.weight"\?/);
    expect(msg).toMatch(/It has conv1.weight, conv1.bias, half, steps, extra\.$/);
    expect(bindError('  param %w: f32[8,1,3,3] = "model.conv1.weight"')).toMatch(/did you mean "conv1.weight"\?/);
    expect(bindError('  param %bias: f32[8]')).toMatch(/param %bias: f32\[8\] binds to its own name "bias" \(it has no = "tensor name"\), which is not in/);
    expect(bindError('  param %w: f32[1] = "zzzzzzzz"')).not.toMatch(/did you mean/);
  });

  it('reports a shape mismatch in the documented form', () => {
    const ckpt = checkpoint();
    expect(bindError('  param %w: f32[8,1,3,4] = "conv1.weight"', ckpt, 'mnist.safetensors')).toBe(
      'model.kir:2:3: param %w: f32[8,1,3,4] but conv1.weight in mnist.safetensors is F32[8,1,3,3]; fix the param\'s shape or bind another tensor',
    );
    expect(bindError('  symbol n in 1..8\n  param %w: f32[n] = "conv1.bias"', ckpt, 'm')).toMatch(
      /param %w: f32\[n\] has a symbolic shape but conv1.bias in m is F32\[8\]; declare the param with the tensor's static shape/,
    );
  });

  it('reports a dtype mismatch unless the format widens into the param', () => {
    expect(bindError('  param %w: f16[8] = "conv1.bias"', checkpoint(), 'm')).toBe(
      'model.kir:2:3: param %w: f16[8] but conv1.bias in m is F32[8]; F32 data loads as f32, so declare the param f32[8]',
    );
    expect(bindError('  param %s: f32[] = "steps"', checkpoint(), 'm')).toMatch(/I64\[\]; I64 data loads as i32, so declare the param i32\[\]/);
  });

  it('lists every problem at once', () => {
    const msg = bindError('  param %a: f32[1] = "nope"\n  param %b: i32[8] = "conv1.bias"\n  param %c: f32[4] = "half"', checkpoint(), 'm');
    const lines = msg.split('\n');
    expect(lines[0]).toBe('2 params do not bind to m:');
    expect(lines[1]).toMatch(/^  model.kir:2:3: param %a/);
    expect(lines[2]).toMatch(/^  model.kir:3:3: param %b: i32\[8\] but conv1.bias in m is F32\[8\]/);
    expect(lines).toHaveLength(3);
  });

  it('names the shard a mismatched tensor is in', () => {
    const dir = fresh('bind-sharded');
    writeShardedSafetensors(dir, [tensor('a', 'U8', [4]), tensor('b', 'U8', [4])], 4);
    const msg = bindError('  param %b: u8[5] = "b"', openCheckpoint(dir), 'ckpt');
    expect(msg).toMatch(/param %b: u8\[5\] but b in ckpt \(shard model-00002-of-00002.safetensors\) is U8\[4\]/);
  });
});
