// The importer rules of the normalisations, pools and reductions written with existing IR ops, per opset form,
// run with the reference interpreter against the ONNX formulas computed here directly: LRN (9, 13),
// LpNormalization (7, 22), InstanceNormalization (7, 22), GroupNormalization (per-group scale in 18, per-channel
// in 21), MeanVarianceNormalization (9, 13), LpPool (int p; 18's ceil_mode and dilations), GlobalLpPool,
// ReduceProd (axes attribute before 18, input from 18), CumProd (26), ReduceLogSumExp's infinite and empty rows;
// and Range/Pad operands computed at run time: refused as 'dynamic' naming the graph input behind them, except
// Pad's constant_value, which is data.
import { describe, expect, it } from 'vitest';
import { interpret } from '../../ir/interp.js';
import { OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { type Tensor, makeTensor } from '../../ir/tensor.js';
import { DT, attrFloat, attrInt, attrInts, attrString, encodeModel, i64Tensor, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';

type Obj = Record<string, unknown>;

/** Import `nodes` (graph inputs `inputs`, initializers `inits`) at `opset` and interpret; output y's tensor. */
function run(opset: number, nodes: Obj[], inputs: Record<string, Tensor>, inits: Obj[] = []): Tensor {
  const onnxType = (t: Tensor): number => (t.dtype === 'i32' ? DT.INT64 : DT.FLOAT);
  const bytes = encodeModel(
    model({
      opset,
      nodes,
      inputs: Object.entries(inputs).map(([n, t]) => valueInfo(n, onnxType(t), t.shape)),
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers: inits,
    }),
  );
  return interpret(importOnnx(bytes).graph, inputs).y!;
}

function expectClose(got: Tensor, shape: readonly number[], want: readonly number[], rtol = 1e-5): void {
  expect(got.shape).toEqual(shape);
  want.forEach((w, i) => {
    if (!Number.isFinite(w)) return void expect(got.data[i]).toBe(w);
    expect(Math.abs(got.data[i]! - w)).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(w)));
  });
}

const x4 = makeTensor('f32', [2, 5, 3, 2], (i) => Math.sin(i * 0.9) * 2);
const at = (shape: readonly number[], idx: readonly number[]): number => idx.reduce((o, v, d) => o * shape[d]! + v, 0);

describe('LRN', () => {
  /** ONNX's formula: square_sum over channels c - floor((size-1)/2) .. c + ceil((size-1)/2). */
  function lrn(x: Tensor, size: number, alpha: number, beta: number, bias: number): number[] {
    const [n, c, h, w] = x.shape as number[];
    const out: number[] = [];
    for (let b = 0; b < n!; b++)
      for (let ch = 0; ch < c!; ch++)
        for (let i = 0; i < h! * w!; i++) {
          let sq = 0;
          for (let k = Math.max(0, ch - Math.floor((size - 1) / 2)); k <= Math.min(c! - 1, ch + Math.ceil((size - 1) / 2)); k++) sq += x.data[(b * c! + k) * h! * w! + i]! ** 2;
          out.push(x.data[(b * c! + ch) * h! * w! + i]! / (bias + (alpha / size) * sq) ** beta);
        }
    return out;
  }

  it.each([
    [9, 3, {}],
    [13, 4, { alpha: 0.5, beta: 0.6, bias: 2 }],
    [13, 1, { alpha: 0.1 }],
  ] as const)('opset %i, size %i, %o', (opset, size, a) => {
    const attrs = { size: attrInt(size), ...Object.fromEntries(Object.entries(a).map(([k, v]) => [k, attrFloat(v)])) };
    const y = run(opset, [node('LRN', ['x'], ['y'], attrs)], { x: x4 });
    const p = { alpha: 1e-4, beta: 0.75, bias: 1, ...a };
    expectClose(y, x4.shape, lrn(x4, size, p.alpha, p.beta, p.bias));
  });
});

