// A pass is a pure, named Graph -> Graph function with typed options. The name is kebab-case and is also the CLI
// flag value and the dump file name. Options are read once, from untyped values (CLI flags, a pipeline spec), by
// the pass's own `options` reader, which names a bad option; `run` then gets them typed. The target (features,
// limits, the device profile the cost models use) reaches passes through the context, so passes/ never imports
// compiler/. Each pass declares how closely it preserves semantics; the property tests hold it to that.
import type { Graph } from '../ir/index.js';
import { DEFAULT_PROFILE, PROFILES } from './sparse/profiles.js';
import type { DeviceProfile } from './sparse/cost-model.js';

/**
 * Exact: interp(pass(g)) is bit-identical to interp(g). Bounded: within rtol/atol (quantization). Lossy: the pass
 * changes the model on purpose (pruning); its own properties say what it keeps (see `note`).
 */
export type Tolerance =
  | { readonly kind: 'exact' }
  | { readonly kind: 'bounded'; readonly rtol: number; readonly atol: number }
  | { readonly kind: 'lossy'; readonly note: string };

/** What a compile is for: passes that choose storage or split tensors read it. */
export interface PassTarget {
  /** The adapter has shader-f16 (f16 arithmetic and storage in kernels). */
  readonly shaderF16: boolean;
  /** The adapter has the subgroups feature (kernels may broadcast values across a subgroup). */
  readonly subgroups?: boolean;
  /** Declared WebGPU limits of the target device (--limit); absent ones are WebGPU's defaults. */
  readonly limits: Readonly<Record<string, number>>;
  /** The device the sparse/dense cost model is calibrated for. */
  readonly profile: DeviceProfile;
}

export const DEFAULT_TARGET: PassTarget = { shaderF16: false, limits: {}, profile: PROFILES[DEFAULT_PROFILE]! };

export interface PassContext<O = unknown> {
  /** Counters a pass reports (e.g. nodes folded); the manager collects them per pass. */
  readonly stats: Map<string, number>;
  readonly options: O;
  readonly target: PassTarget;
  /**
   * Every graph of the program at this point of the pipeline, this one included (a decoder's prefill and decode
   * entries): passes that choose a constant's storage decide it over all its uses, so entries that share the
   * constant agree.
   */
  readonly program: readonly Graph[];
}

export interface Pass<O = unknown> {
  readonly name: string;
  readonly summary: string;
  readonly tolerance: Tolerance;
  /** Typed options from raw ones (unknown keys and bad values throw PassOptionError); absent: no options. */
  readonly options?: (raw: Readonly<Record<string, unknown>>) => O;
  readonly run: (g: Graph, cx: PassContext<O>) => Graph;
}

/** A pass with its options read: one step of a pipeline. */
export interface PipelineStep<O = unknown> {
  readonly pass: Pass<O>;
  readonly options: O;
}

export class PassOptionError extends Error {
  override name = 'PassOptionError';
}

/** The step running `pass` with `raw` options, read and validated now (once). */
export function configure<O>(pass: Pass<O>, raw: Readonly<Record<string, unknown>> = {}): PipelineStep<O> {
  if (pass.options) return { pass, options: pass.options(raw) };
  const extra = Object.keys(raw);
  if (extra.length) throw new PassOptionError(`pass '${pass.name}' takes no options, got ${extra.join(', ')}`);
  return { pass, options: undefined as O };
}

/** Raw options: reject keys the pass does not know, so a typo is an error rather than a silent default. */
export function onlyKeys(pass: string, raw: Readonly<Record<string, unknown>>, known: readonly string[]): void {
  const extra = Object.keys(raw).filter((k) => raw[k] !== undefined && !known.includes(k));
  if (extra.length) throw new PassOptionError(`pass '${pass}' has no option '${extra[0]}' (options: ${known.join(', ')})`);
}

export const EXACT: Tolerance = { kind: 'exact' };

export function bump(cx: PassContext<unknown>, stat: string, by = 1): void {
  cx.stats.set(stat, (cx.stats.get(stat) ?? 0) + by);
}
