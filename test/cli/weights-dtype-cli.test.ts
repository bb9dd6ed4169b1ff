// `kiln compile --weights-dtype`: f16 halves a matmul weight's bytes; anything but f32/f16 is a usage error naming
// the flag.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../compiler/cli/main.js';
import { GraphBuilder, makeTensor, printGraph, tensorType } from '../../ir/index.js';

async function kiln(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await main(argv, { out: () => {}, err: (t) => err.push(t), write: () => {} });
  return { code, err: err.join('\n') };
}

it('--weights-dtype f16 stores the matmul weight in half the bytes; a bad value is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-wdt-'));
  // A 64x64 weight (16 KiB in f32): large enough that halving it shows through the 256-byte region alignment.
  const b = new GraphBuilder('proj');
  const x = b.input('x', tensorType('f32', [2, 64]));
  b.output(b.op('MatMul', [x, b.constant(makeTensor('f32', [64, 64], (i) => Math.sin(i)), 'w')]));
  const kir = join(dir, 'proj.kir');
  writeFileSync(kir, printGraph(b.build()));
  const weightsBytes = (out: string): number => JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).memory.weightsBytes;
  expect((await kiln('compile', kir, '-o', join(dir, 'f32'))).code).toBe(0);
  expect((await kiln('compile', kir, '--weights-dtype', 'f16', '-o', join(dir, 'f16'))).code).toBe(0);
  expect(weightsBytes(join(dir, 'f32'))).toBe(64 * 64 * 4);
  expect(weightsBytes(join(dir, 'f16'))).toBe(64 * 64 * 2);
  const bad = await kiln('compile', kir, '--weights-dtype', 'f8', '-o', join(dir, 'bad'));
  expect(bad.code).toBe(1);
  expect(bad.err).toMatch(/--weights-dtype f8: expected f32 or f16/);
});
