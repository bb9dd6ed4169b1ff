// Comparing outputs of two engines as plain number arrays, by output name.
export type NamedOutputs = Readonly<Record<string, ArrayLike<number>>>;

/** max |a - b| over the outputs both have (NaN on both sides counts as equal); Infinity on a length mismatch. */
export function maxAbsDiff(a: NamedOutputs, b: NamedOutputs): number {
  let worst = 0;
  for (const [name, x] of Object.entries(a)) {
    const y = b[name];
    if (!y) continue;
    if (x.length !== y.length) return Infinity;
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i]!) && Number.isNaN(y[i]!)) continue;
      const d = Math.abs(x[i]! - y[i]!);
      worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
    }
  }
  return worst;
}

/** Output names `a` has and `b` lacks. */
export const missingIn = (a: NamedOutputs, b: NamedOutputs): string[] => Object.keys(a).filter((k) => !(k in b));
