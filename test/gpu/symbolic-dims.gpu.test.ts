// Symbolic dims at run time: one artifact compiled for a range of sizes runs every size in it on the adapter,
// matching the interpreter, with no pipeline, shader module or bind group created after load (counted), and a
// size outside the compiled range is refused naming the symbol. Kernels read the sizes from the dims uniform.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { type Graph, parseKir } from '../../ir/index.js';
import { InputValidationError, Session } from '../../runtime/index.js';
import { randomTensor } from './data.js';
import { testGpu } from './harness.js';
import { casesOf, expectGraphRuns } from './symbolic-run.js';


async function expectSizes(g: Graph, sizes: readonly Record<string, readonly number[]>[]): Promise<void> {
  await expectGraphRuns(g, casesOf(sizes, (_, shape, seed) => randomTensor('f32', shape, seed)), { name: 'sym', tolerance: () => [1e-6, 1e-6] });
}

describe('symbolic dims on the adapter', () => {
  it('a fused elementwise chain with broadcasting runs every batch size of its range from one artifact', async () => {
    const g = parseKir(`graph @chain(%x: f32[batch,3], %b: f32[3]) {
  symbol batch in 1..70000
  %m = Mul(%x, %b) : f32[batch,3]
  %a = Add(%m, %x) : f32[batch,3]
  %r = Relu(%a) : f32[batch,3]
  return %r
}`);
    // 70000*3 invocations need two dispatch dimensions at the upper bound; small sizes use a partial first row.
    await expectSizes(g, [{ x: [1, 3], b: [3] }, { x: [7, 3], b: [3] }, { x: [70000, 3], b: [3] }, { x: [2, 3], b: [3] }]);
  });

  it('two symbols with broadcasting between them, and an output whose dims are a product', async () => {
    const g = parseKir(`graph @outer(%x: f32[n,1], %y: f32[1,m]) {
  symbol n in 1..9
  symbol m in 1..5
  %s = Sub(%x, %y) : f32[n,m]
  %t = Reshape(%s) {shape = [-1]} : f32[m*n]
  %u = Exp(%t) : f32[m*n]
  return %s, %u
}`);
    await expectSizes(g, [
      { x: [1, 1], y: [1, 1] },
      { x: [9, 1], y: [1, 5] },
      { x: [4, 1], y: [1, 3] },
    ]);
  });

  it('refuses a size outside the compiled range and mismatched symbols, naming them', async () => {
    const gpu = await testGpu();
    const g = parseKir(`graph @pair(%x: f32[batch,2], %y: f32[batch,2]) {
  symbol batch in 2..8
  %z = Add(%x, %y) : f32[batch,2]
  return %z
}`);
    const session = await Session.load(artifactFiles(compileGraph(g, { source: 't' }), 'memory:pair'), { device: gpu.acquired });
    try {
      const t = (n: number) => ({ data: new Float32Array(2 * n), shape: [n, 2] });
      await expect(session.run({ x: t(9), y: t(9) })).rejects.toThrow(/batch = 9 is outside the range this artifact was compiled for \(2\.\.8\)/);
      await expect(session.run({ x: t(3), y: t(4) })).rejects.toThrow(InputValidationError);
      await expect(session.run({ x: new Float32Array(4), y: new Float32Array(4) })).rejects.toThrow(/symbolic shape \[batch,2\]: pass \{ data, shape \}/);
      const out = await session.run({ x: t(2), y: t(2) });
      expect(out.z!.shape).toEqual([2, 2]);
    } finally {
      session.dispose();
    }
  });
});
