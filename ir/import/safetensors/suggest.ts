// Close-name suggestions for a param whose tensor is missing. Checkpoint names differ from what a .kir author
// expects mostly by a prefix (`model.`, `transformer.`), a renamed segment, or a typo, so both suffix matches
// and small edit distances count.

/** Up to `limit` names close to `wanted`, best first. */
export function closeNames(wanted: string, names: Iterable<string>, limit = 3): string[] {
  const scored: { name: string; score: number }[] = [];
  for (const name of names) {
    const score = closeness(wanted, name);
    if (score !== undefined) scored.push({ name, score });
  }
  scored.sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.name);
}

/** Lower is closer; undefined when the names are unrelated. */
function closeness(wanted: string, name: string): number | undefined {
  if (name.endsWith(`.${wanted}`) || wanted.endsWith(`.${name}`)) return 0.5; // a prefix added or dropped
  const limit = Math.max(2, Math.floor(wanted.length / 4));
  const d = editDistance(wanted, name, limit);
  return d <= limit ? d : undefined;
}

/** Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > limit) return limit + 1;
    prev = row;
  }
  return prev[b.length]!;
}
