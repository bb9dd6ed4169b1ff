// Buffer planning for one entry point. Values with a program-wide home (weights, persistent state, uniforms) come
// in as fixed regions; everything else the schedule touches (inputs, intermediates, outputs, kernel scratch) goes
// to activation slot buffers, assigned by liveness so memory is reused once a value is dead. Slots are numbered
// from `firstSlotBuffer`; entries of one program share slot buffers (they never run at the same time).
import { type Graph, numel } from '../../ir/index.js';
import { dimRange } from '../../ir/dim.js';
import type { Dim, SymbolBound } from '../../ir/shape.js';
import { byteLength } from '../../runtime/codec.js';
import type { Region } from '../../runtime/plan.js';
import type { Schedule } from '../lower/schedule.js';
import { type Block, planSlots } from './arena.js';

export interface BufferPlan {
  /** Region of every value by name (aliases resolved to their root's region). */
  readonly regions: ReadonlyMap<string, Region>;
  /** Region of each scratch buffer, keyed by `scratchKey(stepNodeIndex, name)`. */
  readonly scratch: ReadonlyMap<string, Region>;
  /** Size of each activation slot buffer (buffer id firstSlotBuffer + index). */
  readonly slotBytes: readonly number[];
  readonly arenaBytes: number;
  /** Activation bytes if nothing were reused. */
  readonly noReuseBytes: number;
}

/** WebGPU's minUniformBufferOffsetAlignment ceiling: every adapter accepts uniform bindings at this spacing. */
export const UNIFORM_SPACING = 256;
/** A uniform scalar is bound as a vec4 (uniform bindings are at least 16 bytes). */
export const UNIFORM_BINDING_BYTES = 16;

export const scratchKey = (nodeIndex: number, name: string): string => `${nodeIndex}:${name}`;

const rootOf =
  (s: Schedule) =>
  (v: string): string =>
    s.aliases.get(v) ?? v;

/**
 * The values a schedule binds as uniforms (scalar inputs such as a decode position). They live in the uniform
 * buffer, never in a storage slot: a buffer cannot be both, and they must not move between runs.
 */
export function uniformValues(g: Graph, s: Schedule): string[] {
  const root = rootOf(s);
  const use = new Map<string, boolean>();
  for (const step of s.steps)
    for (const a of step.args)
      if ('value' in a) {
        const v = root(a.value);
        const asUniform = !!a.uniform;
        if (use.has(v) && use.get(v) !== asUniform)
          throw new Error(`%${v} is bound both as a uniform and as a storage tensor (by ${step.label}); only the decode ops may read it`);
        use.set(v, asUniform);
      }
  const out = [...use].filter(([, u]) => u).map(([v]) => v);
  for (const v of out)
    if (!g.inputs.some((i) => i.name === v) || g.types.get(v)!.shape.length !== 0)
      throw new Error(`%${v} is bound as a uniform but is not a scalar graph input; only scalar inputs can be uniforms`);
  return out;
}

/**
 * Constants the schedule reads, in first-use order (the order they are packed into weights), by the names of their
 * stored parts (`stored`: every part name; a Tiled-CSL constant's two parts are bound separately).
 */
export function usedConstants(g: Graph, s: Schedule, stored: ReadonlySet<string>): string[] {
  const root = rootOf(s);
  const constants = stored;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const step of s.steps)
    for (const a of step.args)
      if ('value' in a) {
        const v = root(a.value);
        if (constants.has(v) && !seen.has(v)) {
          seen.add(v);
          out.push(v);
        }
      }
  for (const o of g.outputs) {
    const v = root(o);
    if (constants.has(v) && !seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}

export function planBuffers(g: Graph, s: Schedule, fixed: ReadonlyMap<string, Region>, firstSlotBuffer: number): BufferPlan {
  const root = rootOf(s);
  // Symbolic values get room for their largest size (the symbols' upper bounds): one plan serves every run.
  const bytesOf = (v: string): number => {
    const t = g.types.get(v)!;
    return byteLength(t.dtype, numel(t.shape.map((d) => dimMaxOf(d, g.symbols))));
  };

  // Liveness over dispatch indices. Inputs are written before step 0; outputs must survive the last step.
  const start = new Map<string, number>();
  const end = new Map<string, number>();
  const touch = (v: string, i: number): void => {
    if (!start.has(v)) start.set(v, i);
    end.set(v, Math.max(end.get(v) ?? i, i));
  };
  for (const i of g.inputs) touch(i.name, 0);
  const nodeIndex = new Map(g.nodes.map((n, k) => [n, k]));
  const scratchBlocks = new Map<string, { bytes: number; start: number; end: number }>();
  s.steps.forEach((step, i) => {
    step.args.forEach((a) => {
      if ('value' in a) touch(root(a.value), i);
      else if ('scratch' in a) {
        const key = scratchKey(nodeIndex.get(step.node)!, a.scratch);
        const b = scratchBlocks.get(key);
        scratchBlocks.set(key, { bytes: Math.max(b?.bytes ?? 0, a.bytes), start: b?.start ?? i, end: i });
      }
    });
  });
  for (const o of g.outputs) touch(root(o), s.steps.length);

  const constants = new Set(g.constants.map((c) => c.name));
  const regions = new Map<string, Region>();
  const blocks: Block[] = [];
  for (const [v, s0] of start) {
    const home = fixed.get(v);
    if (home) regions.set(v, home);
    else if (constants.has(v)) throw new Error(`constant %${v} has no place in the weights`);
    else blocks.push({ id: `v:${v}`, bytes: bytesOf(v), start: s0, end: end.get(v)! });
  }
  for (const [key, b] of scratchBlocks) blocks.push({ id: `s:${key}`, ...b });
  const slots = planSlots(blocks);
  const regionOf = (b: Block): Region => ({ buffer: firstSlotBuffer + slots.slotOf.get(b.id)!, offset: 0, bytes: b.bytes });
  const scratch = new Map<string, Region>();
  for (const b of blocks) {
    if (b.id.startsWith('v:')) regions.set(b.id.slice(2), regionOf(b));
    else scratch.set(b.id.slice(2), regionOf(b));
  }
  for (const [alias, of] of s.aliases) {
    const r = regions.get(of);
    const at = s.offsets.get(alias);
    if (r) regions.set(alias, at === undefined ? r : { ...r, offset: r.offset + at, bytes: bytesOf(alias) });
  }
  return { regions, scratch, slotBytes: slots.slotBytes, arenaBytes: slots.peak, noReuseBytes: slots.total };
}

/** A dim's largest value within the graph's symbol bounds. */
export function dimMaxOf(d: Dim, symbols: Readonly<Record<string, SymbolBound>>): number {
  return typeof d === 'number' ? d : dimRange(d, (s) => symbols[s] ?? { min: 0, max: 0 })[1];
}
