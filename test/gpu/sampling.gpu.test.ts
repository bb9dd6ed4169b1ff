// The spatial-sampling kernels compiled through the real compiler and runtime, against the interpreter (itself
// checked against ONNX's conformance cases and test/ir/ops-sampling.test.ts): GridSample in every mode, padding
// and alignment, 1-D to 3-D, with grids reaching well past the borders; RoiAlign (avg/max, both coordinate
// modes, fixed and adaptive sampling); MaxUnpool with and without an output shape; Col2Im with strides,
// dilations and pads; DeformConv with groups, offset groups, masks and bias. Ragged sizes throughout. Last, the
// importer's per-version rules (AffineGrid's decomposition included), imported from ONNX and run here too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { type Attrs, type DType, GraphBuilder, type Tensor, interpret, makeTensor, tensorType } from '../../ir/index.js';
import { DT, attrInt, attrInts, attrString, encodeModel, i64Tensor, model, node, valueInfo } from '../../scripts/lib/onnx-build.js';
import { randomTensor, rng } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);

async function check(op: string, inputs: Record<string, Tensor | undefined>, attrs: Attrs, dtype: DType = 'f32', shaderF16 = false): Promise<void> {
  const b = new GraphBuilder(op.toLowerCase());
  const given = Object.entries(inputs);
  const refs = given.map(([name, t]) => (t ? b.input(name, tensorType(t.dtype, t.shape)) : ''));
  b.output(b.op(op, refs, attrs));
  const fed = Object.fromEntries(given.filter((e): e is [string, Tensor] => e[1] !== undefined));
  const tol = dtype === 'f32' ? { rtol: 2e-5, atol: 2e-5 } : { rtol: 4e-3, atol: 4e-3 };
  await expectGpuMatchesInterpreter(b.build(), fed, tol, { shaderF16 });
}

/** Uniform floats in [lo, hi]. */
const uniform = (shape: number[], seed: number, lo: number, hi: number, dtype: DType = 'f32'): Tensor => {
  const r = rng(seed);
  return makeTensor(dtype, shape, () => lo + (hi - lo) * r());
};

describe('GridSample on the adapter vs the interpreter', () => {
  const arbCase = fc.record({
    dims: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    inSize: fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 3, maxLength: 3 }),
    outSize: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 3, maxLength: 3 }),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  const cases = (['linear', 'nearest', 'cubic'] as const).flatMap((mode) =>
    (['zeros', 'border', 'reflection'] as const).flatMap((padding_mode) => [0, 1].map((align_corners) => [mode, padding_mode, align_corners] as const)),
  );
  it.each(cases)('%s, %s padding, align_corners=%i', (mode, padding_mode, align_corners) =>
    fc.assert(
      fc.asyncProperty(arbCase, async ({ dims, n, c, inSize, outSize, seed }) => {
        const nd = mode === 'cubic' ? 2 : dims;
        const x = randomTensor('f32', [n, c, ...inSize.slice(0, nd)], seed, { edges: 0 });
        // Grid values past [-1, 1] exercise the padding modes, reflection several folds deep.
        const grid = uniform([n, ...outSize.slice(0, nd), nd], seed + 1, -2.7, 2.7);
        await check('GridSample', { x, grid }, { mode, padding_mode, align_corners });
      }),
      { numRuns: 2 * RUNS },
    ),
  );

  it('f16 data and grid, with and without shader-f16', async () => {
    const x = randomTensor('f16', [2, 3, 5, 6], 3, { edges: 0 });
    const grid = uniform([2, 4, 7, 2], 4, -1.3, 1.3, 'f16');
    await check('GridSample', { x, grid }, { mode: 'linear', padding_mode: 'border' }, 'f16');
    await check('GridSample', { x, grid }, { mode: 'cubic', padding_mode: 'reflection', align_corners: 1 }, 'f16', true);
  });
});

