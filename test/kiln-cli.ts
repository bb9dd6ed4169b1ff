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
  /** A command that runs node (e.g. ['setpriv', ...] to drop root's power over file permissions). */
  readonly prefix?: readonly string[];
}

export function kiln(args: readonly string[], opts: number | CliOptions = {}): CliResult {
  const o: CliOptions = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const [cmd, ...pre] = [...(o.prefix ?? []), 'node'];
  const r = spawnSync(cmd!, [...pre, ...(o.nodeArgs ?? []), 'bin/kiln.js', ...args], {
    encoding: 'utf8',
    timeout: o.timeoutMs ?? 180_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...o.env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
