// The wait pacer (runtime/wait-pacing.ts) on fake waits, timed with the real clock: a first run of a kind does not
// sleep; the next one sleeps 0.9 of what it took, less 2 ms, before asking for the results; results ready as the
// sleep ends halve the estimate and a slower run raises it slowly; kinds are separate; runs expected under 20 ms
// and a disabled pacer never sleep. Waiting for the results does not hold the event loop: other callbacks run
// between polls, and a rejection reaches the caller (and only the caller).
import { describe, expect, it } from 'vitest';
import { WaitPacer } from '../../runtime/wait-pacing.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long `wait` slept before it asked for the results, when the results then take `takes` ms. */
async function slept(p: WaitPacer, key: string, takes: number): Promise<number> {
  const called = performance.now();
  let asked = 0;
  await p.wait(key, async () => {
    asked = performance.now() - called;
    if (takes) await sleep(takes);
    return 0;
  });
  return asked;
}

describe('WaitPacer', () => {
  it('sleeps through 0.9 of the last time of the same kind of run, and none for a new kind', async () => {
    const p = new WaitPacer(true);
    expect(await slept(p, 'decode', 60)).toBeLessThan(5);
    const second = await slept(p, 'decode', 0);
    expect(second).toBeGreaterThanOrEqual(0.9 * 60 - 3);
    expect(second).toBeLessThan(0.9 * 60 + 25);
    expect(await slept(p, 'prefill', 0)).toBeLessThan(5);
  });

  it('halves the estimate when the results were there as the sleep ended, and follows a slower run slowly', async () => {
    const p = new WaitPacer(true);
    await slept(p, 'k', 100);
    // Sleeps ~88 ms, and the results are ready at once: the run took less than that, by how much is unknown.
    await slept(p, 'k', 0);
    const third = await slept(p, 'k', 200);
    expect(third).toBeGreaterThanOrEqual(0.9 * 50 - 4);
    expect(third).toBeLessThan(0.9 * 50 + 15);
    // A slow run (~43 + 200 ms) raises the estimate by 0.3 of the difference only.
    const fourth = await slept(p, 'k', 0);
    expect(fourth).toBeGreaterThan(third + 20);
    expect(fourth).toBeLessThan(0.9 * 200);
  });

  it('does not pace runs expected to take under 20 ms', async () => {
    const p = new WaitPacer(true);
    await slept(p, 'short', 15);
    expect(await slept(p, 'short', 0)).toBeLessThan(5);
  });

  it('never sleeps when disabled', async () => {
    const p = new WaitPacer(false);
    await slept(p, 'k', 50);
    expect(await slept(p, 'k', 0)).toBeLessThan(5);
  });

  it('lets the event loop turn between polls, and hands a rejection to the caller only', async () => {
    const p = new WaitPacer(true);
    let ticked = 0;
    const timer = setInterval(() => ticked++, 1);
    try {
      await p.wait('k', () => sleep(30));
      expect(ticked).toBeGreaterThan(5);
    } finally {
      clearInterval(timer);
    }
    // Rejected while the poll loop runs: vitest fails the file on an unhandled rejection.
    await expect(p.wait('k', () => sleep(5).then(() => Promise.reject(new Error('device lost'))))).rejects.toThrow('device lost');
  });
});