describe('LpNormalization', () => {
  it.each([7, 22])('opset %i: p 2 (default) along the last axis, p 1 along axis 1 with |x|, zero norms give 0', (opset) => {
    const x = makeTensor('f32', [2, 3], [3, -4, 0, 0, 0, 0]);
    expectClose(run(opset, [node('LpNormalization', ['x'], ['y'])], { x }), [2, 3], [0.6, -0.8, 0, 0, 0, 0]);
    const y = run(opset, [node('LpNormalization', ['x'], ['y'], { axis: attrInt(0), p: attrInt(1) })], { x: makeTensor('f32', [2, 2], [1, -2, -3, 2]) });
    expectClose(y, [2, 2], [0.25, -0.5, -0.75, 0.5]);
    expect(() => run(opset, [node('LpNormalization', ['x'], ['y'], { p: attrInt(3) })], { x })).toThrow('LpNormalization p must be 1 or 2, got 3');
  });
});

/** (x - mean) / sqrt(var + eps) over consecutive blocks of `block` elements. */
function standardize(data: ArrayLike<number>, block: number, eps: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < data.length; s += block) {
    const v = Array.from({ length: block }, (_, i) => data[s + i]!);
    const mean = v.reduce((a, b) => a + b, 0) / block;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / block;
    out.push(...v.map((e) => (e - mean) / Math.sqrt(variance + eps)));
  }
  return out;
}

describe('InstanceNormalization and GroupNormalization', () => {
  const plane = 6;
  const scale = makeTensor('f32', [5], [1, 2, -1, 0.5, 3]);
  const bias = makeTensor('f32', [5], [0, 1, 2, 3, 4]);

  it.each([7, 22])('InstanceNormalization %i: each (n, c) plane, then scale[c] and B[c]', (opset) => {
    const y = run(opset, [node('InstanceNormalization', ['x', 's', 'b'], ['y'], { epsilon: attrFloat(0.01) })], { x: x4, s: scale, b: bias });
    const want = standardize(x4.data, plane, 0.01).map((v, i) => v * scale.data[Math.floor(i / plane) % 5]! + bias.data[Math.floor(i / plane) % 5]!);
    expectClose(y, x4.shape, want);
  });

  const x6 = makeTensor('f32', [2, 6, 2, 2], (i) => Math.cos(i * 1.3) * 4 + (i % 7));
  it('GroupNormalization 21: per-channel scale and bias over groups of channels', () => {
    const s = makeTensor('f32', [6], [1, 2, 3, 4, 5, 6]);
    const b = makeTensor('f32', [6], [6, 5, 4, 3, 2, 1]);
    const y = run(21, [node('GroupNormalization', ['x', 's', 'b'], ['y'], { num_groups: attrInt(3) })], { x: x6, s, b });
    const want = standardize(x6.data, 8, 1e-5).map((v, i) => v * s.data[Math.floor(i / 4) % 6]! + b.data[Math.floor(i / 4) % 6]!);
    expectClose(y, x6.shape, want, 1e-4);
  });

  it('GroupNormalization 18: one scale and bias per group', () => {
    const s = makeTensor('f32', [2], [2, -1]);
    const b = makeTensor('f32', [2], [0.5, 1]);
    const y = run(18, [node('GroupNormalization', ['x', 's', 'b'], ['y'], { num_groups: attrInt(2), epsilon: attrFloat(1e-3) })], { x: x6, s, b });
    const want = standardize(x6.data, 12, 1e-3).map((v, i) => v * s.data[Math.floor(i / 12) % 2]! + b.data[Math.floor(i / 12) % 2]!);
    expectClose(y, x6.shape, want, 1e-4);
    expect(() => run(18, [node('GroupNormalization', ['x', 's', 'b'], ['y'], { num_groups: attrInt(4) })], { x: x6, s, b })).toThrow(
      "GroupNormalization num_groups 4 must divide the 6 channels of 'x'",
    );
  });
});

