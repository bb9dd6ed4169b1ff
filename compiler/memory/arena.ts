// Activation memory planning: assign blocks with known live ranges to buffer slots so that blocks alive at the
// same time never share a slot, and memory is reused once a block is dead. Slots, not offsets in one big
// buffer: WebGPU forbids binding one buffer both writable and read-only in the same dispatch, so a kernel's
// inputs and outputs must live in different buffers. Greedy by size (largest first), each block into the
// best-fitting slot whose occupants are all dead by then, growing a slot or opening a new one only when none
// fits: deterministic and close to optimal on the chain-like lifetimes of inference graphs.

export interface Block {
  readonly id: string;
  readonly bytes: number;
  /** First and last step (inclusive) at which the block holds live data. */
  readonly start: number;
  readonly end: number;
}

export interface SlotPlan {
  readonly slotOf: ReadonlyMap<string, number>;
  readonly slotBytes: readonly number[];
  /** Bytes all slots take together. */
  readonly peak: number;
  /** Bytes without reuse (every block its own memory): what the plan saves against. */
  readonly total: number;
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

const sizeOf = (b: Block): number => alignUp(Math.max(b.bytes, 4), 4);

export function planSlots(blocks: readonly Block[]): SlotPlan {
  const order = [...blocks].sort((a, b) => b.bytes - a.bytes || a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const slots: { bytes: number; occupants: Block[] }[] = [];
  const slotOf = new Map<string, number>();
  for (const block of order) {
    const size = sizeOf(block);
    const free = slots
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.occupants.every((o) => o.end < block.start || block.end < o.start));
    // Prefer the smallest free slot already big enough; else grow the largest free one; else open a new slot.
    const fits = free.filter(({ s }) => s.bytes >= size).sort((a, b) => a.s.bytes - b.s.bytes || a.i - b.i)[0];
    const grow = free.sort((a, b) => b.s.bytes - a.s.bytes || a.i - b.i)[0];
    const chosen = fits ?? grow;
    if (chosen) {
      chosen.s.bytes = Math.max(chosen.s.bytes, size);
      chosen.s.occupants.push(block);
      slotOf.set(block.id, chosen.i);
    } else {
      slots.push({ bytes: size, occupants: [block] });
      slotOf.set(block.id, slots.length - 1);
    }
  }
  const slotBytes = slots.map((s) => s.bytes);
  return { slotOf, slotBytes, peak: slotBytes.reduce((a, b) => a + b, 0), total: blocks.reduce((s, b) => s + sizeOf(b), 0) };
}
