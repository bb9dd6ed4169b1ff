// prune-structured: OTOv3-style structured pruning (papers.md §1) of an imported graph. The dependency analysis
// (prune/channel-flow.ts) groups channels that must go together; the pass removes whole channels of those groups by
// slicing every weight, bias and norm entry of the group and the consumers' input columns (prune/channel-slice.ts),
// so every later kernel is smaller. With ratio 0 (the default) it removes only channels that are exactly zero where
// they are consumed (zero-invariant groups, prune/channel-zeros.ts): that drops only terms w * 0, and the
// interpreter's outputs stay bit-identical (for finite inputs). With a ratio it also removes the lowest-scoring
// channels of each group (prune/select.ts): a lossy, training-free compression. A group whose every channel is
// zero is erased with the operators that computed it where its consumers' results only join residual Adds
// (prune/erase.ts: the MLP or attention block disappears); otherwise it keeps one channel.
import { type Graph, type Tensor, constantValue } from '../ir/index.js';
import { inferShapes } from './infer-shapes.js';
import { type Pass, PassOptionError, bump, onlyKeys } from './pass.js';
import { channelFlow } from './prune/channel-flow.js';
import { keptChannels, sliceGraph } from './prune/channel-slice.js';
import { prunableRoots, removableChannels } from './prune/channel-zeros.js';
import { calibratedScores, compensatedBiases, exitStats } from './prune/calibrate.js';
import { eraseEmpty } from './prune/erase.js';
import { type SelectOptions, selectChannels } from './prune/select.js';

export interface PruneStructuredOptions extends SelectOptions {
  /** Only groups one of whose weights' names matches (a regular expression); all prunable groups when absent. */
  readonly only?: string;
  /** Sample inputs (every graph input of each): scores by activation norms and bias compensation (calibrate.ts). */
  readonly calibration?: readonly Readonly<Record<string, Tensor>>[];
}

function readOptions(raw: Readonly<Record<string, unknown>>): PruneStructuredOptions {
  onlyKeys('prune-structured', raw, ['ratio', 'heads', 'scope', 'floor', 'multiple', 'norm', 'only', 'calibration']);
  const calibration = raw.calibration as PruneStructuredOptions['calibration'];
  if (calibration !== undefined && (!Array.isArray(calibration) || !calibration.length))
    throw new PassOptionError('prune calibration must be a non-empty list of samples (input name -> tensor)');
  const num = (key: string, fallback: number): number => (raw[key] === undefined ? fallback : Number(raw[key]));
  const ratio = num('ratio', 0);
  if (!(ratio >= 0 && ratio < 1)) throw new PassOptionError(`prune ratio must be at least 0 and below 1, got ${String(raw.ratio)}`);
  const heads = num('heads', ratio);
  if (!(heads >= 0 && heads < 1)) throw new PassOptionError(`prune heads ratio must be at least 0 and below 1, got ${String(raw.heads)}`);
  const floor = num('floor', 0.05);
  if (!(floor >= 0 && floor <= 1)) throw new PassOptionError(`prune floor must be between 0 and 1, got ${String(raw.floor)}`);
  const multiple = num('multiple', 1);
  if (!(Number.isInteger(multiple) && multiple >= 1)) throw new PassOptionError(`prune multiple must be a positive integer, got ${String(raw.multiple)}`);
  const scope = raw.scope ?? 'layer';
  if (scope !== 'layer' && scope !== 'global') throw new PassOptionError(`prune scope must be 'layer' or 'global', got '${String(scope)}'`);
  const norm = raw.norm ?? 'l2';
  if (norm !== 'l1' && norm !== 'l2') throw new PassOptionError(`prune norm must be 'l1' or 'l2', got '${String(norm)}'`);
  if (raw.only !== undefined)
    try {
      new RegExp(String(raw.only));
    } catch (e) {
      throw new PassOptionError(`prune pattern '${String(raw.only)}' is not a regular expression: ${(e as Error).message}`);
    }
  return { ratio, heads, scope, floor, multiple, norm, ...(raw.only !== undefined ? { only: String(raw.only) } : {}), ...(calibration ? { calibration } : {}) };
}

