// Buffer planning: every value the schedule touches gets a region. Constants go to the weights buffer, packed in
// first-use order into weights.bin (already in their storage encoding); inputs, intermediates, outputs and kernel
// scratch go to activation slot buffers, assigned by liveness so that memory is reused once a value is dead.
import { type Graph, numel } from '../../ir/index.js';
import { byteLength, encode } from '../../runtime/codec.js';
import type { Region } from '../../runtime/plan.js';
import type { Schedule } from '../lower/schedule.js';
import { type Block, alignUp, planSlots } from './arena.js';

export const WEIGHTS_BUFFER = 0;
/** Activation slot k is buffer FIRST_SLOT_BUFFER + k. */
export const FIRST_SLOT_BUFFER = 1;

export interface BufferPlan {
  readonly weights: Uint8Array;
  /** Region of every value by name (aliases resolved to their root's region). */
  readonly regions: ReadonlyMap<string, Region>;
  /** Region of each scratch buffer, keyed by `scratchKey(stepNodeIndex, name)`. */
  readonly scratch: ReadonlyMap<string, Region>;
  /** Size of each activation slot buffer (buffer id FIRST_SLOT_BUFFER + index). */
  readonly slotBytes: readonly number[];
  /** Size of the uniform buffer (buffer id FIRST_SLOT_BUFFER + slotBytes.length), 0 when no kernel takes uniforms. */
  readonly uniformBytes: number;
  readonly arenaBytes: number;
  /** Activation bytes if nothing were reused. */
  readonly noReuseBytes: number;
}

/** WebGPU's minUniformBufferOffsetAlignment ceiling: every adapter accepts uniform bindings at this spacing. */
export const UNIFORM_SPACING = 256;
/** A uniform scalar is bound as a vec4 (uniform bindings are at least 16 bytes). */
export const UNIFORM_BINDING_BYTES = 16;

export const scratchKey = (nodeIndex: number, name: string): string => `${nodeIndex}:${name}`;

export function planBuffers(g: Graph, s: Schedule, alignment: number): BufferPlan {
  const root = (v: string): string => s.aliases.get(v) ?? v;
  const constants = new Map(g.constants.map((c) => [c.name, c]));
  const bytesOf = (v: string): number => {
    const t = g.types.get(v)!;
    return byteLength(t.dtype, numel(t.shape as number[]));
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
  // Values bound as uniforms (scalar inputs such as a decode position) live in the uniform buffer, never in a
  // storage slot: a buffer cannot be both, and these must not move between runs.
  const uniformUse = new Map<string, boolean>();
  for (const step of s.steps)
    for (const a of step.args)
      if ('value' in a) {
        const v = root(a.value);
        const asUniform = !!a.uniform;
        if (uniformUse.has(v) && uniformUse.get(v) !== asUniform)
          throw new Error(`%${v} is bound both as a uniform and as a storage tensor; give the storage use its own value`);
        uniformUse.set(v, asUniform);
      }
  const uniformValues = [...uniformUse].filter(([, u]) => u).map(([v]) => v);
  for (const v of uniformValues) {
    const t = g.types.get(v)!;
    if (!g.inputs.some((i) => i.name === v) || t.shape.length !== 0)
      throw new Error(`%${v} is bound as a uniform but is not a scalar graph input; only scalar inputs can be uniforms`);
  }
  const scratchBlocks = new Map<string, { bytes: number; start: number; end: number }>();
  s.steps.forEach((step, i) => {
    step.args.forEach((a) => {
      if ('value' in a) touch(root(a.value), i);
      else {
        const key = scratchKey(nodeIndex.get(step.node)!, a.scratch);
        const b = scratchBlocks.get(key);
        scratchBlocks.set(key, { bytes: Math.max(b?.bytes ?? 0, a.bytes), start: b?.start ?? i, end: i });
      }
    });
  });
  for (const o of g.outputs) touch(root(o), s.steps.length);

  // Weights: constants in first-use order, each segment aligned for binding offsets.
  const used = [...start.keys()].filter((v) => constants.has(v)).sort((a, b) => start.get(a)! - start.get(b)! || (a < b ? -1 : 1));
  const regions = new Map<string, Region>();
  const segments: Uint8Array[] = [];
  let at = 0;
  for (const name of used) {
    const c = constants.get(name)!;
    if (!c.value) throw new Error(`constant %${name} has no data (parameter '${c.source}' was never bound to weights)`);
    // At least four bytes, so even an empty tensor can be bound.
    const bytes = encode(c.value.dtype, c.value.data, 4);
    regions.set(name, { buffer: WEIGHTS_BUFFER, offset: at, bytes: bytesOf(name) });
    segments.push(bytes);
    at = alignUp(at + bytes.byteLength, alignment);
    const pad = at - (regions.get(name)!.offset + bytes.byteLength);
    if (pad) segments.push(new Uint8Array(pad));
  }
  const weights = concat(segments);

  const blocks: Block[] = [];
  for (const [v, s0] of start) if (!constants.has(v) && !uniformUse.get(v)) blocks.push({ id: `v:${v}`, bytes: bytesOf(v), start: s0, end: end.get(v)! });
  for (const [key, b] of scratchBlocks) blocks.push({ id: `s:${key}`, ...b });
  const slots = planSlots(blocks);
  const regionOf = (b: Block): Region => ({ buffer: FIRST_SLOT_BUFFER + slots.slotOf.get(b.id)!, offset: 0, bytes: b.bytes });
  const scratch = new Map<string, Region>();
  for (const b of blocks) {
    if (b.id.startsWith('v:')) regions.set(b.id.slice(2), regionOf(b));
    else scratch.set(b.id.slice(2), regionOf(b));
  }
  const uniformBuffer = FIRST_SLOT_BUFFER + slots.slotBytes.length;
  uniformValues.forEach((v, k) => regions.set(v, { buffer: uniformBuffer, offset: k * UNIFORM_SPACING, bytes: UNIFORM_BINDING_BYTES }));
  const uniformBytes = uniformValues.length ? (uniformValues.length - 1) * UNIFORM_SPACING + UNIFORM_BINDING_BYTES : 0;
  for (const [alias, of] of s.aliases) {
    const r = regions.get(of);
    if (r) regions.set(alias, r);
  }
  return { weights, regions, scratch, slotBytes: slots.slotBytes, uniformBytes, arenaBytes: slots.peak, noReuseBytes: slots.total };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
