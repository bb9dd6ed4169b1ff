// Conv and ConvTranspose on the adapter against the interpreter, through the real compiler and runtime. Every
// attribute combination runs on small shapes on both kernel paths: implicit GEMM (enough filters per group) and
// direct (few filters, depthwise). 1-D and 3-D share the generator. The epilogue (bias, then Relu) is tested on a
// spec directly. Inputs in [-1, 1]; rtol 1e-4, atol 1e-5.
import { describe, expect, it } from 'vitest';
import { compileKernel } from '../../compiler/kernel-spec.js';
import { conv, convSpec, opAttrs } from '../../compiler/kernels/conv.js';
import { type Attrs, GraphBuilder, type Tensor, makeTensor, tensorType, toleranceExcess } from '../../ir/index.js';
import { oracle, randomTensor } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';
import { runKernel, testGpu } from './harness.js';

const TOL = { rtol: 1e-4, atol: 1e-5 };
let seed = 100;

async function check(op: 'Conv' | 'ConvTranspose', x: readonly number[], w: readonly number[], attrs: Attrs, bias = true): Promise<void> {
  const b = new GraphBuilder(op);
  const filters = op === 'Conv' ? w[0]! : w[1]! * Number(attrs.group ?? 1);
  const shapes: Record<string, readonly number[]> = { x, w, ...(bias ? { b: [filters] } : {}) };
  const inputs: Record<string, Tensor> = {};
  const names = Object.entries(shapes).map(([name, shape]) => {
    inputs[name] = randomTensor('f32', shape, seed++, { range: 1, edges: 0 });
    return b.input(name, tensorType('f32', shape));
  });
  b.output(b.op(op, names, attrs));
  await expectGpuMatchesInterpreter(b.build(), inputs, TOL);
}

/** Attribute combinations for 2-D windows (kernel 3x3 unless noted). */
const ATTRS_2D: readonly Attrs[] = [
  {},
  { pads: [1, 1, 1, 1] },
  { pads: [0, 1, 2, 1], strides: [2, 1] },
  { dilations: [2, 1], strides: [1, 2], pads: [1, 0, 1, 2] },
  { auto_pad: 'SAME_UPPER', strides: [2, 2] },
  { auto_pad: 'SAME_LOWER', strides: [2, 1], dilations: [1, 2] },
  { auto_pad: 'VALID', strides: [3, 2] },
];

describe('Conv 2-D', () => {
  for (const attrs of ATTRS_2D) {
    const name = JSON.stringify(attrs);
    it(`implicit GEMM ${name}`, async () => {
      await check('Conv', [2, 8, 11, 13], [20, 8, 3, 3], attrs);
    });
    it(`direct ${name}`, async () => {
      await check('Conv', [1, 3, 10, 9], [5, 3, 3, 3], attrs, false);
    });
  }

  it('groups: implicit GEMM (2 groups) and direct (4 groups)', async () => {
    await check('Conv', [1, 16, 9, 10], [32, 8, 3, 3], { group: 2, pads: [1, 1, 1, 1] });
    await check('Conv', [2, 8, 7, 6], [8, 2, 3, 3], { group: 4, strides: [2, 2], pads: [1, 0, 0, 1] });
  });

  it('depthwise, with a channel multiplier, and 5x5 with dilation', async () => {
    await check('Conv', [1, 12, 10, 11], [12, 1, 3, 3], { group: 12, pads: [1, 1, 1, 1] });
    await check('Conv', [2, 6, 9, 9], [12, 1, 3, 3], { group: 6, strides: [2, 2], auto_pad: 'SAME_UPPER' });
    await check('Conv', [1, 4, 12, 12], [4, 1, 5, 5], { group: 4, dilations: [2, 2], pads: [4, 4, 4, 4] }, false);
  });

  it('pointwise (1x1) and a 64x64-tile problem', async () => {
    await check('Conv', [1, 40, 7, 9], [48, 40, 1, 1], {});
    await check('Conv', [1, 32, 16, 16], [64, 32, 3, 3], { pads: [1, 1, 1, 1] });
  });
});

