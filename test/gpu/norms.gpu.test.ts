// ReduceProd, CumProd and LpPool kernels, and the ONNX normalisations and losses that the importer writes with
// existing ops (LRN, LpNormalization, InstanceNormalization, GroupNormalization 18 and 21, MVN, GlobalLpPool,
// ReduceLogSumExp, NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss, Pad with a computed constant_value), on the
// adapter against the interpreter, through the real compiler and runtime: ragged and long rows (the split
// reduction), strided axes, integer products (exact, wrapping), empty reductions and empty outputs, random pool
// windows, f16. f32 within rtol 1e-4, atol 1e-5 unless a case says why it needs more.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type Attrs, type DType, type Graph, GraphBuilder, type Tensor, makeTensor, tensorType } from '../../ir/index.js';
import { importOnnx } from '../../ir/import/onnx/index.js';
import { DT, attrFloat, attrInt, attrInts, attrString, encodeModel, i64Tensor, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';
import { randomTensor, rng } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const F32 = { rtol: 1e-4, atol: 1e-5 };
const EXACT = { rtol: 0, atol: 0 };

/** One graph applying each op (with its attributes) to input x; one output per op. */
function opsGraph(x: Tensor, ops: readonly [string, Attrs][]): Graph {
  const b = new GraphBuilder('norms');
  const xn = b.input('x', tensorType(x.dtype, x.shape));
  b.output(...ops.map(([op, attrs]) => b.op(op, [xn], attrs)));
  return b.build();
}

const check = (x: Tensor, ops: readonly [string, Attrs][], tol = F32, shaderF16 = false): Promise<void> =>
  expectGpuMatchesInterpreter(opsGraph(x, ops), { x }, tol, { shaderF16 });

/** Floats near 1, so long products neither overflow nor vanish. */
const nearOne = (dtype: DType, shape: readonly number[], seed: number): Tensor => {
  const r = rng(seed);
  return makeTensor(dtype, shape, () => 0.9 + 0.2 * r());
};

/** Small integers (-3..3), so products wrap quickly. */
const smallInts = (dtype: DType, shape: readonly number[], seed: number): Tensor => {
  const r = rng(seed);
  return makeTensor(dtype, shape, () => Math.floor(r() * 7) - 3);
};

describe('ReduceProd on the adapter', () => {
  it('axes sets of ragged shapes (keepdims 0/1, negative axes)', async () => {
    const cases: [number[], number[]][] = [[[257], [0]], [[13, 9], [1]], [[13, 9], [0]], [[5, 6, 7], [0, 2]], [[3, 5, 4, 7], [-1, -3]], [[3, 5, 4, 7], [1, 2]]];
    for (const [k, [shape, axes]] of cases.entries()) await check(nearOne('f32', shape, k), [['ReduceProd', { axes, keepdims: k % 2 }]]);
  });

  it('long rows (the split path) and many short rows', async () => {
    // 10000 factors of 0.9..1.1: f32's rounding at each step compounds to ~1e-5 relative.
    await check(nearOne('f32', [3, 10000], 1), [['ReduceProd', { axes: [1] }]], { rtol: 1e-3, atol: 0 });
    await check(nearOne('f32', [2, 300000], 2), [['ReduceProd', { axes: [1], keepdims: 0 }]], { rtol: 1e-3, atol: 0 });
    await check(nearOne('f32', [6000, 3], 3), [['ReduceProd', { axes: [-1] }]]);
    await check(nearOne('f32', [20000, 5], 4), [['ReduceProd', { axes: [0] }]], { rtol: 1e-3, atol: 0 });
  });

  it('integer products wrap exactly (i32, u32, i8), split or not', async () => {
    for (const [k, dtype] of (['i32', 'u32', 'i8'] as const).entries()) {
      const x = dtype === 'u32' ? makeTensor('u32', [4, 999], (i) => (i * 2654435761) % 2 ** 32) : smallInts(dtype, [4, 999], k);
      await check(x, [['ReduceProd', { axes: [1] }], ['ReduceProd', { axes: [0], keepdims: 0 }]], EXACT);
    }
    await check(smallInts('i32', [2, 70000], 9), [['ReduceProd', { axes: [1] }]], EXACT);
  });

  it('empty reductions give 1; an empty output compiles and runs', async () => {
    await check(makeTensor('f32', [2, 0, 4], []), [['ReduceProd', { axes: [1] }], ['ReduceSum', { axes: [1], keepdims: 0 }], ['ReduceMax', { axes: [1] }]], EXACT);
    await check(makeTensor('f32', [3, 4, 0], []), [['ReduceProd', { axes: [1] }], ['ReduceSum', { axes: [1] }]], EXACT);
  });

  it('NaN, infinities and signed zeros', async () => {
    const x = makeTensor('f32', [4, 3], [2, NaN, 3, 0, Infinity, 1, -0, 5, 2, -Infinity, -1, 0.5]);
    await check(x, [['ReduceProd', { axes: [1] }]], EXACT);
  });

  it.each([true, false])('f16 (shader-f16: %s)', async (shaderF16) => {
    await check(nearOne('f16', [6, 130], 5), [['ReduceProd', { axes: [1] }]], { rtol: 5e-3, atol: 0 }, shaderF16);
  });
});

describe('CumProd on the adapter', () => {
  it('every axis, exclusive and reverse, ragged and long lines', async () => {
    const shapes = [[257], [13, 9], [5, 6, 7], [3, 300], [2, 3000]];
    for (const [k, shape] of shapes.entries()) {
      const ops = shape.map((_, axis): [string, Attrs] => ['CumProd', { axis: axis - (k % 2 ? shape.length : 0), exclusive: (k + axis) % 2, reverse: ((k + axis) >> 1) % 2 }]);
      await check(nearOne('f32', shape, k), ops, { rtol: 1e-3, atol: 0 });
    }
  });

  it('integers exactly, with wrap-around', async () => {
    await check(smallInts('i32', [7, 257], 3), [['CumProd', { axis: 1 }], ['CumProd', { axis: 0, exclusive: 1, reverse: 1 }]], EXACT);
  });
});

describe('LpPool on the adapter', () => {
  it('random windows over 1-3 spatial dims, p 1, 2 and 3', async () => {
    const arb = fc.integer({ min: 1, max: 3 }).chain((n) =>
      fc.record({
        shape: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 5, max: n === 3 ? 6 : 9 }), { minLength: n, maxLength: n })),
        kernel: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n }),
        strides: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: n, maxLength: n }),
        dilations: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: n, maxLength: n }),
        pads: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 2 * n, maxLength: 2 * n }),
        ceil: fc.constantFrom(0, 1),
        p: fc.constantFrom(1, 2, 3),
        seed: fc.integer({ min: 0, max: 1000 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ shape: [n, c, spatial], kernel, strides, dilations, pads, ceil, p, seed }) => {
        const attrs = { kernel_shape: kernel, strides, dilations, pads, ceil_mode: ceil, p };
        await check(randomTensor('f32', [n, c, ...spatial], seed, { edges: 0 }), [['LpPool', attrs]], { rtol: 1e-4, atol: 1e-5 });
      }),
      { numRuns: 12 },
    );
  });
});