describe('MeanVarianceNormalization', () => {
  it.each([9, 13])('opset %i: default axes [0, 2, 3], and given axes', (opset) => {
    // Channel c's elements over N, H, W: gather, standardise with eps 0 and add 1e-9 to the std.
    const [n, c, h, w] = x4.shape as number[];
    const want = new Array<number>(x4.data.length);
    for (let ch = 0; ch < c!; ch++) {
      const idx: number[] = [];
      for (let b = 0; b < n!; b++) for (let i = 0; i < h! * w!; i++) idx.push((b * c! + ch) * h! * w! + i);
      const v = idx.map((k) => x4.data[k]!);
      const mean = v.reduce((a, e) => a + e, 0) / v.length;
      const std = Math.sqrt(v.reduce((a, e) => a + (e - mean) ** 2, 0) / v.length);
      idx.forEach((k, j) => (want[k] = (v[j]! - mean) / (std + 1e-9)));
    }
    expectClose(run(opset, [node('MeanVarianceNormalization', ['x'], ['y'])], { x: x4 }), x4.shape, want, 1e-4);
    const last = run(opset, [node('MeanVarianceNormalization', ['x'], ['y'], { axes: attrInts([3]) })], { x: x4 });
    expectClose(last, x4.shape, standardize(x4.data, 2, 0).map((v) => v * (1 - 1e-9)), 1e-4);
  });
});

describe('LpPool and GlobalLpPool', () => {
  const x = makeTensor('f32', [1, 1, 5], [1, -2, 2, 4, -3]);
  it.each([7, 11, 18])('LpPool %i: p an int, pads add nothing', (opset) => {
    const y = run(opset, [node('LpPool', ['x'], ['y'], { kernel_shape: attrInts([2]), pads: attrInts([1, 1]), p: attrInt(3) })], { x });
    expectClose(y, [1, 1, 6], [1, 9, 16, 72, 91, 27].map((s) => Math.cbrt(s)));
  });

  it('LpPool 18: ceil_mode and dilations', () => {
    const y = run(18, [node('LpPool', ['x'], ['y'], { kernel_shape: attrInts([2]), strides: attrInts([2]), ceil_mode: attrInt(1), p: attrInt(1) })], { x });
    expectClose(y, [1, 1, 3], [3, 6, 3]);
    const d = run(22, [node('LpPool', ['x'], ['y'], { kernel_shape: attrInts([2]), dilations: attrInts([2]) })], { x });
    expectClose(d, [1, 1, 3], [5, 20, 13].map(Math.sqrt));
  });

  it.each([1, 2, 3])('GlobalLpPool p=%i over the spatial dims', (p) => {
    const y = run(22, [node('GlobalLpPool', ['x'], ['y'], { p: attrInt(p) })], { x: x4 });
    const want = Array.from({ length: 10 }, (_, nc) => Array.from({ length: 6 }, (_, i) => Math.abs(x4.data[nc * 6 + i]!) ** p).reduce((a, b) => a + b) ** (1 / p));
    expectClose(y, [2, 5, 1, 1], want, 1e-4);
  });
});

