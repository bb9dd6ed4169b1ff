// One version: package.json's. `kiln --version` (and -V) prints it, read at run time from the package.json next to
// the code (sources and dist/ alike; test/cli/pack.test.ts checks an installed tarball), and every manifest kiln
// writes records `kiln <version>` as its compiler, which `kiln inspect` prints.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPILER_ID as FROM_COMPILE } from '../../compiler/compile.js';
import { main } from '../../compiler/cli/main.js';
import { COMPILER_ID, KILN_VERSION } from '../../compiler/version.js';
import { kiln } from '../kiln-cli.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const root = mkdtempSync(join(tmpdir(), 'kiln-version-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('kiln --version', () => {
  it('prints package.json\'s version, from dist/ (bin/kiln.js)', () => {
    for (const flag of ['--version', '-V']) {
      const r = kiln([flag]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
    }
  }, 30_000);

  it('prints it from the sources too', async () => {
    const out: string[] = [];
    const code = await main(['--version'], { out: (t) => out.push(t), err: (t) => out.push(t), write: (t) => out.push(t) });
    expect(code).toBe(0);
    expect(out).toEqual([VERSION]);
  });

  it('the compiler id is derived from it, in one place', () => {
    expect(KILN_VERSION).toBe(VERSION);
    expect(COMPILER_ID).toBe(`kiln ${VERSION}`);
    expect(FROM_COMPILE).toBe(COMPILER_ID);
  });
});

describe('the manifest records the version', () => {
  it('model.compiler is `kiln <version>`, and kiln inspect prints it', () => {
    const out = join(root, 'mlp');
    const c = kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', '-o', out]);
    expect(c.status, c.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { model: { compiler: string } };
    expect(manifest.model.compiler).toBe(`kiln ${VERSION}`);
    const text = kiln(['inspect', out]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain(`(from mlp.kir, kiln ${VERSION})`);
    const json = kiln(['inspect', out, '--json']);
    expect((JSON.parse(json.stdout) as { model: { compiler: string } }).model.compiler).toBe(`kiln ${VERSION}`);
  }, 60_000);
});
