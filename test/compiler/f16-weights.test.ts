// compiler/memory/f16-weights.ts and the operand-cast fusion: which constants become f16 (matmul operands and
// gather tables only; biases, other readers and values f16 cannot hold stay f32), that the rewritten graph
// computes what the original does up to f16 rounding of the weights, that the compiled artifact never widens a
// matmul operand in its own dispatch, and that a checkpoint value over f16's range fails naming the tensor.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { storeWeightsAsF16 } from '../../passes/index.js';
import { ExternalDataError, GraphBuilder, type Tensor, interpret, loadExternal, makeTensor, openCheckpoint, tensorType, toleranceExcess, writeSafetensors } from '../../ir/index.js';
import { randomTensor } from '../gpu/data.js';

function model() {
  const b = new GraphBuilder('f16w');
  const ids = b.input('ids', tensorType('i32', [3]));
  const table = b.constant(randomTensor('f32', [10, 8], 1, { range: 1, edges: 0 }), 'table');
  const w1 = b.constant(randomTensor('f32', [8, 6], 2, { range: 1, edges: 0 }), 'w1');
  const w2 = b.constant(randomTensor('f32', [4, 6], 3, { range: 1, edges: 0 }), 'w2');
  const bias = b.constant(randomTensor('f32', [4], 4, { range: 1, edges: 0 }), 'bias');
  const shift = b.constant(randomTensor('f32', [3, 4], 5, { range: 1, edges: 0 }), 'shift');
  const big = b.constant(makeTensor('f32', [4, 4], (i) => (i === 5 ? 1e6 : 0.25)), 'big');
  const x = b.op('Gather', [table, ids], { axis: 0 });
  const h = b.op('MatMul', [x, w1]);
  const y = b.op('Gemm', [h, w2, bias], { transB: 1 });
  const z = b.op('Add', [y, shift]);
  b.output(b.op('MatMul', [z, big]));
  return b.build();
}

describe('storeWeightsAsF16', () => {
  const g = model();
  const r = storeWeightsAsF16(g);
  const dtypes = Object.fromEntries(r.constants.map((c) => [c.name, c.type.dtype]));

  it('narrows matmul weights and gather tables, nothing else', () => {
    expect(dtypes).toMatchObject({ table: 'f16', w1: 'f16', w2: 'f16', bias: 'f32', shift: 'f32', big: 'f32' });
    expect(r.nodes.filter((n) => n.op === 'Cast').map((n) => n.inputs[0])).toEqual([expect.stringMatching(/\.f16$/), 'w1', 'w2']);
  });

  it('computes the original up to f16 rounding of the weights', () => {
    const ids = makeTensor('i32', [3], [0, 9, 4]);
    const [want] = Object.values(interpret(g, { ids })) as Tensor[];
    const [got] = Object.values(interpret(r, { ids })) as Tensor[];
    expect(toleranceExcess(got!, want!, 5e-3, 5e-3)).toBe(0);
  });

  it('compiles to half the weight bytes with no dispatch widening a weight', () => {
    const dense = compileGraph(g);
    const narrow = compileGraph(g, { weightsDtype: 'f16' });
    const labels = Object.values(narrow.manifest.entryPoints).flatMap((e) => e.dispatches.map((d) => d.label));
    // Every widening here feeds a matmul operand (the gathered rows included), so none runs as its own dispatch.
    expect(labels.filter((l) => l.includes('Cast('))).toEqual([]);
    expect(labels.some((l) => /MatMul\(%v0, %w1\.f32\)/.test(l))).toBe(true);
    expect(narrow.manifest.memory!.weightsBytes).toBeLessThan(dense.manifest.memory!.weightsBytes);
  });
});

it('a checkpoint value f16 cannot hold fails naming the tensor and the fix', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'kiln-f16-')), 'w.safetensors');
  const values = Float32Array.from([1, -2, 70000, 3]);
  writeSafetensors(file, [{ name: 'proj.weight', format: 'F32', shape: [2, 2], chunks: () => [new Uint8Array(values.buffer)] }]);
  const t = openCheckpoint(file).tensors.get('proj.weight')!;
  expect(loadExternal(t.data, 'f32', [2, 2]).data[2]).toBe(70000);
  expect(() => loadExternal(t.data, 'f16', [2, 2])).toThrow(ExternalDataError);
  expect(() => loadExternal(t.data, 'f16', [2, 2])).toThrow(/tensor 'proj\.weight' value 70000 at index 2 overflows f16; .*without --weights-dtype f16/);
});