describe('ReduceProd, CumProd and ReduceLogSumExp', () => {
  const m = makeTensor('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
  it('ReduceProd: axes an attribute before 18, an input from 18', () => {
    expectClose(run(13, [node('ReduceProd', ['x'], ['y'], { axes: attrInts([1]), keepdims: attrInt(0) })], { x: m }), [2], [6, 120]);
    expectClose(run(18, [node('ReduceProd', ['x', 'axes'], ['y'], { keepdims: attrInt(0) })], { x: m }, [i64Tensor('axes', [1], [0])]), [3], [4, 10, 18]);
    expectClose(run(18, [node('ReduceProd', ['x'], ['y'])], { x: m }), [1, 1], [720]);
  });

  it('CumProd from opset 26, its axis an input', () => {
    expectClose(run(26, [node('CumProd', ['x', 'axis'], ['y'], { exclusive: attrInt(1) })], { x: m }, [i64Tensor('axis', [], [1])]), [2, 3], [1, 1, 2, 1, 4, 20]);
    expect(() => run(25, [node('CumProd', ['x', 'axis'], ['y'])], { x: m }, [i64Tensor('axis', [], [1])])).toThrow(/CumProd in opset 25 is not mapped/);
  });

  it('ReduceLogSumExp: rows of -inf give -inf, a +inf gives +inf, an empty set -inf', () => {
    const x = makeTensor('f32', [3, 2], [-Infinity, -Infinity, Infinity, 1, 1000, 1000]);
    expectClose(run(13, [node('ReduceLogSumExp', ['x'], ['y'], { axes: attrInts([1]), keepdims: attrInt(0) })], { x }), [3], [-Infinity, Infinity, 1000 + Math.LN2]);
    const empty = run(18, [node('ReduceLogSumExp', ['x', 'axes'], ['y'])], { x: makeTensor('f32', [2, 0, 2], []) }, [i64Tensor('axes', [1], [1])]);
    expectClose(empty, [2, 1, 2], [-Infinity, -Infinity, -Infinity, -Infinity]);
  });
});

describe('Range and Pad operands computed at run time', () => {
  /** The 'dynamic' refusal of importing `nodes` with graph inputs `inputs`. */
  function refusal(opset: number, nodes: Obj[], inputs: Obj[], inits: Obj[] = []): OnnxUnsupportedError {
    const bytes = encodeModel(model({ opset, nodes, inputs, outputs: [valueInfo('y', DT.FLOAT)], initializers: inits }));
    try {
      importOnnx(bytes);
    } catch (e) {
      if (e instanceof OnnxUnsupportedError) return e;
      throw e;
    }
    throw new Error('the import succeeded');
  }

  it('Range names the graph input its limit is computed from', () => {
    const e = refusal(
      11,
      [node('Cast', ['n'], ['limit'], { to: attrInt(DT.FLOAT) }), node('Range', ['start', 'limit', 'delta'], ['y'], {}, { name: 'r' })],
      [valueInfo('n', DT.INT64, [])],
      [makeScalar('start', 0), makeScalar('delta', 1)],
    );
    expect(e.category).toBe('dynamic');
    expect(e.value).toBe('n');
    expect(e.message).toContain("node 'r' (Range, opset 11");
    expect(e.message).toContain("Range limit (input 'limit') sets the output shape, so kiln needs it at compile time, but it is computed at run time from graph input 'n'");
    const direct = refusal(11, [node('Range', ['start', 'limit', 'delta'], ['y'])], [valueInfo('limit', DT.FLOAT, [])], [makeScalar('start', 0), makeScalar('delta', 1)]);
    expect([direct.category, direct.value]).toEqual(['dynamic', 'limit']);
  });

  it('Pad refuses computed pads, naming the graph input; a computed constant_value is data', () => {
    const e = refusal(18, [node('Pad', ['x', 'pads'], ['y'])], [valueInfo('x', DT.FLOAT, [2, 2]), valueInfo('pads', DT.INT64, [4])]);
    expect([e.category, e.value]).toEqual(['dynamic', 'pads']);
    expect(e.message).toContain("Pad pads (input 'pads') sets the output shape");
    const x = makeTensor('f32', [2, 2], [1, 2, 3, 4]);
    const y = run(13, [node('Pad', ['x', 'pads', 'v'], ['y'])], { x, v: makeTensor('f32', [], [7]) }, [i64Tensor('pads', [4], [1, 0, 0, -1])]);
    expectClose(y, [3, 1], [7, 1, 3]);
    const edge = run(13, [node('Pad', ['x', 'pads', 'v'], ['y'], { mode: attrString('edge') })], { x, v: makeTensor('f32', [], [7]) }, [i64Tensor('pads', [4], [0, 1, 0, 0])]);
    expectClose(edge, [2, 3], [1, 1, 2, 3, 3, 4]);
  });
});

function makeScalar(name: string, v: number): Obj {
  return { name, data_type: DT.FLOAT, dims: [], float_data: [v] };
}