export const pruneStructured: Pass<PruneStructuredOptions> = {
  name: 'prune-structured',
  summary: 'Remove whole channels of dependency groups: exactly-zero ones (ratio 0, exact), or the lowest-scoring to a ratio.',
  tolerance: { kind: 'lossy', note: 'with ratio 0 (the default) only exactly-zero channels go and outputs are bit-identical' },
  options: readOptions,
  run(g, cx) {
    const o = cx.options;
    const flow = channelFlow(g);
    const cache = new Map<string, Tensor>();
    const byName = new Map(g.constants.map((c) => [c.name, c]));
    const load = (name: string): Tensor => {
      let t = cache.get(name);
      if (!t) {
        const c = byName.get(name)!;
        t = constantValue(c);
        cache.set(name, t);
      }
      return t;
    };
    let roots = [...prunableRoots(flow)];
    if (o.only !== undefined) {
      const re = new RegExp(o.only);
      roots = roots.filter((r) => flow.spaces.get(r).slices.some((s) => s.role === 'out' && re.test(s.constant)));
      if (!roots.length) throw new PassOptionError(`prune pattern '${o.only}' matches no weight of a prunable group in ${g.name}`);
    }
    if (o.ratio > 0 && o.multiple > 1)
      for (const r of roots.filter((x) => !flow.spaces.get(x).heads)) {
        const { size, producers } = flow.spaces.get(r);
        if (size % o.multiple) throw new PassOptionError(`prune multiple ${o.multiple} does not divide the ${size} channels of the group of %${producers[0]} in ${g.name}`);
      }
    const zeros = removableChannels(flow, load);
    for (const r of zeros.keys()) if (!roots.includes(r)) zeros.delete(r);
    const stats = o.calibration && o.ratio > 0 ? calibrationStats(g, flow, o.calibration) : undefined;
    const removed = selectChannels(flow, roots, zeros, load, o, stats && ((r) => calibratedScores(g, flow, r, stats, load)));
    if (!removed.size) return g;
    // The removed channels' mean contributions move into their consumers' biases before anything is sliced.
    const biases = stats ? compensatedBiases(g, flow, removed, stats, load) : new Map<string, Tensor>();
    for (const [name, t] of biases) (cache.set(name, t), bump(cx, 'biases-compensated'));
    const base = biases.size ? withValues(g, biases) : g;
    // Groups that lose every channel are erased where their operators can go; the others keep one channel.
    const whole = [...removed].filter(([r, gone]) => gone.length === flow.spaces.get(r).size).map(([r]) => r);
    const keepOne = (rs: readonly number[]): Map<number, number[]> => new Map([...removed].map(([r, gone]) => [r, rs.includes(r) ? gone.slice(1) : gone]));
    const attempt = (except: readonly number[]): Graph | undefined => eraseEmpty(sliceGraph(base, flow, keptChannels(flow, keepOne(except)), load));
    let pruned = whole.length ? attempt([]) : undefined;
    let erasable = whole;
    if (!pruned && whole.length) {
      // Each unit (the parts of one concatenation go together) is tried alone, the rest keeping one channel.
      const units = eraseUnits(flow, whole);
      erasable = units.filter((u) => attempt(whole.filter((r) => !u.includes(r)))).flat();
      pruned = erasable.length ? attempt(whole.filter((r) => !erasable.includes(r))) : undefined;
      if (!pruned) erasable = [];
    }
    if (erasable.length) bump(cx, 'groups-erased', erasable.length);
    for (const [r, gone] of keepOne(whole.filter((r) => !erasable.includes(r)))) gone.length ? removed.set(r, gone) : removed.delete(r);
    if (!removed.size) return g;
    pruned ??= sliceGraph(base, flow, keptChannels(flow, removed), load);
    for (const gone of removed.values()) bump(cx, 'channels-removed', gone.length);
    bump(cx, 'groups-pruned', removed.size);
    return inferShapes.run(pruned, { ...cx, stats: new Map(), options: undefined });
  },
};

/** The roots to erase grouped so that parts of one auxiliary space (a concatenation's branches) are one unit. */
function eraseUnits(flow: ReturnType<typeof channelFlow>, roots: readonly number[]): number[][] {
  const { spaces } = flow;
  const unitOf = new Map(roots.map((r) => [r, [r]]));
  for (const a of spaces.roots()) {
    const parts = [...new Set((spaces.get(a).parts ?? []).map((p) => spaces.root(p.space)))].filter((r) => unitOf.has(r));
    const merged = [...new Set(parts.flatMap((r) => unitOf.get(r)!))];
    for (const r of merged) unitOf.set(r, merged);
  }
  return [...new Set(unitOf.values())];
}

/** Activation statistics over the samples, which must hold every input of g. */
function calibrationStats(g: Graph, flow: ReturnType<typeof channelFlow>, samples: readonly Readonly<Record<string, Tensor>>[]) {
  for (const [i, s] of samples.entries()) {
    const missing = g.inputs.find((d) => !s[d.name]);
    if (missing) throw new PassOptionError(`prune calibration sample ${i + 1} has no tensor for input %${missing.name} of ${g.name}`);
  }
  return exitStats(g, flow, samples);
}

/** g with these constants' values replaced (inline now, whatever file they came from). */
function withValues(g: Graph, values: ReadonlyMap<string, Tensor>): Graph {
  return {
    ...g,
    constants: g.constants.map((c) => {
      const value = values.get(c.name);
      if (!value) return c;
      const { external: _file, ...rest } = c;
      return { ...rest, value };
    }),
  };
}