describe('RoiAlign on the adapter vs the interpreter', () => {
  const arbCase = fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    rois: fc.integer({ min: 1, max: 4 }),
    out: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    sampling: fc.integer({ min: 0, max: 3 }),
    scale: fc.constantFrom(0.5, 1, 1.25),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  const cases = (['avg', 'max'] as const).flatMap((mode) => (['half_pixel', 'output_half_pixel'] as const).map((ct) => [mode, ct] as const));
  it.each(cases)('%s, %s', (mode, coordinate_transformation_mode) =>
    fc.assert(
      fc.asyncProperty(arbCase, async ({ n, c, h, w, rois, out, sampling, scale, seed }) => {
        const x = randomTensor('f32', [n, c, h, w], seed, { edges: 0 });
        // Corners may leave the image and come in either order (degenerate regions).
        const boxes = uniform([rois, 4], seed + 1, -2, Math.max(h, w) / scale + 2);
        const r = rng(seed + 2);
        const batch = makeTensor('i32', [rois], () => Math.floor(r() * n));
        const attrs = { mode, coordinate_transformation_mode, output_height: out[0], output_width: out[1], sampling_ratio: sampling, spatial_scale: scale };
        await check('RoiAlign', { x, boxes, batch }, attrs);
      }),
      { numRuns: 3 * RUNS },
    ),
  );
});

describe('MaxUnpool on the adapter vs the interpreter', () => {
  const arbCase = fc.record({
    lead: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 })),
    spatial: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
    kernel: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 3 }),
    grow: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  it('indices into the unpooled shape, with and without a larger output_shape', () =>
    fc.assert(
      fc.asyncProperty(arbCase, async ({ lead, spatial, kernel, stride, grow, seed }) => {
        const shape = [...lead, ...spatial];
        const unpooled = [...lead, ...spatial.map((s) => (s - 1) * stride + kernel)];
        const total = unpooled.reduce((a, b) => a * b, 1);
        const count = shape.reduce((a, b) => a * b, 1);
        // Distinct positions (a random subset of the unpooled elements), some left empty.
        const r = rng(seed);
        const order = Array.from({ length: total }, (_, i) => i).sort(() => r() - 0.5);
        const indices = makeTensor('i32', shape, order.slice(0, count));
        const x = randomTensor('f32', shape, seed + 1, { edges: 0 });
        const attrs: Attrs = {
          kernel_shape: spatial.map(() => kernel),
          strides: spatial.map(() => stride),
          ...(grow ? { output_shape: unpooled.map((d, i) => (i < 2 ? d : d + (i % 2))) } : {}),
        };
        await check('MaxUnpool', { x, indices }, attrs);
      }),
      { numRuns: 4 * RUNS },
    ));

  it('f16 values (packed without shader-f16)', async () => {
    const x = randomTensor('f16', [1, 2, 3, 3], 5, { edges: 0 });
    const indices = makeTensor('i32', [1, 2, 3, 3], (i) => (i * 7) % 50);
    await check('MaxUnpool', { x, indices }, { kernel_shape: [2, 2], strides: [2, 2] }, 'f16');
  });
});

describe('Col2Im on the adapter vs the interpreter', () => {
  const arbCase = fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    c: fc.integer({ min: 1, max: 3 }),
    dims: fc.array(fc.record({ image: fc.integer({ min: 1, max: 7 }), block: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 3 }), dilation: fc.integer({ min: 1, max: 2 }), pad: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })) }), { minLength: 1, maxLength: 3 }),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  it('strides, dilations and pads in 1 to 3 dims', () =>
    fc.assert(
      fc.asyncProperty(arbCase, async ({ n, c, dims, seed }) => {
        const blocks = dims.map((d) => Math.floor((d.image + d.pad[0] + d.pad[1] - d.dilation * (d.block - 1) - 1) / d.stride) + 1);
        fc.pre(blocks.every((b) => b >= 1));
        const k = dims.reduce((a, d) => a * d.block, 1);
        const x = randomTensor('f32', [n, c * k, blocks.reduce((a, b) => a * b, 1)], seed, { edges: 0 });
        const attrs = {
          image_shape: dims.map((d) => d.image),
          block_shape: dims.map((d) => d.block),
          strides: dims.map((d) => d.stride),
          dilations: dims.map((d) => d.dilation),
          pads: [...dims.map((d) => d.pad[0]), ...dims.map((d) => d.pad[1])],
        };
        await check('Col2Im', { x }, attrs);
      }),
      { numRuns: 4 * RUNS },
    ));
});

