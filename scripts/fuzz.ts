// npm run fuzz -- --minutes N [--target onnx|safetensors|kir|config|manifest|npy|json|all] [--seed n] [--out dir]
//                 [--case-timeout s] [--max-cases n] [--replay file]
// A fuzzing campaign over kiln's input parsers: per target, structure-aware generation and mutation of real
// files (scripts/fuzz/target-*.ts), run in a child process with a per-case time limit (scripts/fuzz/campaign.ts).
// A case may be accepted or refused with a typed user error (isUserError, as the CLI decides, unless the error
// says it wraps an internal error: protocol.ts isAcceptable); anything else
// thrown, a hang or the process dying is a crash, saved under --out. Exit status 1 when there was a crash.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type TargetStats, runTarget } from './fuzz/campaign.js';
import { describeThrown, isAcceptable } from './fuzz/protocol.js';
import { CrashLog } from './fuzz/crashes.js';
import { Host } from './fuzz/host.js';
import { PUBLIC_TARGETS, TARGETS } from './fuzz/targets.js';

const USAGE = `usage: npm run fuzz -- --minutes N [--target ${PUBLIC_TARGETS.join('|')}|all] [--seed n] [--out dir] [--case-timeout seconds] [--max-cases n] [--replay file]`;

function fail(message: string): never {
  console.error(`fuzz: ${message}\n${USAGE}`);
  process.exit(2);
}

function number(flag: string, text: string | undefined, fallback: number, ok: (n: number) => boolean): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!ok(n)) fail(`--${flag} ${text}: not a valid value`);
  return n;
}

/** Run one saved input in this process and say how kiln took it (for debugging a saved crash). */
async function replay(target: string, file: string): Promise<number> {
  const t = await TARGETS[target]!.load();
  try {
    t.exercise(new Uint8Array(readFileSync(file)));
    console.log(`${file}: accepted`);
    return 0;
  } catch (e) {
    if (isAcceptable(e)) return console.log(`${file}: typed error ${e.name}: ${e.message}`), 0;
    console.log(`${file}: crash: ${describeThrown(e)}`);
    return 1;
  }
}

function table(rows: [string, TargetStats][]): string[] {
  const head = ['target', 'cases', 'accepted', 'typed errors', 'crashes', 'seconds'];
  const body = rows.map(([t, s]) => [t, String(s.cases), String(s.accepted), String(s.typed), String(s.crashes), s.seconds.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  return [head, ...body].map((r) => r.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  '));
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        minutes: { type: 'string' },
        target: { type: 'string', default: 'all' },
        seed: { type: 'string' },
        out: { type: 'string' },
        'case-timeout': { type: 'string' },
        'max-cases': { type: 'string' },
        replay: { type: 'string' },
      },
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  const target = args.target!;
  if (target !== 'all' && !Object.hasOwn(TARGETS, target)) fail(`unknown target '${target}'`);
  if (args.replay) return target === 'all' ? fail('--replay needs --target') : replay(target, args.replay);
  const minutes = number('minutes', args.minutes, NaN, (n) => n > 0 && Number.isFinite(n));
  if (Number.isNaN(minutes)) fail('--minutes is required');
  const seed = number('seed', args.seed, Date.now() % 2 ** 31, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32);
  const caseTimeoutMs = number('case-timeout', args['case-timeout'], 10, (n) => n > 0) * 1000;
  const maxCases = number('max-cases', args['max-cases'], Infinity, (n) => Number.isInteger(n) && n > 0);
  // Crashes go to fuzz-crashes/ at the repository root unless --out says otherwise.
  const out = args.out ? resolve(args.out) : resolve(import.meta.dirname, '..', 'fuzz-crashes');
  const targets = target === 'all' ? PUBLIC_TARGETS : [target];
  const seconds = (minutes * 60) / targets.length;
  console.log(`fuzz: seed ${seed}, ${targets.length} target(s), ${seconds.toFixed(1)} s each, case limit ${caseTimeoutMs / 1000} s, crashes to ${out}`);

  const crashes = new CrashLog(out, (t) => TARGETS[t]!.ext, (line) => console.log(line));
  const results: [string, TargetStats][] = [];
  const host = new Host(seed, 2048);
  try {
    for (const t of targets) {
      const progress = (s: TargetStats): void => console.log(`${t}: ${s.seconds.toFixed(0)} s, ${s.cases} cases, ${s.crashes} crashes`);
      const ready = (corpus: string): void => console.log(`${t}: ${corpus}`);
      const stats = await runTarget(host, { target: t, seed, seconds, caseTimeoutMs, maxCases, crashes, ready, progress, progressMs: 30_000 });
      progress(stats);
      results.push([t, stats]);
    }
  } finally {
    await host.close();
  }
  for (const line of table(results)) console.log(line);
  const total = results.reduce((n, [, s]) => n + s.crashes, 0);
  if (crashes.signatures.size) {
    console.log(`${crashes.signatures.size} distinct crash signature(s):`);
    for (const [sig, n] of crashes.signatures) console.log(`  ${n} x ${sig}`);
  }
  const summary = Object.fromEntries(results.map(([t, s]) => [t, { cases: s.cases, accepted: s.accepted, typed: s.typed, crashes: s.crashes, seconds: Number(s.seconds.toFixed(1)) }]));
  console.log(JSON.stringify({ minutes, seed, targets: summary, crashes: total }));
  return total ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`fuzz: ${describeThrown(e)}`);
    process.exit(2);
  },
);
