// `kiln tune`'s measuring: starting from the shipped profile for the adapter, it measures the device's rates (read
// ceiling, dispatch and launch costs, an f32 GEMM's flop rate), then times every candidate kernel configuration
// (candidates.ts) on the model's largest GEMV shapes and keeps the one with the least total time, each shape
// weighted by how often the model runs it. Running an artifact is the caller's (the CLI owns the runtime; compiler/
// may not load artifacts): it passes an ArtifactTimer.
import type { DeviceProfile, KernelTuning } from '../../passes/index.js';
import type { Artifact } from '../compile.js';
import { CANDIDATES, type Candidate, compileCandidate, describeCandidate, gemmArtifact, gemvProgram, seededValues, tuningOf } from './candidates.js';
import { type DispatchCosts, type ReadCeiling, type Waiter, measureDispatchCosts, measureReadCeiling } from './device-probes.js';
import type { GemvCase } from './gemv-shapes.js';

export interface ArtifactTimer {
  /**
   * Milliseconds of the artifact's dispatches in one run of its `run` entry (summed), median over up to `runs`
   * timed runs after a warm-up; timing stops early once `budgetMs` has passed (one run at least).
   */
  time(artifact: Artifact, feeds: Readonly<Record<string, Float32Array>>, runs: number, budgetMs: number): Promise<number>;
}

export interface TuneOptions {
  /** The shipped profile for the adapter (profileForAdapter): what is not measured stays as it says. */
  readonly base: DeviceProfile;
  /** Recorded as the profile's source. */
  readonly source: string;
  readonly runs: number;
  /** GEMV shapes timed: the largest this many (default 3). */
  readonly maxShapes?: number;
  /** Timed runs per candidate stop after this long (default 1500 ms), so a large shape costs seconds, not minutes. */
  readonly budgetMs?: number;
  readonly log: (line: string) => void;
  /** How the read-ceiling probe waits for the GPU (a WaitPacer's wait, as sessions wait). */
  readonly wait?: Waiter;
}

/**
 * The most weight bytes one timed program holds. A larger weight is timed with M cut to fit (a multiple of 256, so
 * every panel width tiles it evenly) and its time scaled back up by M, as a bandwidth-bound kernel's is: compiling
 * a candidate costs about a second per 16 MiB on lavapipe (encoding, hashing, upload), seven per shape, so this
 * keeps a shape to seconds. The price: 16 MiB can sit in a large last-level cache, flattering every candidate.
 */
export const TIMED_WEIGHT_BYTES = 16 * 1024 * 1024;

export function timedShape(s: GemvCase): GemvCase {
  if (s.m * s.k * s.elemBytes <= TIMED_WEIGHT_BYTES) return s;
  const m = Math.max(256, Math.floor(TIMED_WEIGHT_BYTES / (s.k * s.elemBytes) / 256) * 256);
  return m >= s.m ? s : { ...s, m };
}

export interface CandidateTime {
  readonly shape: GemvCase;
  /** What was timed: the shape, or it with M cut (timedShape). */
  readonly timed: GemvCase;
  readonly candidate: Candidate;
  /** False when the traffic model kept the weight row-major under this candidate's panel width. */
  readonly arranged: boolean;
  readonly ms: number;
}

export interface TuneResult {
  readonly profile: DeviceProfile;
  readonly ceiling: ReadCeiling;
  readonly dispatch: DispatchCosts;
  readonly gemm: { readonly n: number; readonly flopsPerMs: number };
  readonly timed: readonly GemvCase[];
  /** GEMV shapes found but not timed (beyond maxShapes). */
  readonly untimed: number;
  readonly times: readonly CandidateTime[];
  /** Each candidate's total over the timed shapes (uses x ms, a cut shape's scaled back by M), in CANDIDATES order. */
  readonly totals: readonly { readonly candidate: Candidate; readonly ms: number }[];
  readonly tuning?: KernelTuning;
}

