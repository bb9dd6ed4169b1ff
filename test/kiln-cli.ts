// Runs the built `kiln` CLI (bin/kiln.js) as a child process, the way a user would, for tests that check its
// exit status and output. XDG_RUNTIME_DIR is set because Dawn's Vulkan loader wants one.
import { spawnSync } from 'node:child_process';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly timeoutMs?: number;
  /** Options for node itself, before the script (e.g. ['--import', preload]). */
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this user and group (the test runs as root, which no file permission stops). */
  readonly uid?: number;
  readonly gid?: number;
}

export function kiln(args: readonly string[], opts: number | CliOptions = {}): CliResult {
  const o: CliOptions = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const r = spawnSync('node', [...(o.nodeArgs ?? []), 'bin/kiln.js', ...args], {
    encoding: 'utf8',
    timeout: o.timeoutMs ?? 180_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...o.env },
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid ?? o.uid } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
