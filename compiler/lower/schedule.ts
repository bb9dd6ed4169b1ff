// Scheduling: walk the graph in order and lower each node to kernel steps (or an alias). The result is the
// flat dispatch order of the artifact, the alias map (values that share another value's memory) and the
// deduplicated kernels in first-use order.
import { type Graph, type Node, type TensorType, consumers, describeNode, formatLoc, formatType, isPlainStorage } from '../../ir/index.js';
import { DEFAULT_PROFILE, type DeviceProfile, PROFILES, readsInPlace } from '../../passes/index.js';
import { KernelCache, type Kernel } from '../kernel-spec.js';
import type { Target } from '../wgsl/build.js';
import { planCacheFolds } from './fuse-cache-write.js';
import { planEpilogues } from './fuse-epilogue.js';
import type { SparseKernelOverride } from './sparse-lowerings.js';
import { planElementwiseFusion } from './fuse.js';
import { planOperandCasts } from './fuse-operand-casts.js';
import { dimSymbols } from '../../ir/dim.js';
import type { DimContext } from '../wgsl/dims.js';
import { type LoweringContext, LoweringError, type NodeLowering, type Step } from './lowering.js';
import { lowerFusedElementwise } from './table.js';

export interface ScheduledStep extends Step {
  /** The node this step computes (a node may take several steps). */
  readonly node: Node;
  readonly label: string;
}

export interface Schedule {
  readonly steps: readonly ScheduledStep[];
  /** value -> the value whose memory it shares (resolved to the root, never a chain). */
  readonly aliases: ReadonlyMap<string, string>;
  /** An alias's byte offset within its root's memory, where not 0 (views of a Split). */
  readonly offsets: ReadonlyMap<string, number>;
  readonly kernels: readonly Kernel[];
}

export interface ScheduleOptions {
  /** The program's symbols (all entries share one dims buffer); defaults to the graph's own, sorted by name. */
  readonly dims?: DimContext;
  readonly profile?: DeviceProfile;
  readonly sparseKernel?: SparseKernelOverride;
}

