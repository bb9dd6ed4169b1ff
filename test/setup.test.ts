// scripts/setup.sh decides what to install from os-release, the Vulkan ICD files, the installed Mesa, the Vulkan
// loader, Chromium and node_modules; each input is overridable (KILN_SETUP_*), so its plan (--plan: print, change
// nothing) is checked here against fake machines. Only the decision is tested: apt-get and npm never run.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SETUP = new URL('../scripts/setup.sh', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'kiln-setup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const fresh = (): string => {
  const dir = join(tmp, String(n++));
  mkdirSync(dir, { recursive: true });
  return dir;
};

const OS = {
  debian12: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  debian13: 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nID=debian\n',
  ubuntu2404: 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
  ubuntu2204: 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\n',
  fedora: 'NAME="Fedora Linux"\nVERSION_ID=40\nID=fedora\nPRETTY_NAME="Fedora Linux 40 (Workstation Edition)"\n',
} as const;

/** A checkout whose node_modules is up to date (npm's hidden lockfile matches package-lock.json), or not. */
function repo(state: 'current' | 'missing' | 'outdated' | 'extraneous'): string {
  const dir = fresh();
  const deps = { devDependencies: { a: '^1.0.0' } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', ...deps }));
  const locked = {
    '': { name: 'x', ...deps },
    'node_modules/a': { version: '1.2.0', dev: true },
    // an optional package for another platform: never installed, and that is fine
    'node_modules/@esbuild/darwin-arm64': { version: '0.1.0', dev: true, optional: true, os: ['darwin'] },
  };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'x', lockfileVersion: 3, packages: locked }));
  if (state === 'missing') return dir;
  const installed: Record<string, object> = { 'node_modules/a': { version: state === 'outdated' ? '1.1.0' : '1.2.0', dev: true } };
  if (state === 'extraneous') installed['node_modules/b'] = { version: '1.0.0' };
  mkdirSync(join(dir, 'node_modules'));
  writeFileSync(join(dir, 'node_modules', '.package-lock.json'), JSON.stringify({ name: 'x', lockfileVersion: 3, packages: installed }));
  return dir;
}

interface Machine {
  os?: keyof typeof OS | 'none';
  /** ICD files in the (single) ICD folder */
  icd?: string[];
  /** installed mesa-vulkan-drivers, '' for none */
  mesa?: string;
  loader?: boolean;
  chromium?: boolean;
  node_modules?: 'current' | 'missing' | 'outdated' | 'extraneous';
}

