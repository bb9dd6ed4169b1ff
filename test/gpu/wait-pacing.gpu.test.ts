// Sessions in Node wait for the GPU without spinning the JS thread (runtime/wait-pacing.ts): Dawn's binding polls
// from setImmediate while a mapAsync is pending, so an unpaced run keeps the JS thread busy for its whole GPU time.
// A run of ~tens of ms (a 256 x 1024 x 1024 MatMul, slept through on a timer) and one of a few ms (a 1 x 2048 x 4096
// GEMV, too short for the timer: blocked between Dawn's polls) repeated, paced (the default) and unpaced
// alternating: the same outputs, and the JS thread's CPU time (Linux /proc/thread-self/stat, in clock ticks) well
// below the unpaced one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { artifactFiles } from '../../compiler/emit/in-memory.js';
import { GraphBuilder, makeTensor, tensorType } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';

/** A MatMul [n, k] x [k, m] artifact and an input for it. */
function matMul(n: number, k: number, m: number): { files: ReturnType<typeof artifactFiles>; input: Float32Array } {
  const b = new GraphBuilder('pace');
  const x = b.input('x', tensorType('f32', [n, k]));
  b.output(b.op('MatMul', [x, b.constant(makeTensor('f32', [k, m], Float64Array.from({ length: k * m }, (_, i) => Math.sin(i * 0.37))), 'w')], {}, { names: ['y'] }));
  const files = artifactFiles(compileGraph(b.build(), { source: 'pace.kir', target: { shaderF16: false } }), `memory:pace-${n}`);
  return { files, input: Float32Array.from({ length: n * k }, (_, i) => Math.cos(i * 0.11)) };
}

/** User + system clock ticks of the calling (JS) thread. */
function threadTicks(): number {
  const stat = readFileSync('/proc/thread-self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

describe('waiting for the GPU', () => {
  it.each([
    // Slept through: the JS thread is idle but for the run's own work.
    { what: 'a run of tens of ms', n: 256, k: 1024, m: 1024, rounds: 14, minWallMs: 300, share: 0.5 },
    // Blocked between polls (~11 per run here, 145 of 152 runs polled) besides the run's own work and its error-scope
    // pops: 0.36-0.58 of the unpaced JS time here, 0.56 in a full CI run; a spin would read about 1.
    { what: 'a run of a few ms', n: 1, k: 2048, m: 4096, rounds: 152, minWallMs: 400, share: 0.75 },
  ])('$what: a paced session (the default in Node) leaves the JS thread idle while the GPU works; an unpaced one spins', async ({ n, k, m, rounds, minWallMs, share }) => {
    const { files, input } = matMul(n, k, m);
    const paced = await Session.load(files);
    const unpaced = await Session.load(files, { pacing: false });
    try {
      const ticks = { paced: 0, unpaced: 0 };
      const wall = { paced: 0, unpaced: 0 };
      let first: Float32Array | undefined;
      for (let r = 0; r < rounds; r++)
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
      console.log(`JS thread CPU over ${rounds - 2} runs of [${n}, ${k}] x [${k}, ${m}]: paced ${ticks.paced * 10} ms of ${wall.paced.toFixed(0)} ms, unpaced ${ticks.unpaced * 10} ms of ${wall.unpaced.toFixed(0)} ms`);
      // Enough GPU time for the tick counts to mean something, then the spin shows.
      expect(wall.unpaced).toBeGreaterThan(minWallMs);
      expect(ticks.unpaced * 10).toBeGreaterThan(0.4 * wall.unpaced);
      expect(ticks.paced).toBeLessThan(share * ticks.unpaced);
    } finally {
      paced.dispose();
      unpaced.dispose();
    }
  });
});
