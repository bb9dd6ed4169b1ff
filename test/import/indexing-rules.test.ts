// The indexing and rearrangement ops through the ONNX importer, version by version: what each form maps to and
// the values it computes (reference interpreter, hand-computed), old-version semantics (Scatter 9-10, OneHot 9-10,
// Hardmax 1-12, TopK 1/10/11, DepthToSpace before 11, the reductions each opset allows), folds of data-dependent
// ops on known inputs and the one-line refusals when those inputs are computed at run time.
import { describe, expect, it } from 'vitest';
import { OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { interpret } from '../../ir/interp.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import { DT, attrInt, attrInts, attrString, encodeModel, f32Tensor, i64Tensor, model, node, tensor, valueInfo } from '../../scripts/lib/onnx-build.js';

type Obj = Record<string, unknown>;
const ONNX_TYPE: Record<string, number> = { f32: DT.FLOAT, i32: DT.INT32, bool: DT.BOOL };

function load(opset: number, nodes: Obj[], inputs: Record<string, Tensor>, outputs: readonly string[], initializers: Obj[] = []) {
  const bytes = encodeModel(
    model({
      opset,
      nodes,
      inputs: Object.entries(inputs).map(([n, t]) => valueInfo(n, ONNX_TYPE[t.dtype] ?? DT.FLOAT, t.shape)),
      outputs: outputs.map((o) => valueInfo(o, DT.FLOAT)),
      initializers,
    }),
  );
  return importOnnx(bytes).graph;
}

/** Import and interpret; every output's values (and the IR ops used). */
function run(opset: number, nodes: Obj[], inputs: Record<string, Tensor>, outputs: readonly string[], initializers: Obj[] = []) {
  const graph = load(opset, nodes, inputs, outputs, initializers);
  const out = interpret(graph, inputs);
  return { ops: graph.nodes.map((n) => n.op), values: Object.fromEntries(outputs.map((o) => [o, [...out[o]!.data]])), shapes: Object.fromEntries(outputs.map((o) => [o, out[o]!.shape])) };
}

const f32 = (shape: number[], v: number[]): Tensor => makeTensor('f32', shape, v);
const i32 = (shape: number[], v: number[]): Tensor => makeTensor('i32', shape, v);
const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The import error (class and message) of a model that must be refused. */
function refusal(opset: number, nodes: Obj[], inputs: Record<string, Tensor>, outputs: readonly string[], initializers: Obj[] = []): Error {
  try {
    load(opset, nodes, inputs, outputs, initializers);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the import to fail');
}

describe('gathers and scatters', () => {
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);

  it('Scatter (9-10) is ScatterElements under its old name', () => {
    const r = run(9, [node('Scatter', ['x', 'i', 'u'], ['y'], { axis: attrInt(1) })], { x, i: i32([1, 2], [2, 0]), u: f32([1, 2], [7, 8]) }, ['y']);
    expect(r.ops).toEqual(['ScatterElements']);
    expect(r.values.y).toEqual([8, 2, 7, 4, 5, 6]);
  });

  it('reductions arrive by opset: add/mul in 16, max/min in 18, none before', () => {
    const args = [{ x, i: i32([2, 1], [1, 1]), u: f32([2, 3], [1, 1, 1, 2, 2, 2]) }, ['y']] as const;
    const nd = (opset: number, reduction: string) => run(opset, [node('ScatterND', ['x', 'i', 'u'], ['y'], { reduction: attrString(reduction) })], ...args);
    expect(nd(16, 'add').values.y).toEqual([1, 2, 3, 7, 8, 9]);
    expect(nd(18, 'min').values.y).toEqual([1, 2, 3, 1, 1, 1]);
    expect(refusal(13, [node('ScatterND', ['x', 'i', 'u'], ['y'], { reduction: attrString('add') })], ...args).message).toContain(
      "ScatterND in opset 13 takes reduction 'none', not 'add'",
    );
    const el = node('ScatterElements', ['x', 'i', 'u'], ['y'], { reduction: attrString('max') });
    expect(refusal(17, [el], { x, i: i32([1, 1], [0]), u: f32([1, 1], [9]) }, ['y']).message).toContain(
      "ScatterElements in opset 17 takes reduction 'none', 'add', 'mul', not 'max'",
    );
  });

  it('GatherND gains batch_dims in 12; GatherElements counts negative indices from the end', () => {
    const d = f32([2, 2, 2], iota(8));
    expect(run(11, [node('GatherND', ['d', 'i'], ['y'])], { d, i: i32([2, 2], [0, 1, 1, 0]) }, ['y']).values.y).toEqual([2, 3, 4, 5]);
    const batched = run(12, [node('GatherND', ['d', 'i'], ['y'], { batch_dims: attrInt(1) })], { d, i: i32([2, 1], [1, 0]) }, ['y']);
    expect(batched.values.y).toEqual([2, 3, 4, 5]);
    expect(run(13, [node('GatherElements', ['x', 'i'], ['y'], { axis: attrInt(1) })], { x, i: i32([2, 1], [-1, 0]) }, ['y']).values.y).toEqual([3, 4]);
  });

  it('TensorScatter (24) writes cache rows, circularly when asked', () => {
    const cache = f32([1, 3, 1], [0, 0, 0]);
    const ts = node('TensorScatter', ['c', 'u', 'w'], ['y'], { mode: attrString('circular'), axis: attrInt(1) });
    expect(run(24, [ts], { c: cache, u: f32([1, 2, 1], [5, 6]), w: i32([1], [2]) }, ['y']).values.y).toEqual([6, 0, 5]);
  });
});

describe('OneHot, TopK, Hardmax, ReverseSequence', () => {
  const onOff = f32([2], [0, 1]);

  it('OneHot: negative indices select nothing in 9-10 and count from the end in 11; depth must be known', () => {
    const nodes = [node('OneHot', ['i', 'depth', 'v'], ['y'])];
    const depth = [f32Tensor('depth', [], [3])];
    expect(run(10, nodes, { i: i32([2], [-1, 2]), v: onOff }, ['y'], depth).values.y).toEqual([0, 0, 0, 0, 0, 1]);
    expect(run(11, nodes, { i: i32([2], [-1, 2]), v: onOff }, ['y'], depth).values.y).toEqual([0, 0, 1, 0, 0, 1]);
    const e = refusal(11, nodes, { i: i32([2], [0, 1]), depth: f32([], [3]), v: onOff }, ['y']);
    expect(e).toBeInstanceOf(OnnxUnsupportedError);
    expect(e.message).toContain("OneHot depth must be a constant (kiln compiles static shapes); input 'depth' is computed at run time");
  });

  it('TopK: k as attribute (1-9), as input (10), largest/sorted (11+)', () => {
    const x = f32([5], [3, 1, 4, 1, 5]);
    const v1 = run(9, [node('TopK', ['x'], ['v', 'i'], { k: attrInt(2) })], { x }, ['v', 'i']);
    expect(v1.values).toEqual({ v: [5, 4], i: [4, 2] });
    const v10 = run(10, [node('TopK', ['x', 'k'], ['v', 'i'])], { x }, ['v', 'i'], [i64Tensor('k', [1], [3])]);
    expect(v10.values).toEqual({ v: [5, 4, 3], i: [4, 2, 0] });
    const v11 = run(11, [node('TopK', ['x', 'k'], ['v', 'i'], { largest: attrInt(0) })], { x }, ['v', 'i'], [i64Tensor('k', [1], [3])]);
    expect(v11.values).toEqual({ v: [1, 1, 3], i: [1, 3, 0] });
  });

  it('Hardmax: 1-12 over the input flattened at axis, 13+ along axis; ties pick the first', () => {
    const x = f32([2, 2, 2], [1, 3, 3, 2, 9, 0, 0, 9]);
    const old = run(11, [node('Hardmax', ['x'], ['y'], { axis: attrInt(1) })], { x }, ['y']);
    expect(old.values.y).toEqual([0, 1, 0, 0, 1, 0, 0, 0]);
    expect(old.shapes.y).toEqual([2, 2, 2]);
    const now = run(13, [node('Hardmax', ['x'], ['y'], { axis: attrInt(1) })], { x }, ['y']);
    expect(now.values.y).toEqual([0, 1, 1, 0, 1, 0, 0, 1]);
    expect(run(13, [node('Hardmax', ['x'], ['y'])], { x }, ['y']).values.y).toEqual([0, 1, 1, 0, 1, 0, 0, 1]);
    expect(now.ops).toEqual(['ArgMax', 'Equal', 'Cast']);
  });

  it('ReverseSequence (10) reverses each batch entry up to its length', () => {
    const r = run(10, [node('ReverseSequence', ['x', 'l'], ['y'], { batch_axis: attrInt(0), time_axis: attrInt(1) })], { x: f32([2, 3], iota(6)), l: i32([2], [2, 3]) }, ['y']);
    expect(r.values.y).toEqual([1, 0, 2, 5, 4, 3]);
  });
});

describe('rearrangements', () => {
  const x = f32([1, 8, 1, 1], iota(8));

  it('DepthToSpace: DCR only before 11, DCR or CRD from 11', () => {
    const dcr = run(11, [node('DepthToSpace', ['x'], ['y'], { blocksize: attrInt(2) })], { x }, ['y']);
    expect(dcr.shapes.y).toEqual([1, 2, 2, 2]);
    expect(dcr.values.y).toEqual([0, 2, 4, 6, 1, 3, 5, 7]);
    expect(run(10, [node('DepthToSpace', ['x'], ['y'], { blocksize: attrInt(2) })], { x }, ['y']).values.y).toEqual(dcr.values.y);
    const crd = run(13, [node('DepthToSpace', ['x'], ['y'], { blocksize: attrInt(2), mode: attrString('CRD') })], { x }, ['y']);
    expect(crd.values.y).toEqual(iota(8));
    expect(crd.ops).toEqual(['Reshape', 'Transpose', 'Reshape']);
  });

  it('SpaceToDepth undoes DCR DepthToSpace', () => {
    const s = f32([1, 2, 2, 2], [0, 2, 4, 6, 1, 3, 5, 7]);
    expect(run(13, [node('SpaceToDepth', ['x'], ['y'], { blocksize: attrInt(2) })], { x: s }, ['y']).values.y).toEqual(iota(8));
  });

  it('CenterCropPad (18) crops and pads around the centre, the odd element at the end', () => {
    const img = f32([3, 4], iota(12));
    const r = run(18, [node('CenterCropPad', ['x', 's'], ['y'])], { x: img }, ['y'], [i64Tensor('s', [2], [2, 7])]);
    expect(r.shapes.y).toEqual([2, 7]);
    expect(r.values.y).toEqual([0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 7, 0, 0]);
    expect(r.ops).toEqual(['Slice', 'Pad']);
    const axes = run(18, [node('CenterCropPad', ['x', 's'], ['y'], { axes: attrInts([-1]) })], { x: img }, ['y'], [i64Tensor('s', [1], [1])]);
    expect(axes.values.y).toEqual([1, 5, 9]);
  });
});

describe('data-dependent outputs: folded when known, refused otherwise', () => {
  const x = f32([2, 3], [1, 0, 3, 0, 5, 6]);

  it('Compress with a known condition is a Gather (flattened without axis); a computed one is refused', () => {
    const cond = [tensor('c', DT.BOOL, [3], { int32_data: [1, 0, 1] })];
    const r = run(11, [node('Compress', ['x', 'c'], ['y'], { axis: attrInt(-1) })], { x }, ['y'], cond);
    expect(r.ops).toEqual(['Gather']);
    expect(r.values.y).toEqual([1, 3, 0, 6]);
    expect(run(11, [node('Compress', ['x', 'c'], ['y'])], { x }, ['y'], cond).values.y).toEqual([1, 3]);
    expect(refusal(9, [node('Compress', ['x', 'c'], ['y'], { axis: attrInt(-1) })], { x }, ['y'], cond).message).toContain('Compress axis -1 is out of range');
    const e = refusal(11, [node('Compress', ['x', 'c'], ['y'])], { x, c: makeTensor('bool', [3], [1, 0, 1]) }, ['y']);
    expect(e.message).toMatch(/node \(Compress, opset 11, outputs 'y'\).*Compress's output size depends on the data: its condition 'c' is computed at run time/);
  });

  it('NonZero and Unique of constants fold; of run-time values they are refused', () => {
    const nz = run(13, [node('NonZero', ['k'], ['y'])], {}, ['y'], [f32Tensor('k', [2, 3], [1, 0, 3, 0, 5, 6])]);
    expect(nz.values.y).toEqual([0, 0, 1, 1, 0, 2, 1, 2]);
    expect(nz.shapes.y).toEqual([2, 4]);
    expect(refusal(13, [node('NonZero', ['x'], ['y'])], { x }, ['y']).message).toContain("NonZero's output size depends on the data: its input 'x' is computed at run time");
    const u = run(11, [node('Unique', ['k'], ['y', 'i', 'inv', 'n'], { sorted: attrInt(0) })], {}, ['y', 'i', 'inv', 'n'], [f32Tensor('k', [6], [2, 1, 1, 3, 4, 3])]);
    expect(u.values).toEqual({ y: [2, 1, 3, 4], i: [0, 1, 3, 4], inv: [0, 1, 1, 2, 3, 2], n: [1, 2, 2, 1] });
    const s = run(11, [node('Unique', ['k'], ['y', 'i', 'inv', 'n'])], {}, ['y', 'i', 'inv', 'n'], [f32Tensor('k', [6], [2, 1, 1, 3, 4, 3])]);
    expect(s.values).toEqual({ y: [1, 2, 3, 4], i: [1, 0, 3, 4], inv: [1, 0, 0, 2, 3, 2], n: [2, 1, 2, 1] });
    expect(refusal(11, [node('Unique', ['x'], ['y'])], { x }, ['y'])).toBeInstanceOf(OnnxUnsupportedError);
  });

  it('EyeLike (9, 22) is a constant of the input shape, with k and dtype', () => {
    const r = run(22, [node('EyeLike', ['x'], ['y'], { k: attrInt(1), dtype: attrInt(DT.INT32) })], { x }, ['y']);
    expect(r.values.y).toEqual([0, 1, 0, 0, 0, 1]);
    expect(r.ops).toEqual([]);
    expect(run(9, [node('EyeLike', ['x'], ['y'], { k: attrInt(-1) })], { x }, ['y']).values.y).toEqual([0, 0, 0, 1, 0, 0]);
  });
});
