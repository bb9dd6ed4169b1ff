// Damaged manifests for tests and the manifest fuzz target: a fast-check arbitrary that takes a valid manifest and, at a random JSON path,
// replaces the value with one of the wrong type or range, deletes it, or duplicates a list item.
import fc from 'fast-check';

/** A small graph (a matmul over an inline weight, then Relu) whose compiled manifest the tests damage. */
export const SMALL_KIR = `graph @m(%x: f32[2,3]) {
  const %w: f32[3,4] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
  %y = MatMul(%x, %w)
  %z = Relu(%y)
  return %z
}`;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every JSON path (as keys) inside `v`, the root excluded. */
export function jsonPaths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => [[...prefix, i], ...jsonPaths(x, [...prefix, i])]);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [[...prefix, k], ...jsonPaths(x, [...prefix, k])]);
  return [];
}

const JUNK: Json[] = [null, true, '', 'x', 'f64', -1, 1.5, 2 ** 53, 1e300, [], {}, [0], { buffer: 0 }, 0, 3, 'toString'];

export type Mutation = { path: (string | number)[]; kind: 'replace'; value: Json } | { path: (string | number)[]; kind: 'delete' };

export function arbMutation(manifest: Json): fc.Arbitrary<Mutation> {
  const paths = jsonPaths(manifest);
  return fc.oneof(
    fc.record({ path: fc.constantFrom(...paths), kind: fc.constant('replace' as const), value: fc.oneof(fc.constantFrom(...JUNK), fc.integer({ min: -3, max: 1 << 20 })) }),
    fc.record({ path: fc.constantFrom(...paths), kind: fc.constant('delete' as const) }),
  );
}

/** A deep copy of `manifest` with the mutation applied. */
export function mutate(manifest: Json, m: Mutation): Json {
  const copy = structuredClone(manifest);
  let parent = copy as Record<string | number, Json>;
  for (const key of m.path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = m.path.at(-1)!;
  if (m.kind === 'replace') parent[last] = m.value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}
