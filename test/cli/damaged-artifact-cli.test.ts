// `kiln inspect` and `kiln generate` on an artifact folder whose manifest.json is missing, cut short or from
// another version: exit 1 with a message naming the file, never a stack trace (exit 2).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../compiler/cli/main.js';

async function kiln(...argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await main(argv, { out: () => {}, err: (t) => err.push(t), write: () => {} });
  return { code, err: err.join('\n') };
}

describe('a damaged artifact folder', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'kiln-damaged-')), 'mlp');
  const manifestPath = join(dir, 'manifest.json');

  it('compiles first (the example)', async () => {
    expect((await kiln('compile', 'examples/mlp.kir', '--dim', 'batch=2', '-o', dir)).code).toBe(0);
  });

  it('is refused by inspect and generate, naming manifest.json and the problem', async () => {
    const good = readFileSync(manifestPath, 'utf8');
    const edited = (edit: (m: Record<string, any>) => void): string => {
      const m = JSON.parse(good);
      edit(m);
      return JSON.stringify(m);
    };
    const cases: [string, RegExp][] = [
      [good.slice(0, 200), /manifest\.json is not valid JSON/],
      [edited((m) => (m.version = 1)), /manifest\.json: manifest version 1 is not supported by this runtime/],
      [edited((m) => (m.kernels[0].workgroupSize = [64])), /manifest\.kernels\[0\]\.workgroupSize must have 3 items/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(manifestPath, text);
      for (const argv of [['inspect', dir], ['generate', dir, '--ids', '1']]) {
        const r = await kiln(...argv);
        expect(r.code, `${argv[0]}: ${r.err}`).toBe(1);
        expect(r.err).toMatch(message);
      }
    }
    writeFileSync(manifestPath, good);
    expect((await kiln('inspect', dir)).code).toBe(0);
  });

  it('that is not an artifact at all says so', async () => {
    const r = await kiln('inspect', tmpdir());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/manifest\.json: no such file or directory \(ENOENT\); check the path \(is .* a kiln artifact folder\?\)/);
  });
});
