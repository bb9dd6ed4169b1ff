// `kiln compile --weights-dtype`: f16 halves the example's matmul weight bytes; anything but f32/f16 is a usage
// error naming the flag.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../compiler/cli/main.js';

async function kiln(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await main(argv, { out: () => {}, err: (t) => err.push(t), write: () => {} });
  return { code, err: err.join('\n') };
}

it('--weights-dtype f16 stores the matmul weights in half the bytes; a bad value is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-wdt-'));
  const weightsBytes = (out: string): number => JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).memory.weightsBytes;
  expect((await kiln('compile', 'examples/mlp.kir', '--dim', 'batch=2', '-o', join(dir, 'f32'))).code).toBe(0);
  expect((await kiln('compile', 'examples/mlp.kir', '--dim', 'batch=2', '--weights-dtype', 'f16', '-o', join(dir, 'f16'))).code).toBe(0);
  // w1 (4x8) and w2 (8x3) halve; the biases stay f32.
  expect(weightsBytes(join(dir, 'f16'))).toBeLessThan(weightsBytes(join(dir, 'f32')));
  const bad = await kiln('compile', 'examples/mlp.kir', '--dim', 'batch=2', '--weights-dtype', 'f8', '-o', join(dir, 'bad'));
  expect(bad.code).toBe(1);
  expect(bad.err).toMatch(/--weights-dtype f8: expected f32 or f16/);
});
