import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Block, planSlots } from '../../compiler/memory/arena.js';

const arbBlocks = fc
  .array(fc.record({ bytes: fc.integer({ min: 0, max: 5000 }), start: fc.nat(30), len: fc.nat(10) }), { maxLength: 40 })
  .map((xs) => xs.map((x, i): Block => ({ id: `b${i}`, bytes: x.bytes, start: x.start, end: x.start + x.len })));

describe('activation slot planning', () => {
  it('never puts two blocks alive at the same step into one slot, and every slot holds its blocks', () => {
    fc.assert(
      fc.property(arbBlocks, (blocks) => {
        const plan = planSlots(blocks);
        for (const a of blocks) {
          expect(plan.slotBytes[plan.slotOf.get(a.id)!]!).toBeGreaterThanOrEqual(a.bytes);
          for (const b of blocks)
            if (a !== b && a.start <= b.end && b.start <= a.end) expect(plan.slotOf.get(a.id)).not.toBe(plan.slotOf.get(b.id));
        }
        expect(plan.peak).toBeLessThanOrEqual(plan.total);
      }),
      { numRuns: 500 },
    );
  });

  it('reuses memory along a chain: peak is two blocks, not all of them', () => {
    const chain: Block[] = Array.from({ length: 10 }, (_, i) => ({ id: `v${i}`, bytes: 1024, start: i, end: i + 1 }));
    const plan = planSlots(chain);
    expect(plan.total).toBe(10 * 1024);
    expect(plan.peak).toBe(2 * 1024);
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(arbBlocks, (blocks) => {
        const a = planSlots(blocks);
        const b = planSlots([...blocks].reverse());
        expect([...a.slotOf].sort()).toEqual([...b.slotOf].sort());
      }),
      { numRuns: 200 },
    );
  });
});