/** The f32 GEMM flop rate: n doubles from 128 until one run takes 20 ms (or n = 2048), so launch costs do not dominate. */
async function measureGemm(timer: ArtifactTimer, profile: DeviceProfile, runs: number): Promise<{ n: number; flopsPerMs: number }> {
  for (let n = 128; ; n *= 2) {
    const artifact = gemmArtifact(n, profile);
    const flops = artifact.manifest.entryPoints.run!.dispatches.reduce((s, d) => s + (d.cost?.flops ?? 0), 0);
    const ms = await timer.time(artifact, { x: seededValues(n * n, 5) }, runs, 1500);
    if (ms >= 20 || n >= 2048) return { n, flopsPerMs: flops / ms };
  }
}

export async function tune(device: GPUDevice, timer: ArtifactTimer, shapes: readonly GemvCase[], opts: TuneOptions): Promise<TuneResult> {
  const { log, runs } = opts;
  log('measuring the read ceiling ...');
  const ceiling = await measureReadCeiling(device, runs, opts.wait ? { wait: opts.wait } : {});
  log(`read ceiling ${(ceiling.bytesPerMs / 1e6).toFixed(2)} GB/s (${ceiling.layout}); measuring dispatch and launch costs ...`);
  const dispatch = await measureDispatchCosts(device, runs);
  log(`dispatch ${dispatch.dispatchMs.toFixed(3)} ms, launch ${dispatch.launchMs.toFixed(4)} ms; measuring the f32 GEMM flop rate ...`);
  const gemm = await measureGemm(timer, opts.base, runs);
  const measured: DeviceProfile = {
    ...opts.base,
    name: `${opts.base.name}-tuned`,
    source: opts.source,
    bytesPerMs: ceiling.bytesPerMs,
    dispatchMs: dispatch.dispatchMs,
    launchMs: dispatch.launchMs,
    flopsPerMs: gemm.flopsPerMs,
  };
  delete (measured as { tuning?: KernelTuning }).tuning;
  const timed = shapes.slice(0, opts.maxShapes ?? 3);
  const times: CandidateTime[] = [];
  let step = 0;
  for (const shape of timed) {
    const cut = timedShape(shape);
    const program = gemvProgram(cut); // one weight for all candidates: building it is a good part of a compile
    const feeds = { x: seededValues(shape.rows * shape.k, 11) };
    let rowMajorMs = NaN;
    for (const candidate of CANDIDATES) {
      const label = `[${++step}/${timed.length * CANDIDATES.length}] ${cut.m}${cut.m < shape.m ? ` (of ${shape.m})` : ''} x ${shape.k} ${shape.elemBytes === 4 ? 'f32' : 'f16'} ${shape.op}, ${shape.rows} row(s): ${describeCandidate(candidate)}`;
      // Compiled under the measured rates: the traffic model sees the device the profile will describe.
      const { artifact, arranged } = compileCandidate(cut, candidate, measured, program);
      // A panel candidate the traffic model kept row-major compiled to the row-major program: its time is that
      // one's (timing it again would only let noise pick between two identical programs).
      const same = candidate.panel > 0 && !arranged;
      const ms = same ? rowMajorMs : await timer.time(artifact, feeds, runs, opts.budgetMs ?? 1500);
      if (!candidate.panel) rowMajorMs = ms;
      log(`${label}: ${same ? 'kept row-major by the traffic model' : `${ms.toFixed(3)} ms`}`);
      times.push({ shape, timed: cut, candidate, arranged, ms });
    }
  }
  const totals = CANDIDATES.map((candidate) => ({
    candidate,
    ms: times.filter((t) => t.candidate === candidate).reduce((s, t) => s + (t.shape.uses * t.ms * t.shape.m) / t.timed.m, 0),
  }));
  const result = { profile: measured, ceiling, dispatch, gemm, timed, untimed: shapes.length - timed.length, times, totals };
  // Nothing to choose when no candidate arranged any shape: every program was the row-major one.
  if (!times.some((t) => t.arranged)) return result;
  // The least total wins (ties keep the earlier candidate: row-major first). Row-major needs no unroll: the
  // profile records the best panel candidate's, for a later compile that arranges after all.
  const best = totals.reduce((a, b) => (b.ms < a.ms ? b : a));
  const bestPanel = totals.filter((t) => t.candidate.panel).reduce((a, b) => (b.ms < a.ms ? b : a));
  const tuning = tuningOf({ panel: best.candidate.panel, unroll: (best.candidate.panel ? best : bestPanel).candidate.unroll });
  return { ...result, profile: { ...measured, tuning }, tuning };
}
