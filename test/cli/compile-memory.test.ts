// Compiling streams weights: a checkpoint's tensors go from the safetensors file to the artifact's weights pages
// a few megabytes at a time, never whole. Guarded here with a ~420 MB random llama checkpoint: `kiln compile`'s
// peak RSS (measured in the child by Node itself) must stay well below what holding the weights would take.
// The 2 GB figure is measured with /usr/bin/time -v (see README).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRandomCheckpoint } from '../../scripts/lib/checkpoints.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-rss-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kiln compile of a large checkpoint', () => {
  it('keeps peak RSS far below the checkpoint size', () => {
    const ckpt = writeRandomCheckpoint(join(dir, 'ckpt'), 'llama', {
      hidden_size: 1024,
      intermediate_size: 2816,
      num_hidden_layers: 8,
      num_attention_heads: 16,
      num_key_value_heads: 4,
      head_dim: 64,
      vocab_size: 8000,
    }, 3);
    const weightBytes = statSync(ckpt.weightsPath).size;
    expect(weightBytes).toBeGreaterThan(400e6);
    // Report the child's own peak RSS on exit (process.resourceUsage is in kilobytes).
    const probe = join(dir, 'rss.cjs');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write(`\\nmaxRSS ${process.resourceUsage().maxRSS}\\n`));\n");
    const r = spawnSync('node', ['--require', probe, 'bin/kiln.js', 'compile', ckpt.configPath, '--weights', ckpt.weightsPath, '--max-seq', '64', '--chunk', '16', '-o', join(dir, 'out')], {
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const rssBytes = Number(/maxRSS (\d+)/.exec(r.stderr)![1]) * 1024;
    const artifactWeights = Number(/weights (\d+) bytes/.exec(r.stderr)![1]);
    expect(artifactWeights).toBeGreaterThan(400e6);
    console.log(`compiled ${(weightBytes / 1e6).toFixed(0)} MB of weights with peak RSS ${(rssBytes / 1e6).toFixed(0)} MB`);
    // Holding the weights once would already put RSS above weightBytes; the compiler itself needs ~150 MB.
    expect(rssBytes).toBeLessThan(weightBytes * 0.75);
  }, 300_000);
});