describe('DeformConv on the adapter vs the interpreter', () => {
  const arbCase = fc.record({
    n: fc.integer({ min: 1, max: 2 }),
    group: fc.constantFrom(1, 2),
    offsetGroup: fc.constantFrom(1, 2),
    cpg: fc.integer({ min: 1, max: 2 }),
    opg: fc.integer({ min: 1, max: 2 }),
    hw: fc.tuple(fc.integer({ min: 2, max: 7 }), fc.integer({ min: 2, max: 7 })),
    k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.integer({ min: 1, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    pad: fc.integer({ min: 0, max: 1 }),
    bias: fc.boolean(),
    mask: fc.boolean(),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  it('groups, offset groups, strides, dilations, pads, mask and bias', () =>
    fc.assert(
      fc.asyncProperty(arbCase, async ({ n, group, offsetGroup, cpg, opg, hw, k, stride, dilation, pad, bias, mask, seed }) => {
        const c = group * offsetGroup * cpg;
        const oc = group * opg;
        const out = [0, 1].map((d) => Math.floor((hw[d]! + 2 * pad - dilation * (k[d]! - 1) - 1) / stride) + 1);
        fc.pre(out.every((o) => o >= 1));
        const taps = k[0] * k[1];
        const inputs: Record<string, Tensor | undefined> = {
          x: randomTensor('f32', [n, c, ...hw], seed, { edges: 0 }),
          w: randomTensor('f32', [oc, c / group, ...k], seed + 1, { edges: 0, range: 1 }),
          offset: uniform([n, offsetGroup * taps * 2, ...out], seed + 2, -2.5, 2.5),
          b: bias ? randomTensor('f32', [oc], seed + 3, { edges: 0 }) : undefined,
          mask: mask ? uniform([n, offsetGroup * taps, ...out], seed + 4, 0, 1) : undefined,
        };
        const attrs = { group, offset_group: offsetGroup, strides: [stride, stride], dilations: [dilation, dilation], pads: [pad, pad, pad, pad] };
        await check('DeformConv', inputs, attrs);
      }),
      { numRuns: 4 * RUNS },
    ));
});

describe('importer rules, per ONNX version, on the adapter', () => {
  type Obj = Record<string, unknown>;
  const onnxType = (t: Tensor): number => (t.dtype === 'i32' ? DT.INT32 : DT.FLOAT);
  const importOne = (opset: number, op: string, names: string[], attrs: Record<string, Obj>, inputs: Record<string, Tensor>, inits: Obj[] = []) =>
    importOnnx(
      encodeModel(
        model({
          opset,
          nodes: [node(op, names, ['y'], attrs)],
          inputs: Object.entries(inputs).map(([n, t]) => valueInfo(n, onnxType(t), t.shape)),
          outputs: [valueInfo('y', DT.FLOAT)],
          initializers: inits,
        }),
      ),
    ).graph;
  /** Import, check the GPU against the interpreter, and return the interpreter's output. */
  async function both(opset: number, op: string, names: string[], attrs: Record<string, Obj>, inputs: Record<string, Tensor>, inits: Obj[] = []): Promise<Tensor> {
    const graph = importOne(opset, op, names, attrs, inputs, inits);
    await expectGpuMatchesInterpreter(graph, inputs, { rtol: 2e-5, atol: 2e-5 });
    return interpret(graph, inputs)[graph.outputs[0]!]!;
  }
  const dynamicValue = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      if (e instanceof OnnxUnsupportedError && e.category === 'dynamic') return e.value;
      throw e;
    }
    return undefined;
  };

  it('AffineGrid: theta applied to the base coordinates (x innermost), with and without align_corners', async () => {
    const identity = makeTensor('f32', [1, 2, 3], [1, 0, 0, 0, 1, 0]);
    const size = [i64Tensor('size', [4], [1, 1, 2, 3])];
    const plain = await both(20, 'AffineGrid', ['theta', 'size'], {}, { theta: identity }, size);
    const third = 2 / 3;
    const round = (v: number): number => Math.round(v * 1e6) / 1e6 + 0; // + 0: -1 + 1/3 + 2/3 rounds to -0
    expect([...plain.data].map(round)).toEqual([-third, -0.5, 0, -0.5, third, -0.5, -third, 0.5, 0, 0.5, third, 0.5].map(round));
    const aligned = await both(20, 'AffineGrid', ['theta', 'size'], { align_corners: attrInt(1) }, { theta: identity }, size);
    expect([...aligned.data]).toEqual([-1, -1, 0, -1, 1, -1, -1, 1, 0, 1, 1, 1]);
    // A general 3-D theta against the formula.
    const theta = uniform([2, 3, 4], 7, -1, 1);
    const grid = await both(20, 'AffineGrid', ['theta', 'size'], {}, { theta }, [i64Tensor('size', [5], [2, 1, 3, 2, 4])]);
    const at = (n: number, d: number, h: number, w: number, i: number): number => grid.data[(((n * 3 + d) * 2 + h) * 4 + w) * 3 + i]!;
    const base = [-1 + 1 / 4 + 3 * (2 / 4), -1 + 1 / 2 + 1, -1 + 1 / 3 + 2 * (2 / 3), 1];
    for (let i = 0; i < 3; i++) expect(at(1, 2, 1, 3, i)).toBeCloseTo(base.reduce((s, b, j) => s + theta.data[(1 * 3 + i) * 4 + j]! * b, 0), 5);
  });

  it('GridSample 16 names its modes bilinear/bicubic and is 2-D only', async () => {
    const x = randomTensor('f32', [1, 2, 4, 5], 1, { edges: 0 });
    const grid = uniform([1, 3, 3, 2], 2, -1.2, 1.2);
    const v16 = await both(16, 'GridSample', ['x', 'g'], { mode: attrString('bicubic') }, { x, g: grid });
    const v20 = await both(20, 'GridSample', ['x', 'g'], { mode: attrString('cubic') }, { x, g: grid });
    expect([...v16.data]).toEqual([...v20.data]);
    const volume = { x: randomTensor('f32', [1, 1, 2, 2, 2], 3), g: uniform([1, 1, 1, 1, 3], 4, -1, 1) };
    expect(() => importOne(16, 'GridSample', ['x', 'g'], {}, volume)).toThrow('GridSample (opset 16) takes a 4-D X, got rank 5');
  });

  it('RoiAlign 10 maps coordinates as output_half_pixel; 16 defaults to half_pixel', async () => {
    const inputs = { x: makeTensor('f32', [1, 1, 4, 4], (i) => i % 4), rois: makeTensor('f32', [1, 4], [0, 0, 4, 4]), b: makeTensor('i32', [1], [0]) };
    const attrs = { sampling_ratio: attrInt(1) };
    expect([...(await both(10, 'RoiAlign', ['x', 'rois', 'b'], attrs, inputs)).data]).toEqual([2]);
    expect([...(await both(16, 'RoiAlign', ['x', 'rois', 'b'], attrs, inputs)).data]).toEqual([1.5]);
  });

  it('MaxUnpool output_shape and Col2Im image/block shapes must be known: a run-time one is named', () => {
    const x = makeTensor('f32', [1, 1, 2, 2], [1, 2, 3, 4]);
    const idx = makeTensor('i32', [1, 1, 2, 2], [0, 3, 8, 15]);
    const shape = makeTensor('i32', [4], [1, 1, 4, 4]);
    const pool = { kernel_shape: attrInts([2, 2]), strides: attrInts([2, 2]) };
    expect(dynamicValue(() => importOne(11, 'MaxUnpool', ['x', 'i', 'output_shape'], pool, { x, i: idx, output_shape: shape }))).toBe('output_shape');
    const cols = makeTensor('f32', [1, 4, 4], (i) => i);
    expect(dynamicValue(() => importOne(18, 'Col2Im', ['c', 'image', 'block'], {}, { c: cols, image: makeTensor('i32', [2], [3, 3]) }, [i64Tensor('block', [2], [2, 2])]))).toBe('image');
  });
});
