// Fitting the sparse/dense cost model (passes/sparse/cost-model.ts) to this device's measurements. The model
// says a kernel takes max(bytes / bytesPerMs, macs / rate) + dispatchMs; its bytes and macs are taken from
// estimate() itself so the fit and the model cannot disagree on what a kernel reads or multiplies.
//   bytesPerMs: the read-bandwidth probe;
//   dispatchMs: the smallest case the bench measures (a 64 x 64 sparse Gemm at N = 1: a session run's fixed cost,
//               submit, upload of x, one dispatch, readback of y). Not the smallest LLM-shaped case: on lavapipe
//               those take tens of ms, far more than their bytes at the probed bandwidth, a cost that grows with
//               the problem; charged to every kernel as a fixed cost it would skew the rates;
//   rates:      per kernel, the median of macs / (ms - dispatchMs) over its compute-bound cases (those where the
//               bytes explain less than half the time; the rate says nothing about the others).
import { type DeviceProfile, type MatmulKernel, type MatmulShape, estimate, rankKernels } from '../../passes/sparse/cost-model.js';
import { median } from './timing.js';

export interface FitSample {
  readonly kernel: MatmulKernel;
  readonly shape: MatmulShape;
  readonly ms: number;
}

export interface FittedProfile {
  readonly profile: DeviceProfile;
  /** How many samples each rate is the median of, and whether they were compute-bound. */
  readonly basis: Readonly<Record<'dense' | 'direct' | 'scatter', string>>;
}

export function fitProfile(samples: readonly FitSample[], bytesPerMs: number, dispatchMs: number, name: string, source: string): FittedProfile {
  // Rates do not enter bytes or macs, so any profile with the right bandwidth gives them.
  const probe: DeviceProfile = { name, source, bytesPerMs, denseMacsPerMs: 1, directMacsPerMs: 1, scatterMacsPerMs: 1, dispatchMs: 0 };
  const work = samples.map((s) => {
    const e = estimate(probe, s.shape, s.kernel);
    return { ...s, bytesMs: e.bytes / bytesPerMs, macs: e.macs };
  });
  const rates = {} as Record<MatmulKernel, number>;
  const basis = {} as Record<MatmulKernel, string>;
  for (const kernel of ['dense', 'direct', 'scatter'] as const) {
    const mine = work.filter((w) => w.kernel === kernel && w.ms > dispatchMs);
    const bound = mine.filter((w) => w.ms - dispatchMs > 2 * w.bytesMs);
    const used = bound.length ? bound : mine;
    rates[kernel] = median(used.map((w) => w.macs / (w.ms - dispatchMs)));
    basis[kernel] = bound.length ? `median of ${bound.length} compute-bound cases` : `median of all ${mine.length} cases (none compute-bound)`;
  }
  return {
    profile: { name, source, bytesPerMs, denseMacsPerMs: rates.dense, directMacsPerMs: rates.direct, scatterMacsPerMs: rates.scatter, dispatchMs },
    basis,
  };
}

/** The sparse kernel a profile picks for a shape (the faster of direct and scatter by its estimates). */
export const pickedVariant = (p: DeviceProfile, s: MatmulShape): 'direct' | 'scatter' =>
  rankKernels(p, s).find((e) => e.kernel !== 'dense')!.kernel as 'direct' | 'scatter';

export interface VariantCase {
  readonly shape: MatmulShape;
  readonly directMs: number;
  readonly scatterMs: number;
  readonly denseMs: number | null;
}

export interface Agreement {
  /** Cases where the profile's sparse pick is the measured faster variant. */
  readonly variant: { readonly matches: number; readonly total: number };
  /** Cases where the profile's dense-or-sparse call agrees with the measured times (dense measured). */
  readonly sparseOrDense: { readonly matches: number; readonly total: number };
}

export function agreement(p: DeviceProfile, cases: readonly VariantCase[]): Agreement {
  let variant = 0;
  let call = 0;
  let calls = 0;
  for (const c of cases) {
    const faster = c.directMs <= c.scatterMs ? 'direct' : 'scatter';
    if (pickedVariant(p, c.shape) === faster) variant++;
    if (c.denseMs === null) continue;
    calls++;
    const modelSaysSparse = rankKernels(p, c.shape)[0]!.kernel !== 'dense';
    if (modelSaysSparse === Math.min(c.directMs, c.scatterMs) < c.denseMs) call++;
  }
  return { variant: { matches: variant, total: cases.length }, sparseOrDense: { matches: call, total: calls } };
}

/** The profile as TypeScript to paste into passes/sparse/profiles.ts (3 significant digits). */
export function profileSource(p: DeviceProfile): string {
  const num = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(3))) : 'NaN');
  return [
    `  ${/^[a-z_$][\w$]*$/i.test(p.name) ? p.name : `'${p.name}'`}: {`,
    `    name: '${p.name}',`,
    `    source: '${p.source.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}',`,
    `    bytesPerMs: ${num(p.bytesPerMs)},`,
    `    denseMacsPerMs: ${num(p.denseMacsPerMs)},`,
    `    directMacsPerMs: ${num(p.directMacsPerMs)},`,
    `    scatterMacsPerMs: ${num(p.scatterMacsPerMs)},`,
    `    dispatchMs: ${num(p.dispatchMs)},`,
    '  },',
  ].join('\n');
}
