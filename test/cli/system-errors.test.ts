// Errors the system reports are the user's to fix: a read-only output folder, a missing input file, a full disk,
// a foreign or root output folder. Each gives exit 1 and one line naming the path and what to do, never a stack,
// and a refused or failed compile leaves no file behind.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, kiln } from '../kiln-cli.js';

const root = mkdtempSync(join(tmpdir(), 'kiln-syserr-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const MODEL = ['examples/mlp.kir', '--dim', 'batch=2'];
// Root ignores file permissions (CAP_DAC_OVERRIDE): as root, the read-only case runs kiln without that capability.
const asUser = process.getuid?.() === 0 ? { prefix: ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] } : {};

/** Exit 1 and a single `kiln: ...` line matching `message`: no stack trace, no internal error. */
function expectOneLine(r: CliResult, message: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning: '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^kiln: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('system errors are one-line user errors', () => {
  it('a read-only output folder', () => {
    const ro = join(root, 'readonly');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = kiln(['compile', ...MODEL, '-o', join(ro, 'out')], asUser);
    expectOneLine(r, new RegExp(`cannot create a staging folder in ${ro}: permission denied \\(EACCES\\); check its permissions or choose another path`));
    expect(readdirSync(ro)).toEqual([]);
  }, 60_000);

  it('a missing input file, for compile and for run', () => {
    expectOneLine(kiln(['compile', join(root, 'nope.onnx'), '-o', join(root, 'x')]), /nope\.onnx/);
    expectOneLine(kiln(['compile', join(root, 'nope.kir'), '-o', join(root, 'x')]), /cannot read .*nope\.kir: no such file or directory \(ENOENT\); check the path/);
    const out = join(root, 'mlp');
    expect(kiln(['compile', ...MODEL, '-o', out]).status).toBe(0);
    expectOneLine(kiln(['run', out, '--input', `x=${join(root, 'missing.json')}`]), /cannot read .*missing\.json: no such file or directory \(ENOENT\)/);
  }, 120_000);

  it('no space left on the device while writing the artifact', () => {
    const out = join(root, 'full', 'out');
    const r = kiln(['compile', ...MODEL, '-o', out], {
      nodeArgs: ['--import', resolve('test/cli/fixtures/full-disk.mjs')],
      env: { KILN_TEST_DISK_BYTES: '3000' },
    });
    expectOneLine(r, new RegExp(`cannot write ${join(root, 'full')}/\\.out\\.kiln-staging-\\w+/\\S+: no space left on the device \\(ENOSPC\\); free some space or choose another path`));
    // The failed write leaves neither a half-written artifact nor its staging folder.
    expect(readdirSync(join(root, 'full'))).toEqual([]);
  }, 60_000);

  it('a folder that is not a kiln artifact, and the filesystem root, are refused before any work', () => {
    const web = join(root, 'web');
    mkdirSync(web);
    writeFileSync(join(web, 'manifest.json'), '{"name": "my pwa", "start_url": "/"}');
    writeFileSync(join(web, 'index.html'), '<p>hi</p>');
    expectOneLine(kiln(['compile', ...MODEL, '-o', web]), new RegExp(`-o ${web}: the folder is not empty and holds no kiln artifact`));
    expect(readdirSync(web).sort()).toEqual(['index.html', 'manifest.json']);
    expectOneLine(kiln(['compile', ...MODEL, '-o', '/']), /-o \/: refusing to write an artifact into the filesystem root/);
    expect(readdirSync('/').filter((n) => n === 'manifest.json' || n === 'kernels' || n.includes('kiln-staging'))).toEqual([]);
  }, 60_000);
});
