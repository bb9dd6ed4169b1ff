// Artifacts on disk under failure, on the adapter: a `kiln compile` killed with SIGKILL while it writes leaves the
// previous artifact byte for byte as it was and loadable (same outputs), and the next compile cleans up after it;
// an artifact compiled for a limit the adapter lacks is refused at load, before any buffer exists, naming the
// limit, the kernel and both values.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LimitError, Session, gpuBuffersAlive } from '../../runtime/index.js';
import { writeRandomCheckpoint } from '../../scripts/lib/checkpoints.js';
import { kiln } from '../kiln-cli.js';
import { testGpu } from './harness.js';

const root = mkdtempSync(join(tmpdir(), 'kiln-safety-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** sha256 of every file under dir, by relative path. */
function hashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out[join(e.parentPath, e.name).slice(dir.length + 1)] = createHash('sha256').update(readFileSync(join(e.parentPath, e.name))).digest('hex');
  return out;
}

const X = { x: [0.5, -1, 2, 0.25, -0.75, 1.5, 0, 3] };
async function runMlp(dir: string): Promise<number[]> {
  const s = await Session.load(dir, { device: (await testGpu()).acquired });
  try {
    return Array.from((await s.run(X)).probs!.data);
  } finally {
    s.dispose();
  }
}

const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> => new Promise((r) => child.on('exit', (_code, signal) => r(signal)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a compile killed midway', () => {
  it('leaves the previous artifact intact and loadable; the next compile removes its staging folder', async () => {
    const out = join(root, 'kill', 'out');
    expect(kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', '-o', out]).status).toBe(0);
    const before = hashes(out);
    const probs = await runMlp(out);
    // A ~220 MB checkpoint, so that writing its weights pages takes long enough to be caught in the act.
    const big = writeRandomCheckpoint(join(root, 'ckpt'), 'llama', { hidden_size: 1024, intermediate_size: 2816, num_hidden_layers: 2, num_attention_heads: 16, num_key_value_heads: 4, head_dim: 64, vocab_size: 8000 }, 5);
    const parent = join(root, 'kill');
    for (const when of ['while writing', 'before writing'] as const) {
      const child = spawn('node', ['bin/kiln.js', 'compile', big.configPath, '--weights', big.weightsPath, '--max-seq', '32', '--chunk', '8', '-o', out], { stdio: 'ignore' });
      const gone = exited(child);
      if (when === 'before writing') await sleep(800);
      else
        for (let waited = 0; ; waited += 2) {
          const staging = readdirSync(parent).find((n) => n.includes('.kiln-staging-'));
          if (staging && readdirSync(join(parent, staging)).some((n) => n.startsWith('weights'))) break;
          expect(waited, 'the compile never started writing').toBeLessThan(120_000);
          await sleep(2);
        }
      child.kill('SIGKILL');
      expect(await gone).toBe('SIGKILL');
      expect(hashes(out), when).toEqual(before);
      expect(await runMlp(out)).toEqual(probs);
    }
    // The killed writer's staging folder is kiln's own: the next compile removes it.
    expect(kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=3', '-o', out]).status).toBe(0);
    expect(readdirSync(parent)).toEqual(['out']);
  }, 240_000);
});

describe('limits', () => {
  it('an artifact compiled for a raised limit is refused at load, naming the limit, the kernel and both values', async () => {
    // A tied 33000 x 1024 embedding is 135,168,000 bytes: over lavapipe's (and WebGPU's default) 128 MiB binding.
    // Row-major, so the figure is the tensor's own (arrange-layout's panels would pad it to 33,024 rows).
    const ckpt = writeRandomCheckpoint(join(root, 'wide'), 'llama', { hidden_size: 1024, intermediate_size: 256, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 256, vocab_size: 33000, tie_word_embeddings: true }, 2);
    const out = join(root, 'raised');
    const compile = kiln(['compile', ckpt.configPath, '--weights', ckpt.weightsPath, '--max-seq', '16', '--chunk', '4', '--layout', 'row-major', '--limit', 'maxStorageBufferBindingSize=268435456', '-o', out]);
    expect(compile.status, compile.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { requires: { limits: Record<string, number> } };
    expect(manifest.requires.limits.maxStorageBufferBindingSize).toBe(135_168_000);
    const adapter = (await testGpu()).device.limits.maxStorageBufferBindingSize;
    expect(adapter).toBeLessThan(135_168_000);

    const buffers = gpuBuffersAlive();
    const load = Session.load(out);
    await expect(load).rejects.toThrow(LimitError);
    await expect(load).rejects.toThrow(new RegExp(`kernel kernels/[\\w-]+\\.wgsl \\(dispatch '[^']+' of '(prefill|decode)'\\) needs maxStorageBufferBindingSize 135168000; the adapter offers ${adapter}`));
    expect(gpuBuffersAlive()).toBe(buffers);

    const gen = kiln(['generate', out, '--ids', '1,2,3']);
    expect(gen.status).toBe(1);
    expect(gen.stderr).toMatch(/^kiln: the adapter .* cannot run llama: .*needs maxStorageBufferBindingSize 135168000; the adapter offers \d+.*kiln compile --limit/m);
    expect(gen.stderr).not.toMatch(/\n\s+at /);
    // The same limit declared at compile time refuses the plan before anything is written.
    const strict = kiln(['compile', ckpt.configPath, '--weights', ckpt.weightsPath, '--max-seq', '16', '--chunk', '4', '--limit', 'maxStorageBufferBindingSize=268435456', '--limit', 'maxBufferSize=100000000', '-o', join(root, 'strict')]);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/exceeds the target's declared limits: buffer \d+ \(weights, weights-\d+\.bin\) needs maxBufferSize 13\d{7} > 100000000/);
    expect(readdirSync(root)).not.toContain('strict');
  }, 240_000);
});
