// The op mapping table, version by version: each ONNX form of an op imports to the same IR and computes the
// same values (checked with the reference interpreter on hand-computed expectations).
import { describe, expect, it } from 'vitest';
import { interpret } from '../../ir/interp.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import {
  DT,
  attrFloat,
  attrFloats,
  attrInt,
  attrInts,
  attrString,
  attrTensor,
  encodeModel,
  f32Tensor,
  i64Tensor,
  model,
  node,
  valueInfo,
} from '../../scripts/lib/onnx-build.js';

type Obj = Record<string, unknown>;

/** Import a graph of `nodes` (inputs x..., output names) and run it; returns every output's values. */
function run(opset: number, nodes: Obj[], inputs: Record<string, Tensor>, outputs: string[], initializers: Obj[] = []) {
  const onnxType = (t: Tensor): number => ({ f32: DT.FLOAT, i32: DT.INT32, bool: DT.BOOL })[t.dtype as 'f32'] ?? DT.FLOAT;
  const bytes = encodeModel(
    model({
      opset,
      nodes,
      inputs: Object.entries(inputs).map(([n, t]) => valueInfo(n, onnxType(t), t.shape)),
      outputs: outputs.map((o) => valueInfo(o, DT.FLOAT)),
      initializers,
    }),
  );
  const { graph, notes } = importOnnx(bytes);
  const out = interpret(graph, inputs);
  const values = Object.fromEntries(outputs.map((o) => [o, [...out[o]!.data]]));
  const shapes = Object.fromEntries(outputs.map((o) => [o, out[o]!.shape]));
  return { graph, notes, values, shapes };
}

const f32 = (shape: number[], values: number[]): Tensor => makeTensor('f32', shape, values);
const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const x6 = f32([2, 3], [1, 2, 3, 4, 5, 6]);

