// Drives a loaded decoder artifact call by call, as a runtime must (chunked prefill with a padded last chunk, then
// one decode call per token fed back), and checks each step's logits (within 1e-4 unless told) and next token against the
// interpreter's reference run (test/import/hf-generate.ts interpGenerate).
import { expect } from 'vitest';
import type { HfGeneration } from '../../ir/index.js';
import type { Session } from '../../runtime/index.js';

/** Largest absolute difference between two equally long arrays. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

export async function expectStepsMatch(
  session: Session,
  gen: HfGeneration,
  prompt: readonly number[],
  reference: { readonly tokens: readonly number[]; readonly logits: readonly Float64Array[] },
  tolerance = 1e-4,
): Promise<void> {
  const step = async (entry: string, ids: number[], pos: number, len: number) => {
    const out = await session.run({ [gen.ids]: ids, [gen.position]: [pos], [gen.length]: [len] }, entry);
    return { logits: out[gen.logits]!.data as ArrayLike<number>, token: Number(out[gen.nextToken]!.data[0]) };
  };
  let last = { logits: new Float32Array() as ArrayLike<number>, token: -1 };
  for (let at = 0; at < prompt.length; at += gen.chunk) {
    const rows = prompt.slice(at, at + gen.chunk);
    last = await step(gen.prefill, [...rows, ...new Array<number>(gen.chunk - rows.length).fill(0)], at, rows.length);
  }
  for (let k = 0; k < reference.tokens.length; k++) {
    expect(maxDiff(last.logits, reference.logits[k]!), `logits of step ${k}`).toBeLessThan(tolerance);
    expect(last.token, `token ${k}`).toBe(reference.tokens[k]);
    if (k + 1 < reference.tokens.length) last = await step(gen.decode, [last.token], prompt.length + k, 1);
  }
}
