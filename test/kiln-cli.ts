// Runs the built `kiln` CLI (bin/kiln.js) as a child process, the way a user would, for tests that check its
// exit status and output. XDG_RUNTIME_DIR is set because Dawn's Vulkan loader wants one.
import { spawnSync } from 'node:child_process';

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function kiln(args: readonly string[], timeoutMs = 180_000): CliResult {
  const r = spawnSync('node', ['bin/kiln.js', ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