export function scheduleGraph(g: Graph, target: Target, table: Readonly<Record<string, NodeLowering>>, opts: ScheduleOptions = {}): Schedule {
  // Chains of elementwise nodes become one kernel each (see fuse.ts); the chain's last node stands for the group.
  const cache = new KernelCache();
  const typeOf = (v: string): TensorType => {
    const t = g.types.get(v);
    if (!t) throw new LoweringError(`%${v} has no type; run infer-shapes first`);
    return t;
  };
  // Widening casts of matmul operands are folded into the matmuls' loads (see fuse-operand-casts.ts).
  const operandCasts = planOperandCasts(g);
  const stored = new Map(g.constants.map((c) => [c.name, c.value]));
  const symbols = Object.keys(g.symbols).sort();
  const dims = opts.dims ?? (symbols.length ? { order: symbols, bounds: g.symbols } : undefined);
  const cx: LoweringContext = {
    target,
    graphName: g.name,
    ...(dims ? { dims } : {}),
    typeOf,
    storage: (v) => stored.get(v),
    profile: opts.profile ?? PROFILES[DEFAULT_PROFILE]!,
    ...(opts.sparseKernel ? { sparseKernel: opts.sparseKernel } : {}),
    kernel: (gen, spec) => cache.get(gen, spec),
    operandSources: operandCasts.sources,
  };
  const steps: ScheduledStep[] = [];
  const aliases = new Map<string, string>();
  const offsets = new Map<string, number>();
  /** `out` shares the memory of `of` (itself perhaps a view), `offset` bytes further in. */
  const share = (out: string, of: string, offset = 0): void => {
    aliases.set(out, aliases.get(of) ?? of);
    const at = (offsets.get(of) ?? 0) + offset;
    if (at) offsets.set(out, at);
  };
  const kernels: Kernel[] = [];
  const seen = new Set<string>();
  // Followers of matmul/conv are fused into their epilogues first; the remaining elementwise chains after that.
  const epilogues = planEpilogues(g);
  const cacheFolds = planCacheFolds(g);
  const readers = consumers(g);
  const graphOutputs = new Set(g.outputs);
  const fusion = planElementwiseFusion(g, new Set([...epilogues.absorbed, ...operandCasts.absorbed]));
  for (const node of g.nodes) {
    if (fusion.absorbed.has(node) || epilogues.absorbed.has(node) || operandCasts.absorbed.has(node)) continue;
    const group = fusion.groups.get(node);
    const epilogue = epilogues.epilogues.get(node);
    const cacheFold = cacheFolds.folds.get(node);
    const lower = group ? lowerFusedElementwise(group) : table[node.op];
    const label = (group ?? [...(cacheFold?.nodes ?? []), node, ...(epilogue?.nodes ?? [])]).map(describeNode).join('; ');
    if (!lower)
      throw new LoweringError(`${formatLoc(node.loc)}${label}: kiln has no WebGPU kernel for ${node.op} yet; the graph cannot be compiled (the reference interpreter can still run it: kiln ir run)`);
    // Kernels read plain storage; a constant under a layout or encoding reaches only its decode (Materialize) or a
    // reader that knows its storage (passes/materialize-encodings.ts puts the decode in front of every other one).
    const stored = node.op === 'Materialize' ? undefined : node.inputs.find((v) => v !== '' && !isPlainStorage(typeOf(v)) && !readsInPlace(typeOf, node, v, readers, graphOutputs));
    if (stored !== undefined)
      throw new LoweringError(`${formatLoc(node.loc)}${label}: reads %${stored} (${formatType(typeOf(stored))}) in its stored form, which its kernel cannot; run materialize-encodings first`);
    let lowered;
    try {
      const fused = { ...(epilogue ? { epilogue } : {}), ...(cacheFold ? { cacheFold } : {}), ...(cacheFolds.folded.has(node) ? { writtenByAttention: true } : {}) };
      lowered = lower(node, Object.keys(fused).length ? { ...cx, ...fused } : cx);
    } catch (e) {
      if (e instanceof LoweringError && e.message.includes(label)) throw e;
      // Programming errors are kiln bugs, not refusals: let them surface as such.
      if (e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError) throw e;
      const message = (e as Error).message;
      // Symbolic dims reach kernels as uniforms only where a kernel supports it; elsewhere the fix is to specialise.
      const symbols = [...new Set([...node.inputs, ...node.outputs].filter((v) => v !== '' && g.types.has(v)).flatMap((v) => g.types.get(v)!.shape.flatMap(dimSymbols)))];
      const sizes = symbols.length ? symbols.map((s) => `--dim ${s}=<size>`).join(' ') : '--dim <symbol>=<size>';
      const hint = /symbolic/.test(message) ? ` (this kernel needs static sizes: specialise with kiln compile ${sizes})` : '';
      throw new LoweringError(`${formatLoc(node.loc)}${label}: ${message}${hint}`);
    }
    if (lowered.kind === 'alias') {
      share(node.outputs[0]!, lowered.of);
      continue;
    }
    if (lowered.kind === 'views') {
      for (const v of lowered.views) share(v.output, lowered.of, v.offset);
      continue;
    }
    if (lowered.kind === 'inplace') {
      const others = (readers.get(lowered.of) ?? []).filter((n) => n !== node);
      if (others.length || g.outputs.includes(lowered.of))
        throw new LoweringError(`${formatLoc(node.loc)}${label}: updates %${lowered.of} in place, but ${others.length ? describeNode(others[0]!) : 'the graph output'} also reads it`);
      share(node.outputs[0]!, lowered.of);
    }
    for (const s of lowered.steps) {
      // A lowering decision that is not in the IR (which sparse kernel reads a Tiled-CSL weight) shows in the label.
      const choice = s.sparse ? ` [tiled-csl ${s.sparse.variant}${s.sparse.splitK > 1 ? `, split-K ${s.sparse.splitK}` : ''}]` : '';
      steps.push({ ...s, node, label: label + choice });
      if (!seen.has(s.kernel.hash)) {
        seen.add(s.kernel.hash);
        kernels.push(s.kernel);
      }
    }
  }
  return { steps, aliases, offsets, kernels };
}
