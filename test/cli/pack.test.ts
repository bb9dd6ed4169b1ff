// The package as a user gets it: `npm pack`, then `npm install <tarball>` into an empty project (dependencies from
// the registry; devDependencies such as onnxruntime-node, esbuild, tsx are not installed), then `npx kiln compile`
// and `npx kiln run` there print what the repository's own CLI prints.
//
// `npm pack` runs "prepare", which rebuilds dist/ with tsc. Other test files spawn bin/kiln.js from the
// repository's dist/ at the same time, and tsc rewriting those files under them would make them flaky, so the
// package is packed from a copy of the repository (its sources and package.json, node_modules linked) in a temp
// folder. The install runs scripts as a user's would (no --ignore-scripts): kiln itself has no install-time script
// ("prepare" runs only for git and folder installs), and its dependencies' scripts are theirs to run.
// Needs the npm registry and a WebGPU adapter (for `kiln run`); XDG_RUNTIME_DIR is set for Dawn's Vulkan loader.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kiln } from '../kiln-cli.js';

const REPO = resolve(import.meta.dirname, '../..');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** Repository entries the copy leaves out: installed and built things, and version control. */
const NOT_COPIED = new Set(['node_modules', 'dist', 'out', '.git', '.tmp', '.bench-cache', 'fuzz-crashes', 'kiln-dump']);

const root = mkdtempSync(join(tmpdir(), 'kiln-pack-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ENV = {
  ...process.env,
  XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
  // Without a terminal npm still prints progress and funding notes; keep the logs to what failed.
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
};

/** The .js files under a folder. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));
}

/** Runs a command to completion; fails the test, with its output, when it exits non-zero. */
function sh(cmd: string, args: readonly string[], cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', timeout });
  const what = `${cmd} ${args.join(' ')} (in ${cwd})`;
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

describe('npm pack, npm install <tarball>, npx kiln', () => {
  it('compiles and runs examples/mlp.kir as the repository\'s CLI does', () => {
    // 1. Pack from a copy of the repository (see the top of this file).
    const src = join(root, 'src');
    cpSync(REPO, src, { recursive: true, filter: (from) => !(from !== REPO && NOT_COPIED.has(from.slice(REPO.length + 1))) });
    symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules'), 'dir');
    const packs = join(root, 'packs');
    mkdirSync(packs);
    sh('npm', ['pack', '--pack-destination', packs], src);
    const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).toEqual([`${PKG.name}-${PKG.version}.tgz`]);
    const tarball = join(packs, tarballs[0]!);

    // What it holds: the CLI, the built compiler and runtime (with the bundle every artifact ships), the README;
    // no sources, tests, scripts or source maps.
    const files = sh('tar', ['tzf', tarball], root).stdout.trim().split('\n');
    for (const f of ['package.json', 'README.md', 'bin/kiln.js', 'dist/compiler/cli/main.js', 'dist/compiler/version.js', 'dist/runtime/runtime.bundle.js'])
      expect(files, f).toContain(`package/${f}`);
    // The demo page `kiln serve` serves ships too.
    expect(files).toContain('package/examples/demo/index.html');
    expect(files.filter((f) => !/^package\/(package\.json|README\.md|bin\/kiln\.js|dist\/(ir|passes|compiler|runtime)\/.*\.(js|d\.ts)|examples\/demo\/[\w.-]+)$/.test(f))).toEqual([]);

    // 2. Install it into an empty project, as a user would.
    const project = join(root, 'project');
    mkdirSync(project);
    sh('npm', ['init', '-y'], project);
    sh('npm', ['install', tarball], project, 540_000);
    const installed = readdirSync(join(project, 'node_modules'));
    expect(installed).toContain('kiln');
    // Nothing kiln needs only to build or test itself comes along.
    for (const dev of Object.keys(PKG.devDependencies).filter((d) => !d.startsWith('@types/'))) expect(installed, dev).not.toContain(dev);
    expect(existsSync(join(project, 'node_modules/.bin/kiln'))).toBe(true);
    // Every package the shipped code imports is a dependency (or part of Node).
    const deps = new Set(Object.keys(PKG.dependencies));
    for (const file of jsFiles(join(project, 'node_modules/kiln/dist'))) {
      const text = readFileSync(file, 'utf8');
      const specs = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)];
      for (const spec of specs.map((m) => m[1] ?? m[2] ?? m[3]!).filter((s) => !s.startsWith('.'))) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        expect(spec.startsWith('node:') || deps.has(name), `${file} imports ${spec}`).toBe(true);
      }
    }

    // 3. Compile and run there (`npx --no --`: the installed bin, never a download of something else named kiln).
    copyFileSync(join(REPO, 'examples/mlp.kir'), join(project, 'mlp.kir'));
    copyFileSync(join(REPO, 'examples/mlp-input.json'), join(project, 'mlp-input.json'));
    const version = sh('npx', ['--no', '--', 'kiln', '--version'], project).stdout;
    expect(version).toBe(`${PKG.version}\n`);
    sh('npx', ['--no', '--', 'kiln', 'compile', 'mlp.kir', '--dim', 'batch=2', '-o', 'out'], project);
    const manifest = JSON.parse(readFileSync(join(project, 'out/manifest.json'), 'utf8')) as { model: { compiler: string } };
    expect(manifest.model.compiler).toBe(`kiln ${PKG.version}`);
    const run = sh('npx', ['--no', '--', 'kiln', 'run', 'out', '--input', 'x=mlp-input.json'], project).stdout;

    // 4. The repository's CLI, on the same inputs, prints the same outputs.
    const ref = join(root, 'ref');
    const c = kiln(['compile', 'examples/mlp.kir', '--dim', 'batch=2', '-o', ref]);
    expect(c.status, c.stderr).toBe(0);
    const r = kiln(['run', ref, '--input', 'x=examples/mlp-input.json']);
    expect(r.status, r.stderr).toBe(0);
    expect(run).toMatch(/^probs: f32\[2,3\] = /);
    expect(run).toBe(r.stdout);
  }, 600_000);
});
