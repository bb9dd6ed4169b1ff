// Sessions in Node wait for the GPU without spinning the JS thread (runtime/wait-pacing.ts): Dawn's binding polls
// from setImmediate while a mapAsync is pending, so an unpaced run keeps the JS thread busy for its whole GPU time.
// A run of ~tens of ms (a 256 x 1024 x 1024 MatMul) repeated, paced (the default) and unpaced alternating: the same
// outputs, and the JS thread's CPU time (Linux /proc/thread-self/stat, in clock ticks) well below the unpaced one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';

const [N, K, M] = [256, 1024, 1024];
const b = new GraphBuilder('pace');
const x = b.input('x', tensorType('f32', [N, K]));
b.output(b.op('MatMul', [x, b.constant(makeTensor('f32', [K, M], Float64Array.from({ length: K * M }, (_, i) => Math.sin(i * 0.37))), 'w')], {}, { names: ['y'] }));
const files = artifactFiles(compileGraph(b.build(), { source: 'pace.kir', target: { shaderF16: false } }), 'memory:pace');
const input = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.11));

/** User + system clock ticks of the calling (JS) thread. */
function threadTicks(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

describe('waiting for the GPU', () => {
  it("a paced session (the default in Node) leaves the JS thread idle while the GPU works; an unpaced one spins", async () => {
    const paced = await Session.load(files);
    const unpaced = await Session.load(files, { pacing: false });
    try {
      const ticks = { paced: 0, unpaced: 0 };
      const wall = { paced: 0, unpaced: 0 };
      let first: Float32Array | undefined;
      for (let r = 0; r < 14; r++)
        for (const [name, s] of (r % 2 ? [['unpaced', unpaced], ['paced', paced]] : [['paced', paced], ['unpaced', unpaced]]) as [keyof typeof ticks, Session][]) {
          const [t0, w0] = [threadTicks(), performance.now()];
          const y = (await s.run({ x: input })).y!.data as Float32Array;
          // Runs 0 and 1 set the estimate; the rest are counted.
          if (r >= 2) {
            ticks[name] += threadTicks() - t0;
            wall[name] += performance.now() - w0;
          }
          first ??= y;
          expect(y).toEqual(first);
        }
      console.log(`JS thread CPU over 12 runs: paced ${ticks.paced * 10} ms of ${wall.paced.toFixed(0)} ms, unpaced ${ticks.unpaced * 10} ms of ${wall.unpaced.toFixed(0)} ms`);
      // Enough GPU time for the tick counts to mean something, then the spin shows.
      expect(wall.unpaced).toBeGreaterThan(300);
      expect(ticks.unpaced * 10).toBeGreaterThan(0.4 * wall.unpaced);
      expect(ticks.paced).toBeLessThan(0.5 * ticks.unpaced);
    } finally {
      paced.dispose();
      unpaced.dispose();
    }
  });
});
