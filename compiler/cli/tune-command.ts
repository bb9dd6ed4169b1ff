// `kiln tune <model|artifact>`: measure this adapter (compiler/tune/) on the model's GEMV shapes and write a device
// profile that `kiln compile --device-profile <file>` uses. The GEMV shapes come from a manifest: the artifact's, or,
// for a model, that of an in-memory compile (as `kiln compile` would make it). The CLI owns the runtime, so it
// runs the candidates: each in a Session on one shared device, timed per dispatch by the profiler's probes.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type DeviceProfile, profileForAdapter } from '../../passes/index.js';
import { DEVICE_PROFILE_FORMAT, validateDeviceProfile } from '../../passes/sparse/profile-file.js';
import { Session, WaitPacer, acquireDevice, isNode } from '../../runtime/index.js';
import type { Manifest } from '../../runtime/plan.js';
import { timeDispatches } from './dispatch-timing.js';
import { artifactFiles } from '../emit/in-memory.js';
import { systemError } from '../io/fs-errors.js';
import { materialize } from '../memory/lazy-file.js';
import { median } from '../tune/device-probes.js';
import { type GemvCase, gemvCases } from '../tune/gemv-shapes.js';
import { tuneReport } from '../tune/report.js';
import { type ArtifactTimer, tune } from '../tune/tune.js';
import { checkProfileOutput, isProfilePath } from './device-profile-file.js';
import { UsageError } from './errors.js';
import { parseAssignments, readManifestFile } from './files.js';
import type { Output } from './ir-commands.js';
import { loadProgram } from './load-program.js';
import { preciseGpu } from './precise-gpu.js';

export interface TuneCommandOptions {
  out?: string;
  runs?: string;
  dim?: string[];
  weights?: string;
}

export const DEFAULT_PROFILE_FILE = 'kiln-device-profile.json';

/** --dim name=size: GEMVs need static rows, so only sizes (a range would leave the rows symbolic). */
function parseSizes(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of parseAssignments(items, '--dim')) {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--dim ${name}=${value}: kiln tune needs a size (a positive integer): it times the shapes the model runs`);
    out[name] = n;
  }
  return out;
}

/** The GEMV shapes of an artifact folder, or of the model at `path` compiled in memory for `profile`. */
async function shapesOf(path: string, opts: TuneCommandOptions, profile: DeviceProfile, io: Output): Promise<GemvCase[]> {
  if (existsSync(path) && statSync(path).isDirectory()) {
    if (opts.dim?.length || opts.weights) throw new UsageError(`${path} is an artifact: --dim and --weights apply to a model (the artifact's shapes are fixed)`);
    const manifest: Manifest = readManifestFile(path);
    const text = (file: string): string | undefined => (existsSync(join(path, file)) ? readFileSync(join(path, file), 'utf8') : undefined);
    return gemvCases(manifest, text);
  }
  const { program, declared } = loadProgram(path, { dims: parseSizes(opts.dim ?? []), ...(opts.weights ? { weights: opts.weights } : {}) }, io);
  io.err(`tune: compiling ${basename(path)} to find its GEMV shapes ...`);
  const { compileProgram } = await import('../compile.js');
  // Row-major: the manifest's weight regions are then the weights' own sizes (panels would pad them).
  const artifact = compileProgram(program, { source: basename(path), declaredDtypes: declared, target: { shaderF16: false }, profile, layout: 'row-major' });
  const decoder = new TextDecoder();
  return gemvCases(artifact.manifest, (file) => {
    const f = artifact.files.get(file);
    return f && decoder.decode(materialize(f));
  });
}

function writeProfile(path: string, profile: DeviceProfile): void {
  const json = { format: DEVICE_PROFILE_FORMAT, ...profile };
  // What kiln writes must load back (a zero time would make a rate Infinity, which JSON cannot hold): a kiln bug if not.
  validateDeviceProfile(JSON.parse(JSON.stringify(json)), path);
  try {
    if (dirname(path) !== '.') mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  } catch (e) {
    throw systemError(e, path, 'write');
  }
}

export async function tuneCommand(path: string, opts: TuneCommandOptions, io: Output): Promise<number> {
  const runs = Number(opts.runs ?? '5');
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs ${opts.runs}: must be a positive integer`);
  const out = opts.out ?? DEFAULT_PROFILE_FILE;
  if (!isProfilePath(out)) throw new UsageError(`--out ${out}: a device profile is a .json file (--device-profile tells a file from a profile name by it)`);
  checkProfileOutput(out); // before any measuring: kiln never writes over a file that is not its own profile
  if (!existsSync(path)) throw new UsageError(`cannot read ${path}: no such file or folder`);
  const acquired = await acquireDevice({ optionalFeatures: ['timestamp-query'], gpu: await preciseGpu() });
  try {
    const base = profileForAdapter(acquired.adapterInfo);
    io.err(`tune: ${acquired.adapterInfo} (starting from profile ${base.name})`);
    const shapes = await shapesOf(path, opts, base, io);
    io.err(`tune: ${shapes.length} GEMV weight shape(s) in ${basename(path)}`);
    const stamps = acquired.features.has('timestamp-query');
    const timer: ArtifactTimer = {
      async time(artifact, feeds, n, budgetMs) {
        const session = await Session.load(artifactFiles(artifact, `memory:${artifact.manifest.model.name}`), { device: acquired });
        try {
          const { samples } = await timeDispatches(acquired, session, feeds, 'run', { runs: n, warmup: 2, budgetMs });
          // A run's time: its dispatches' times added up.
          return median(samples[0]!.map((_, r) => samples.reduce((sum, s) => sum + s[r]!, 0)));
        } finally {
          session.dispose();
        }
      },
    };
    const source = `kiln tune ${basename(path)} on ${acquired.adapterInfo}, ${new Date().toISOString().slice(0, 10)}: medians of up to ${runs} runs (${stamps ? 'timestamp queries' : 'submit timing'}); the matmul-kernel rates are ${base.name}'s`;
    // The ceiling waits as sessions do (paced), so that it bounds what they reach.
    const result = await tune(acquired.device, timer, shapes, { base, source, runs, log: (l) => io.err(`tune: ${l}`), wait: new WaitPacer(isNode()).wait });
    for (const line of tuneReport(result, runs)) io.out(line);
    writeProfile(out, result.profile);
    io.err(`wrote ${out} (profile ${result.profile.name}); use it: kiln compile <model> --device-profile ${out} -o <dir>`);
    return 0;
  } finally {
    acquired.release();
  }
}