// ---- importer decompositions -------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

interface OnnxCase {
  readonly outputs?: readonly string[];
  readonly tol?: { rtol: number; atol: number };
}

/** Import a one-node ONNX model (i32 inputs declared int64) and check it on the adapter. */
async function checkOnnx(opset: number, op: string, inputs: Record<string, Tensor>, attrs: Record<string, Obj>, c: OnnxCase = {}): Promise<void> {
  const onnxType = (t: Tensor): number => (t.dtype === 'i32' ? DT.INT64 : DT.FLOAT);
  const outputs = c.outputs ?? ['y'];
  const bytes = encodeModel(
    model({
      opset,
      nodes: [node(op, Object.keys(inputs), outputs, attrs)],
      inputs: Object.entries(inputs).map(([name, t]) => valueInfo(name, onnxType(t), t.shape)),
      outputs: outputs.map((o) => valueInfo(o, DT.FLOAT)),
    }),
  );
  await expectGpuMatchesInterpreter(importOnnx(bytes).graph, inputs, c.tol ?? F32);
}

const values = (shape: readonly number[], seed: number, range = 3): Tensor => randomTensor('f32', shape, seed, { edges: 0, range });

describe('importer decompositions on the adapter', () => {
  it('LRN (opset 9 and 13): odd and even sizes, ragged channel counts', async () => {
    await checkOnnx(9, 'LRN', { x: values([2, 7, 5, 6], 1) }, { size: attrInt(3), alpha: attrFloat(2e-3), beta: attrFloat(0.75), bias: attrFloat(1) });
    await checkOnnx(13, 'LRN', { x: values([1, 13, 4, 3], 2) }, { size: attrInt(4), alpha: attrFloat(0.02), beta: attrFloat(0.5), bias: attrFloat(2) });
    await checkOnnx(13, 'LRN', { x: values([3, 5, 9], 3) }, { size: attrInt(5) });
  });

  it('LpNormalization, GlobalLpPool and MeanVarianceNormalization', async () => {
    const x = values([3, 5, 7, 4], 4);
    await checkOnnx(22, 'LpNormalization', { x }, { axis: attrInt(1), p: attrInt(1) });
    await checkOnnx(7, 'LpNormalization', { x }, {});
    for (const p of [1, 2, 3]) await checkOnnx(7 + p, 'GlobalLpPool', { x }, { p: attrInt(p) }, { tol: { rtol: 2e-4, atol: 1e-5 } });
    await checkOnnx(9, 'MeanVarianceNormalization', { x }, {});
    await checkOnnx(13, 'MeanVarianceNormalization', { x }, { axes: attrInts([1, 3]) });
  });

  it('InstanceNormalization and GroupNormalization (per-group scale in 18, per-channel in 21)', async () => {
    const x = values([2, 6, 9, 7], 5);
    await checkOnnx(7, 'InstanceNormalization', { x, s: values([6], 6), b: values([6], 7) }, { epsilon: attrFloat(1e-3) });
    await checkOnnx(22, 'InstanceNormalization', { x: values([2, 3, 257], 8), s: values([3], 9), b: values([3], 10) }, {});
    await checkOnnx(18, 'GroupNormalization', { x, s: values([3], 11), b: values([3], 12) }, { num_groups: attrInt(3) });
    await checkOnnx(21, 'GroupNormalization', { x, s: values([6], 13), b: values([6], 14) }, { num_groups: attrInt(2), epsilon: attrFloat(1e-2) });
  });

  it('ReduceLogSumExp: large values, rows of -inf, +inf, and an empty set', async () => {
    const x = makeTensor('f32', [4, 5], [1e4, 1e4 + 1, -1e4, 0, 3, ...Array(5).fill(-Infinity), -Infinity, Infinity, 0, 1, 2, 1, 2, 3, 4, 5]);
    await checkOnnx(13, 'ReduceLogSumExp', { x }, { axes: attrInts([1]), keepdims: attrInt(0) });
    await checkOnnx(13, 'ReduceLogSumExp', { x: makeTensor('f32', [2, 0, 4], []) }, { axes: attrInts([1]) }, { tol: EXACT });
  });

  it('NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: reductions, weights, ignore_index, extra dims', async () => {
    const scores = values([3, 5, 4, 3], 15);
    const target = makeTensor('i32', [3, 4, 3], (i) => (i * 7) % 5);
    const weight = randomTensor('f32', [5], 16, { edges: 0, range: 1 });
    for (const reduction of ['none', 'sum', 'mean']) {
      await checkOnnx(22, 'NegativeLogLikelihoodLoss', { scores, target, weight }, { reduction: attrString(reduction), ignore_index: attrInt(2) });
      await checkOnnx(13, 'SoftmaxCrossEntropyLoss', { scores, target }, { reduction: attrString(reduction) }, { outputs: ['loss', 'log_prob'] });
    }
  });

  it('Pad with a constant_value computed at run time', async () => {
    // Inputs x, v and initializer pads, in the node's order x, pads, v.
    const bytes = encodeModel(
      model({
        opset: 18,
        nodes: [node('Pad', ['x', 'pads', 'v'], ['y'], { mode: attrString('constant') })],
        inputs: [valueInfo('x', DT.FLOAT, [3, 4, 5]), valueInfo('v', DT.FLOAT, [])],
        outputs: [valueInfo('y', DT.FLOAT)],
        initializers: [i64Tensor('pads', [6], [1, 0, 2, 0, 2, -1])],
      }),
    );
    await expectGpuMatchesInterpreter(importOnnx(bytes).graph, { x: values([3, 4, 5], 17), v: values([], 18) }, EXACT);
  });
});