describe('Conv 1-D and 3-D', () => {
  it('1-D on both paths', async () => {
    await check('Conv', [2, 4, 20], [6, 4, 5], { pads: [2, 1], strides: [2] });
    await check('Conv', [1, 16, 40], [24, 16, 3], { dilations: [2], auto_pad: 'SAME_LOWER' });
  });
  it('3-D on both paths', async () => {
    await check('Conv', [1, 2, 5, 6, 7], [4, 2, 3, 3, 3], { pads: [1, 1, 1, 1, 1, 1] });
    await check('Conv', [1, 4, 6, 6, 5], [16, 4, 2, 3, 3], { strides: [1, 2, 1], pads: [0, 1, 1, 1, 0, 1] });
  });
});

describe('ConvTranspose', () => {
  it('2-D: strides, pads, output_padding, dilations (direct and GEMM)', async () => {
    await check('ConvTranspose', [1, 4, 5, 6], [4, 3, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 0] });
    await check('ConvTranspose', [2, 16, 6, 7], [16, 16, 3, 3], { strides: [2, 3], pads: [1, 0, 0, 1], output_padding: [1, 2] });
    await check('ConvTranspose', [1, 16, 5, 5], [16, 20, 3, 2], { dilations: [2, 1], pads: [0, 1, 1, 0] }, false);
  });

  it('2-D: output_shape with SAME_UPPER / SAME_LOWER / explicit pads, and groups', async () => {
    await check('ConvTranspose', [1, 4, 5, 6], [4, 3, 3, 3], { strides: [2, 2], output_shape: [10, 12], auto_pad: 'SAME_UPPER' });
    await check('ConvTranspose', [1, 4, 5, 6], [4, 3, 4, 3], { strides: [2, 2], output_shape: [11, 13], auto_pad: 'SAME_LOWER' });
    await check('ConvTranspose', [1, 4, 5, 5], [4, 3, 3, 3], { strides: [2, 2], output_shape: [10, 10], pads: [1, 1, 1, 1] });
    await check('ConvTranspose', [1, 32, 6, 6], [32, 8, 3, 3], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1] });
  });

  it('1-D and 3-D', async () => {
    await check('ConvTranspose', [1, 4, 9], [4, 2, 4], { strides: [3], pads: [1, 2] });
    await check('ConvTranspose', [1, 16, 20], [16, 24, 3], { strides: [2], output_padding: [1] });
    await check('ConvTranspose', [1, 2, 3, 4, 3], [2, 3, 2, 3, 2], { strides: [2, 1, 2], pads: [0, 1, 0, 1, 0, 1] });
  });
});

describe('conv epilogue (spec level)', () => {
  it('bias then Relu on both paths', async () => {
    const gpu = await testGpu();
    for (const filters of [4, 24]) {
      const x = randomTensor('f32', [1, 6, 9, 8], seed++, { range: 1, edges: 0 });
      const w = randomTensor('f32', [filters, 6, 3, 3], seed++, { range: 1, edges: 0 });
      const bias = randomTensor('f32', [filters], seed++, { range: 1, edges: 0 });
      const attrs = { pads: [1, 1, 1, 1] };
      const want = oracle('Conv', [x, w, bias], attrs);
      const spec = convSpec(
        { shaderF16: false },
        { x: { dtype: 'f32', shape: x.shape }, w: { dtype: 'f32', shape: w.shape }, bias: { dtype: 'f32', shape: [filters] }, out: { dtype: 'f32', shape: want.shape } },
        opAttrs('Conv', attrs),
        { epilogue: [{ op: 'Relu', attrs: {}, operands: [] }] },
      );
      expect(spec.path.kind).toBe(filters === 4 ? 'direct' : 'gemm');
      const [got] = await runKernel(gpu, compileKernel(conv, spec), [x, w, bias]);
      const relu = makeTensor('f32', want.shape, (i) => Math.max(0, want.data[i]!));
      expect(toleranceExcess(got!, relu, 1e-4, 1e-5)).toBe(0);
    }
  });
});
