// The soak in CI: `npm run soak -- --minutes 1` must finish with every result correct (zero errors), no GPU buffer
// left alive, and RSS not growing. One minute is mostly warm-up (shader JIT, allocator arenas), so CI bounds the
// growth at 10 %; the 5 % criterion is for the 10-minute run (see the README). Reloads every 2 s, so each of the RSS
// windows the growth compares holds several samples (at 5 s a loaded machine left two, and one slow GC decided it).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { haveShared } from '../../scripts/lib/shared.js';

describe.runIf(haveShared())('npm run soak', () => {
  it('one minute of mnist-8 and a decoder, reloaded every few seconds: zero errors, flat memory', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/soak.ts', '--minutes', '1', '--report-seconds', '20', '--reload-seconds', '2', '--max-growth', '0.10'], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
    const lines = r.stdout.trim().split('\n');
    console.log(lines.slice(-4).join('\n'));
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const summary = JSON.parse(lines[lines.length - 1]!) as { runs: number; generations: number; reloads: number; errors: number; rssGrowth: number; gpuBuffersAlive: number };
    expect(summary.errors).toBe(0);
    expect(summary.gpuBuffersAlive).toBe(0);
    expect(summary.runs).toBeGreaterThan(100);
    expect(summary.generations).toBeGreaterThan(10);
    expect(summary.reloads).toBeGreaterThan(3);
    expect(summary.rssGrowth).toBeLessThan(0.1);
  }, 300_000);
});