describe('shape-like operands become attributes, per op version', () => {
  it('Reshape 5-13 has no allowzero; 14+ passes it', () => {
    const r13 = run(13, [node('Reshape', ['x', 's'], ['y'])], { x: x6 }, ['y'], [i64Tensor('s', [2], [3, -1])]);
    expect(r13.graph.nodes[0]!.attrs).toEqual({ shape: [3, -1] });
    const r14 = run(14, [node('Reshape', ['x', 's'], ['y'], { allowzero: attrInt(1) })], { x: x6 }, ['y'], [i64Tensor('s', [2], [3, 2])]);
    expect(r14.graph.nodes[0]!.attrs).toEqual({ shape: [3, 2], allowzero: 1 });
  });

  it('Split: sizes as attribute (11), as input (13), num_outputs (18), or equal parts', () => {
    const x = f32([5], iota(5));
    const a = run(11, [node('Split', ['x'], ['p', 'q'], { split: attrInts([2, 3]) })], { x }, ['p', 'q']);
    expect(a.values).toEqual({ p: [0, 1], q: [2, 3, 4] });
    const b = run(13, [node('Split', ['x', 's'], ['p', 'q'])], { x }, ['p', 'q'], [i64Tensor('s', [2], [4, 1])]);
    expect(b.values).toEqual({ p: [0, 1, 2, 3], q: [4] });
    const c = run(18, [node('Split', ['x'], ['p', 'q'], { num_outputs: attrInt(2) })], { x }, ['p', 'q']);
    expect(c.values).toEqual({ p: [0, 1, 2], q: [3, 4] });
    const d = run(13, [node('Split', ['x'], ['p', 'q', 'r', 's', 't'])], { x }, ['p', 't']);
    expect(d.values).toEqual({ p: [0], t: [4] });
  });

  it('Slice: attributes (1-9), inputs with steps (10+), INT64 extremes clamped', () => {
    const x = f32([6], iota(6));
    const a = run(9, [node('Slice', ['x'], ['y'], { starts: attrInts([1]), ends: attrInts([2 ** 53]), axes: attrInts([0]) })], { x }, ['y']);
    expect(a.values.y).toEqual([1, 2, 3, 4, 5]);
    const inits = [i64Tensor('st', [1], [-1]), i64Tensor('en', [1], [-(2 ** 53)]), i64Tensor('ax', [1], [0]), i64Tensor('sp', [1], [-2])];
    const b = run(13, [node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y'])], { x }, ['y'], inits);
    expect(b.values.y).toEqual([5, 3, 1]);
  });

  it('Pad: attributes (2-10), inputs pads/constant_value (11+), axes (18+)', () => {
    const x = f32([2], [1, 2]);
    const a = run(10, [node('Pad', ['x'], ['y'], { pads: attrInts([1, 2]), value: attrFloat(9) })], { x }, ['y']);
    expect(a.values.y).toEqual([9, 1, 2, 9, 9]);
    const b = run(13, [node('Pad', ['x', 'p', 'v'], ['y'], { mode: attrString('edge') })], { x }, ['y'], [i64Tensor('p', [2], [2, 1]), f32Tensor('v', [], [0])]);
    expect(b.values.y).toEqual([1, 1, 1, 2, 2]);
    const x2 = f32([2, 2], [1, 2, 3, 4]);
    const c = run(18, [node('Pad', ['x', 'p', '', 'ax'], ['y'])], { x: x2 }, ['y'], [i64Tensor('p', [2], [1, 0]), i64Tensor('ax', [1], [1])]);
    expect([c.shapes.y, c.values.y]).toEqual([[2, 3], [0, 1, 2, 0, 3, 4]]);
  });

  it('Clip: bounds as attributes (6-10) and as optional inputs (11+)', () => {
    const x = f32([4], [-5, -1, 1, 5]);
    expect(run(10, [node('Clip', ['x'], ['y'], { min: attrFloat(-2), max: attrFloat(2) })], { x }, ['y']).values.y).toEqual([-2, -1, 1, 2]);
    expect(run(13, [node('Clip', ['x', '', 'hi'], ['y'])], { x }, ['y'], [f32Tensor('hi', [], [0])]).values.y).toEqual([-5, -1, 0, 0]);
  });

  it('Squeeze/Unsqueeze axes: attributes before 13, inputs from 13', () => {
    const x = f32([1, 3, 1], [1, 2, 3]);
    expect(run(11, [node('Squeeze', ['x'], ['y'], { axes: attrInts([0]) })], { x }, ['y']).shapes.y).toEqual([3, 1]);
    expect(run(13, [node('Squeeze', ['x', 'a'], ['y'])], { x }, ['y'], [i64Tensor('a', [1], [-1])]).shapes.y).toEqual([1, 3]);
    expect(run(11, [node('Unsqueeze', ['x'], ['y'], { axes: attrInts([1]) })], { x }, ['y']).shapes.y).toEqual([1, 1, 3, 1]);
    expect(run(13, [node('Unsqueeze', ['x', 'a'], ['y'])], { x }, ['y'], [i64Tensor('a', [1], [0])]).shapes.y).toEqual([1, 1, 3, 1]);
  });

  it('ReduceSum axes: attribute before 13, input from 13; other reductions from 18', () => {
    const a = run(11, [node('ReduceSum', ['x'], ['y'], { axes: attrInts([1]), keepdims: attrInt(0) })], { x: x6 }, ['y']);
    expect(a.values.y).toEqual([6, 15]);
    const b = run(13, [node('ReduceSum', ['x', 'ax'], ['y'], { keepdims: attrInt(0) })], { x: x6 }, ['y'], [i64Tensor('ax', [1], [0])]);
    expect(b.values.y).toEqual([5, 7, 9]);
    const c = run(17, [node('ReduceMean', ['x'], ['y'], { axes: attrInts([1]) })], { x: x6 }, ['y']);
    expect([c.shapes.y, c.values.y]).toEqual([[2, 1], [2, 5]]);
    const d = run(18, [node('ReduceMax', ['x', 'ax'], ['y'], { keepdims: attrInt(0) })], { x: x6 }, ['y'], [i64Tensor('ax', [1], [1])]);
    expect(d.values.y).toEqual([3, 6]);
  });
});

describe('semantics that changed between versions', () => {
  it('Softmax before 13 normalises the flattened inner block; from 13 one axis', () => {
    const x = f32([1, 2, 2], [0, 1, 2, 3]);
    const old = run(11, [node('Softmax', ['x'], ['y'], { axis: attrInt(1) })], { x }, ['y']);
    const e = [0, 1, 2, 3].map(Math.exp);
    const s = e.reduce((a, b) => a + b);
    expect(old.shapes.y).toEqual([1, 2, 2]);
    old.values.y!.forEach((v, i) => expect(v).toBeCloseTo(e[i]! / s, 6));
    const now = run(13, [node('Softmax', ['x'], ['y'], { axis: attrInt(1) })], { x }, ['y']);
    now.values.y!.forEach((v, i) => expect(v).toBeCloseTo(e[i]! / (e[i % 2]! + e[(i % 2) + 2]!), 6));
  });

  it('Upsample (9) and Resize 10 sample nearest with asymmetric coordinates', () => {
    const x = f32([1, 1, 2, 2], [1, 2, 3, 4]);
    const want = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4];
    for (const [opset, op] of [[9, 'Upsample'], [10, 'Resize']] as const)
      expect(run(opset, [node(op, ['x', 's'], ['y'])], { x }, ['y'], [f32Tensor('s', [4], [1, 1, 2, 2])]).values.y).toEqual(want);
    expect(run(8, [node('Upsample', ['x'], ['y'], { scales: attrFloats([1, 1, 2, 2]) })], { x }, ['y']).values.y).toEqual(want);
  });

  it('Resize 19 computes the output size from scales (floor) or sizes with keep_aspect_ratio_policy', () => {
    const x = f32([1, 1, 2, 4], iota(8));
    const a = run(19, [node('Resize', ['x', '', 's'], ['y'])], { x }, ['y'], [f32Tensor('s', [4], [1, 1, 0.6, 0.6])]);
    expect(a.shapes.y).toEqual([1, 1, 1, 2]);
    const b = run(19, [node('Resize', ['x', '', '', 'sz'], ['y'], { axes: attrInts([2, 3]), keep_aspect_ratio_policy: attrString('not_larger') })], { x }, ['y'], [i64Tensor('sz', [2], [1, 3])]);
    expect(b.shapes.y).toEqual([1, 1, 1, 2]);
  });

  it('LayerNormalization computes its Mean and InvStdDev outputs when they are used', () => {
    const x = f32([2, 2], [1, 3, 0, 4]);
    const r = run(17, [node('LayerNormalization', ['x', 'g'], ['y', 'm', 'inv'], { epsilon: attrFloat(0) })], { x }, ['y', 'm', 'inv'], [f32Tensor('g', [2], [1, 1])]);
    expect(r.values).toEqual({ y: [-1, 1, -1, 1], m: [2, 2], inv: [1, 0.5] });
    expect(r.shapes).toEqual({ y: [2, 2], m: [2, 1], inv: [2, 1] });
  });
});

describe('decompositions and folded ops', () => {
  it('Sum and Mean fold into Add chains (and a Div)', () => {
    const ins = { a: f32([2], [1, 2]), b: f32([2], [3, 4]), c: f32([1], [5]) };
    expect(run(13, [node('Sum', ['a', 'b', 'c'], ['y'])], ins, ['y']).values.y).toEqual([9, 11]);
    expect(run(13, [node('Mean', ['a', 'b', 'c'], ['y'])], ins, ['y']).values.y).toEqual([3, 11 / 3].map(Math.fround));
  });

  it('logical ops and LessOrEqual through Where/Equal, NaN included', () => {
    const a = f32([3], [1, NaN, 3]);
    const b = f32([3], [1, 2, 2]);
    const r = run(13, [node('LessOrEqual', ['a', 'b'], ['le']), node('GreaterOrEqual', ['a', 'b'], ['ge']), node('Not', ['le'], ['n']), node('Xor', ['le', 'ge'], ['x']), node('And', ['le', 'ge'], ['y']), node('Or', ['le', 'ge'], ['z'])], { a, b }, ['le', 'ge', 'n', 'x', 'y', 'z']);
    expect(r.values).toEqual({ le: [1, 0, 0], ge: [1, 0, 1], n: [0, 1, 1], x: [0, 0, 1], y: [1, 0, 0], z: [1, 0, 1] });
  });

  it('Constant, ConstantOfShape, Range, Tile, ArgMin, GlobalMaxPool and ReduceLogSumExp', () => {
    const nodes = [
      node('Constant', [], ['k'], { value_ints: attrInts([2, 3]) }),
      node('ConstantOfShape', ['k'], ['z'], { value: attrTensor(f32Tensor('', [1], [0.5])) }),
      node('Add', ['x', 'z'], ['sum']),
      node('Tile', ['x', 'rep'], ['tiled']),
      node('ArgMin', ['x'], ['amin'], { axis: attrInt(1) }),
      node('ReduceLogSumExp', ['x'], ['lse'], { axes: attrInts([1]), keepdims: attrInt(0) }),
    ];
    const r = run(13, nodes, { x: x6 }, ['sum', 'tiled', 'amin', 'lse'], [i64Tensor('rep', [2], [1, 2])]);
    expect(r.values.sum).toEqual([1.5, 2.5, 3.5, 4.5, 5.5, 6.5]);
    expect(r.values.tiled).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    expect(r.values.amin).toEqual([0, 0]);
    expect(r.values.lse![0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 5);
    const g = run(13, [node('GlobalMaxPool', ['x'], ['y'])], { x: f32([1, 2, 2], [1, 5, 3, 2]) }, ['y']);
    expect([g.shapes.y, g.values.y]).toEqual([[1, 2, 1], [5, 3]]);
    const rg = run(13, [node('Range', ['s', 'l', 'd'], ['y'])], {}, ['y'], [f32Tensor('s', [], [1]), f32Tensor('l', [], [2]), f32Tensor('d', [], [0.25])]);
    expect(rg.values.y).toEqual([1, 1.25, 1.5, 1.75]);
  });

  it('casts to int64 at run time become i32, with a note', () => {
    const r = run(13, [node('Cast', ['x'], ['y'], { to: attrInt(DT.INT64) })], { x: f32([2], [1.7, -2.2]) }, ['y']);
    expect(r.values.y).toEqual([1, -2]);
    expect(r.notes).toContain("Cast to int64 (output 'y'): int64 narrowed to i32");
  });
});