function setup(m: Machine, ...args: string[]): { status: number | null; out: string } {
  const dir = fresh();
  const osRelease = join(dir, 'os-release');
  if (m.os !== 'none') writeFileSync(osRelease, OS[m.os ?? 'debian12']);
  const icdDir = join(dir, 'icd.d');
  mkdirSync(icdDir);
  for (const f of m.icd ?? []) writeFileSync(join(icdDir, f), '{"file_format_version": "1.0.0"}');
  const chromium = join(dir, 'chromium');
  if (m.chromium) {
    writeFileSync(chromium, '#!/bin/sh\n');
    chmodSync(chromium, 0o755);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_SETUP_OS_RELEASE: osRelease,
    KILN_SETUP_ICD_DIR: icdDir,
    KILN_SETUP_MESA_VERSION: m.mesa ?? '',
    KILN_SETUP_VULKAN_LOADER: m.loader === false ? '0' : '1',
    KILN_SETUP_CHROMIUM: chromium,
    KILN_SETUP_REPO: repo(m.node_modules ?? 'current'),
  };
  delete env.KILN_CHROMIUM;
  const r = spawnSync('bash', [SETUP, ...(args.length ? args : ['--plan'])], { env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

const BACKPORTS = 'apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1';
const DISTRO_MESA = /apt-get install mesa-vulkan-drivers libvulkan1\n/;
const LAVAPIPE = ['lvp_icd.json', 'radeon_icd.json', 'intel_icd.json'];

describe('scripts/setup.sh --plan', () => {
  it('Debian 12 without a Vulkan driver or loader: Mesa from bookworm-backports, with the reason', () => {
    const { status, out } = setup({ os: 'debian12', icd: [], mesa: '', loader: false });
    expect(status).toBe(0);
    expect(out).toContain('no Vulkan driver');
    expect(out).toContain(BACKPORTS);
    expect(out).toMatch(/Dawn needs one for a WebGPU adapter/);
    expect(out).not.toMatch(DISTRO_MESA);
    expect(out).not.toContain('chromium');
  });

  it("Debian 12 with Mesa 25's ICD files: nothing to install", () => {
    const { status, out } = setup({ os: 'debian12', icd: LAVAPIPE, mesa: '25.0.7-2~bpo12+1' });
    expect(status).toBe(0);
    expect(out).toContain('Mesa 25.0.7-2~bpo12+1');
    expect(out).toContain('nothing to install');
    expect(out).not.toContain('apt-get');
  });

  it("Debian 12 with bookworm's Mesa 22: Mesa from bookworm-backports", () => {
    const { status, out } = setup({ os: 'debian12', icd: LAVAPIPE, mesa: '22.3.6-1+deb12u1' });
    expect(status).toBe(0);
    expect(out).toContain('Mesa 22.3.6-1+deb12u1, too old');
    expect(out).toContain(BACKPORTS);
  });

  it('an epoch in the Mesa version does not hide its age', () => {
    expect(setup({ os: 'debian12', icd: LAVAPIPE, mesa: '1:22.3.6-1' }).out).toContain(BACKPORTS);
    expect(setup({ os: 'debian12', icd: LAVAPIPE, mesa: '1:24.2.8-1' }).out).toContain('nothing to install');
  });

  it("Ubuntu 24.04 and Debian 13 without a driver: the distribution's Mesa", () => {
    for (const os of ['ubuntu2404', 'debian13'] as const) {
      const { status, out } = setup({ os, icd: [], mesa: '', loader: false });
      expect(status, out).toBe(0);
      expect(out).toMatch(DISTRO_MESA);
      expect(out).not.toContain('bookworm-backports');
    }
  });

  it('an unknown system without a driver: says what to install, installs nothing, exits non-zero', () => {
    for (const os of ['fedora', 'ubuntu2204', 'none'] as const) {
      const { status, out } = setup({ os, icd: [], mesa: '' });
      expect(status, out).not.toBe(0);
      expect(out).toMatch(/cannot continue: .* install a Vulkan driver that Dawn can use \(Mesa 23 or newer.*libvulkan\.so\.1/);
      expect(out).toContain('nothing was installed');
      expect(out).not.toContain('apt-get');
    }
  });

  it('a driver present, on any system: nothing to install', () => {
    for (const os of ['debian12', 'debian13', 'ubuntu2404', 'ubuntu2204', 'fedora', 'none'] as const) {
      const { status, out } = setup({ os, icd: ['nvidia_icd.json'], mesa: '' });
      expect(status, `${os}: ${out}`).toBe(0);
      expect(out, os).toContain('nothing to install');
    }
  });

  it('a driver without the Vulkan loader: the loader', () => {
    const { status, out } = setup({ os: 'debian12', icd: LAVAPIPE, mesa: '25.0.7-2~bpo12+1', loader: false });
    expect(status).toBe(0);
    expect(out).toContain('no Vulkan loader');
    expect(out).toMatch(/apt-get install libvulkan1\n/);
  });

  it('Chromium only with --browser: Debian\'s package when it is missing, nothing when present', () => {
    const machine: Machine = { os: 'debian12', icd: [], mesa: '', chromium: false };
    expect(setup(machine, '--plan').out).not.toContain('chromium');
    const { status, out } = setup(machine, '--plan', '--browser');
    expect(status).toBe(0);
    expect(out).toContain(BACKPORTS);
    expect(out).toMatch(/apt-get install chromium\n.*browser tests/);
    const present = setup({ ...machine, icd: LAVAPIPE, mesa: '25.0.7-2~bpo12+1', chromium: true }, '--browser', '--plan');
    expect(present.status).toBe(0);
    expect(present.out).toContain('nothing to install');
  });

  it('--browser on Ubuntu without Chromium: says what to do and exits non-zero', () => {
    const { status, out } = setup({ os: 'ubuntu2404', icd: LAVAPIPE, mesa: '24.0.9', chromium: false }, '--plan', '--browser');
    expect(status).not.toBe(0);
    expect(out).toMatch(/cannot continue: the browser tests need Chromium .* set KILN_CHROMIUM/);
  });

  it('node_modules: npm ci when missing, npm install when out of date, nothing when current', () => {
    const base: Machine = { os: 'debian12', icd: LAVAPIPE, mesa: '25.0.7-2~bpo12+1' };
    expect(setup({ ...base, node_modules: 'missing' }).out).toMatch(/\n {2}npm ci\n/);
    expect(setup({ ...base, node_modules: 'outdated' }).out).toMatch(/\n {2}npm install\n/);
    expect(setup({ ...base, node_modules: 'extraneous' }).out).toMatch(/\n {2}npm install\n/);
    expect(setup({ ...base, node_modules: 'current' }).out).toContain('nothing to install');
  });

  it('without --plan, on a machine that has everything, it installs nothing and succeeds (the README runs it)', () => {
    const { status, out } = setup({ os: 'debian12', icd: LAVAPIPE, mesa: '25.0.7-2~bpo12+1', chromium: true }, '--browser');
    expect(status, out).toBe(0);
    expect(out).toContain('nothing to install');
  });

  it('rejects an unknown option', () => {
    const { status, out } = setup({}, '--bogus');
    expect(status).toBe(2);
    expect(out).toContain("unknown option '--bogus'");
  });
});
