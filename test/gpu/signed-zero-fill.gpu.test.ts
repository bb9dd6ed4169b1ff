// A fill value of -0 keeps its sign on the adapter. Found by movement.gpu.test.ts's random Pad cases in CI: lavapipe
// folds the WGSL literals `(-0.0h)` and `(-0.0f)` to +0, so Pad(x, value = -0) wrote +0 where the interpreter has
// -0. The WGSL printer now builds -0 from its bits (compiler/wgsl/print.ts), as it does for inf and NaN.
import { describe, it } from 'vitest';
import { type DType, GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';
import { expectGpuMatchesInterpreter } from './graph-harness.js';

const EXACT = { rtol: 0, atol: 0 }; // exact, and the sign of every zero

describe('a -0 fill value keeps its sign', () => {
  it.each([
    ['f16', true],
    ['f16', false],
    ['f32', true],
  ] as [DType, boolean][])('Pad %s (shader-f16 %s)', async (dtype, shaderF16) => {
    const b = new GraphBuilder('pad');
    const x = b.input('x', tensorType(dtype, [3]));
    b.output(b.op('Pad', [x], { pads: [1, 2], mode: 'constant', value: -0 }));
    await expectGpuMatchesInterpreter(b.build(), { x: makeTensor(dtype, [3], [1, -0, 0]) }, EXACT, { shaderF16 });
  });
});
