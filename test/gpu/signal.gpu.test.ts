// DFT and STFT imported from ONNX and compiled through the real compiler and runtime (a MatMul with a constant
// basis, moved and reshaped around it), against the interpreter, which test/import/signal.test.ts checks
// against a float64 DFT. Random ragged shapes and axes, dft_length padding and truncation, real and complex
// signals, inverse, onesided and irfft; STFT with a folded, a run-time and no window; f16 signals.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { importOnnx } from '../../ir/import/onnx/index.js';
import type { Tensor } from '../../ir/tensor.js';
import { DT, attrInt, encodeModel, i64Tensor, model, node, tensor, valueInfo } from '../../scripts/lib/onnx-build.js';
import { randomTensor } from './data.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

type Obj = Record<string, unknown>;
const RUNS = Number(process.env.KILN_GPU_RUNS ?? 1);
const TOL = { rtol: 1e-4, atol: 2e-4 };

async function check(opset: number, op: string, inputNames: string[], attrs: Record<string, Obj>, inputs: Record<string, Tensor>, initializers: Obj[], tol = TOL): Promise<void> {
  const type = (t: Tensor): number => (t.dtype === 'f16' ? DT.FLOAT16 : DT.FLOAT);
  const bytes = encodeModel(
    model({
      opset,
      nodes: [node(op, inputNames, ['y'], attrs)],
      inputs: Object.entries(inputs).map(([n, t]) => valueInfo(n, type(t), t.shape)),
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers,
    }),
  );
  await expectGpuMatchesInterpreter(importOnnx(bytes).graph, inputs, tol);
}

describe('DFT on the adapter vs the interpreter', () => {
  const arbCase = fc.record({
    dims: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
    parts: fc.constantFrom(1, 2),
    axisPick: fc.nat(),
    n: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    kind: fc.constantFrom('forward', 'inverse', 'rfft', 'irfft'),
    opset: fc.constantFrom(17, 20),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  it('random shapes, axes, lengths and directions', () =>
    fc.assert(
      fc.asyncProperty(arbCase, async ({ dims, parts, axisPick, n, kind, opset, seed }) => {
        const axis = axisPick % dims.length;
        fc.pre(kind !== 'irfft' || n !== undefined || dims[axis]! > 1);
        const x = randomTensor('f32', [...dims, parts], seed, { edges: 0 });
        const attrs: Record<string, Obj> = {};
        if (kind === 'inverse' || kind === 'irfft') attrs.inverse = attrInt(1);
        if (kind === 'rfft' || kind === 'irfft') attrs.onesided = attrInt(1);
        const names = ['x', n === undefined ? '' : 'len'];
        const inits: Obj[] = n === undefined ? [] : [i64Tensor('len', [], [n])];
        if (opset === 17) attrs.axis = attrInt(axis);
        else {
          names.push('axis');
          inits.push(i64Tensor('axis', [], [axis - dims.length - 1]));
        }
        await check(opset, 'DFT', names, attrs, { x }, inits);
      }),
      { numRuns: 8 * RUNS },
    ));

  it('a long transform along a middle axis, and f16 signals', async () => {
    await check(20, 'DFT', ['x', '', 'axis'], {}, { x: randomTensor('f32', [3, 67, 5, 2], 1, { edges: 0 }) }, [i64Tensor('axis', [], [1])], { rtol: 1e-4, atol: 1e-3 });
    const half = randomTensor('f16', [2, 12, 1], 2, { edges: 0, range: 2 });
    await check(20, 'DFT', ['x'], { onesided: attrInt(1) }, { x: half }, [], { rtol: 4e-3, atol: 2e-2 });
  });
});

describe('STFT on the adapter vs the interpreter', () => {
  const arbCase = fc.record({
    batch: fc.integer({ min: 1, max: 3 }),
    length: fc.integer({ min: 8, max: 70 }),
    frame: fc.integer({ min: 2, max: 16 }),
    step: fc.integer({ min: 1, max: 9 }),
    parts: fc.constantFrom(1, 2),
    window: fc.constantFrom('none', 'constant', 'input'),
    onesided: fc.constantFrom(0, 1),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  it('frames, windows and onesided spectra', () =>
    fc.assert(
      fc.asyncProperty(arbCase, async ({ batch, length, frame, step, parts, window, onesided, seed }) => {
        fc.pre(frame <= length);
        const x = randomTensor('f32', [batch, length, parts], seed, { edges: 0 });
        const w = randomTensor('f32', [frame], seed + 1, { edges: 0, range: 1 });
        const inputs: Record<string, Tensor> = { x };
        const inits: Obj[] = [i64Tensor('step', [], [step])];
        let names = ['x', 'step', '', 'len'];
        if (window === 'none') inits.push(i64Tensor('len', [], [frame]));
        else {
          names = ['x', 'step', 'w'];
          if (window === 'input') inputs.w = w;
          else inits.push(tensor('w', DT.FLOAT, [frame], { float_data: [...w.data] }));
        }
        await check(17, 'STFT', names, { onesided: attrInt(onesided) }, inputs, inits);
      }),
      { numRuns: 5 * RUNS },
    ));
});
