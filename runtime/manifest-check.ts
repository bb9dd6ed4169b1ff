// Structural check of a parsed manifest.json before the runtime touches it: every field the runtime reads has the
// type and range it expects, and every cross-reference (buffer, kernel, entry point, file) resolves. A damaged,
// hand-edited or version-skewed manifest then fails with messages naming the JSON path, never with a TypeError
// deep inside pipeline creation. The checkers are tiny combinators: each takes a value and its JSON path and
// appends problems; none throws.
import { storageLayoutOf } from './codec.js';
import { manifestDimProblem } from './dims.js';
import { MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type ManifestDim, type Region } from './plan.js';

type Problems = string[];
type Check = (v: unknown, at: string, out: Problems) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

/** A check that `ok(v)` holds, else the problem "<at> must be <what>, got <v as JSON>". */
const is =
  (ok: (v: unknown) => boolean, what: string): Check =>
  (v, at, out) => {
    if (!ok(v)) out.push(`${at} must be ${what}, got ${JSON.stringify(v)}`);
  };
const int = (min = 0, max = Number.MAX_SAFE_INTEGER): Check => is((v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max, `an integer in ${min}..${max}`);
const num = is(Number.isFinite, 'a finite number');
const isString = (v: unknown): boolean => typeof v === 'string';
const str = is(isString, 'a string');
const oneOf = (...allowed: string[]): Check => is((v) => allowed.includes(v as string), `one of ${allowed.join(', ')}`);
const list =
  (item: Check, length?: number): Check =>
  (v, at, out) => {
    if (!Array.isArray(v)) return void out.push(`${at} must be a list`);
    if (length !== undefined && v.length !== length) return void out.push(`${at} must have ${length} items, got ${v.length}`);
    v.forEach((x, i) => item(x, `${at}[${i}]`, out));
  };
/** A check of an object's entries by `each`, after the problem "<at> must be an object" if it is none. */
const object =
  (each: (v: Record<string, unknown>, at: string, out: Problems) => void): Check =>
  (v, at, out) => {
    if (isObject(v)) each(v, at, out);
    else out.push(`${at} must be an object`);
  };
const record = (value: Check): Check => object((v, at, out) => Object.entries(v).forEach(([k, x]) => value(x, `${at}.${k}`, out)));
/** An object with these fields (`?` after a name: optional); other fields are ignored (newer compilers may add some). */
const obj = (fields: Record<string, Check>): Check =>
  object((v, at, out) => {
    for (const [spec, check] of Object.entries(fields)) {
      const optional = spec.endsWith('?');
      const key = optional ? spec.slice(0, -1) : spec;
      const x = own(v, key);
      if (x === undefined) {
        if (!optional) out.push(`${at}.${key} is missing`);
      } else check(x, `${at}.${key}`, out);
    }
  });

const dtypeName = is(isString, 'a dtype name');
const storageDtype: Check = (v, at, out) => {
  dtypeName(v, at, out);
  try {
    if (isString(v)) storageLayoutOf(v as string);
  } catch {
    out.push(`${at}: unknown dtype ${JSON.stringify(v)}`);
  }
};

const U32 = 0xffffffff;
const region = obj({ buffer: int(), offset: int(), bytes: int() });
/** A manifest dim: an integer, a symbol's name, or a postfix program over both (checked against the symbols later). */
const manifestDim: Check = (v, at, out) => {
  if (typeof v === 'string') return;
  if (Array.isArray(v)) return list((x, a, o) => (typeof x === 'string' ? undefined : is(Number.isInteger, 'an integer or a name')(x, a, o)))(v, at, out);
  int()(v, at, out);
};
const ioTensor = obj({ name: str, dtype: storageDtype, 'declaredDtype?': str, shape: list(manifestDim), region });
// `cost`, `memory` and `sparsity` are for `kiln inspect` only (the runtime ignores them), but inspect prints them.
const dispatch = obj({ kernel: int(), bindings: list(region), workgroups: list((v, at, out) => (typeof v === 'number' ? int(0, U32)(v, at, out) : manifestDim(v, at, out)), 3), label: str, 'cost?': obj({ flops: num, bytesRead: num, bytesWritten: num, 'traffic?': obj({ streams: list(list(num)), described: is((v) => typeof v === 'boolean', 'a boolean'), 'flops?': num, 'barriers?': num, bytesRead: num, bytesWritten: num, ms: num }) }) });
const MANIFEST_SHAPE = obj({
  format: oneOf(MANIFEST_FORMAT),
  version: int(),
  model: obj({ name: str }),
  requires: obj({ features: list(str), limits: record(num) }),
  buffers: list(obj({ id: int(), kind: oneOf('weights', 'arena', 'uniform', 'state'), bytes: int(), 'source?': obj({ file: str, offset: int() }), 'state?': str })),
  kernels: list(
    obj({ id: int(), file: str, entryPoint: str, workgroupSize: list(int(1, 1024), 3), 'workgroupStorageBytes?': int(), bindings: list(obj({ binding: int(), access: oneOf('read', 'read_write', 'uniform') })) }),
  ),
  entryPoints: record(obj({ inputs: list(ioTensor), outputs: list(ioTensor), dispatches: list(dispatch), 'branches?': list(obj({ condition: region, then: int(), else: int(), end: int() })) })),
  'generation?': obj({
    prefill: str,
    decode: str,
    ids: str,
    position: str,
    length: str,
    nextToken: str,
    logits: str,
    chunk: int(1),
    maxSeq: int(1),
    vocabSize: int(1),
    'eosTokenId?': int(),
  }),
  'tokenizer?': str,
  'sparsity?': obj({
    profile: str,
    layers: list(obj({ weight: str, m: int(), k: int(), n: list(int()), sparsity: num, kernel: str, denseBytes: int(), bytes: int() })),
  }),
  'memory?': obj({ arenaBytes: int(), noReuseBytes: int(), weightsBytes: int() }),
  'costProfile?': str,
  'symbols?': list(obj({ name: str, min: int(), max: int() })),
  'dimsBuffer?': int(),
  files: record(obj({ sha256: str, bytes: int() })),
});

/** Problems with a manifest, as messages naming JSON paths (empty when the runtime can execute it). */
export function checkManifest(m: unknown): string[] {
  if (!isObject(m)) return ['manifest is not a JSON object'];
  // The version first: a manifest from another kiln fails with that reason, not with a list of field differences.
  if (own(m, 'format') !== MANIFEST_FORMAT) return [`format is ${JSON.stringify(own(m, 'format'))}, expected "${MANIFEST_FORMAT}"`];
  if (own(m, 'version') !== MANIFEST_VERSION)
    return [`manifest version ${JSON.stringify(own(m, 'version'))} is not supported by this runtime (it reads version ${MANIFEST_VERSION}); recompile the model with a matching kiln`];
  const problems: Problems = [];
  MANIFEST_SHAPE(m, 'manifest', problems);
  if (problems.length) return problems;
  crossReferences(m as unknown as Manifest, problems);
  return problems;
}

/** References between parts of a well-typed manifest: ids unique and known, ranges inside their buffers. */
function crossReferences(m: Manifest, problems: Problems): void {
  const buffers = new Map<number, Manifest['buffers'][number]>();
  for (const b of m.buffers) {
    if (buffers.has(b.id)) problems.push(`buffer id ${b.id} is declared twice`);
    buffers.set(b.id, b);
    if (b.source && !Object.hasOwn(m.files, b.source.file)) problems.push(`buffer ${b.id}: weights file ${b.source.file} is not listed in "files"`);
  }
  const kernels = new Map<number, Manifest['kernels'][number]>();
  for (const k of m.kernels) {
    if (kernels.has(k.id)) problems.push(`kernel id ${k.id} is declared twice`);
    kernels.set(k.id, k);
  }
  const checkRegion = (r: Region, where: string): void => {
    const b = buffers.get(r.buffer);
    if (!b) problems.push(`${where}: unknown buffer ${r.buffer}`);
    else if (r.offset + r.bytes > b.bytes) problems.push(`${where}: range ${r.offset}+${r.bytes} exceeds buffer ${r.buffer} (${b.bytes} bytes)`);
  };
  // Symbolic dims: every dim names declared symbols and is a well-formed program; a dims buffer holds their values.
  const symbols = new Set((m.symbols ?? []).map((s) => s.name));
  for (const s of m.symbols ?? []) if (s.min > s.max) problems.push(`symbol ${s.name}: min ${s.min} > max ${s.max}`);
  if (m.symbols?.length) {
    if (m.dimsBuffer === undefined) problems.push('"symbols" are declared but "dimsBuffer" is missing');
    else checkRegion({ buffer: m.dimsBuffer, offset: 0, bytes: 16 * Math.ceil(m.symbols.length / 4) }, 'dimsBuffer');
  }
  const checkDim = (d: ManifestDim, where: string): void => {
    const why = manifestDimProblem(d, symbols);
    if (why) problems.push(`${where}: ${why}`);
  };
  const entries = Object.entries(m.entryPoints);
  if (entries.length === 0) problems.push('"entryPoints" is empty: the artifact has nothing to run');
  for (const [entry, e] of entries) {
    for (const t of [...e.inputs, ...e.outputs]) {
      checkRegion(t.region, `${entry}: tensor ${t.name}`);
      t.shape.forEach((d, i) => checkDim(d, `${entry}: tensor ${t.name} dim ${i}`));
    }
    e.dispatches.forEach((d, i) => {
      const k = kernels.get(d.kernel);
      if (!k) problems.push(`${entry}[${i}] (${d.label}): unknown kernel ${d.kernel}`);
      else if (k.bindings.length !== d.bindings.length) problems.push(`${entry}[${i}] (${d.label}): ${d.bindings.length} bindings for a kernel with ${k.bindings.length}`);
      d.bindings.forEach((r, j) => checkRegion(r, `${entry}[${i}] (${d.label}) binding ${j}`));
      d.workgroups.forEach((w, j) => checkDim(w, `${entry}[${i}] (${d.label}) workgroups ${j}`));
    });
    // A branch spans at least one dispatch (the runtime moves on to its end), within the entry's.
    e.branches?.forEach((b, i) => {
      const at = `${entry} branch ${i}`;
      checkRegion(b.condition, at);
      if (!(b.then <= b.else && b.else <= b.end && b.then < b.end && b.end <= e.dispatches.length)) problems.push(`${at}: bad range`);
    });
  }
  const g = m.generation;
  if (g) for (const entry of [g.prefill, g.decode]) if (!Object.hasOwn(m.entryPoints, entry)) problems.push(`generation names entry point '${entry}', which the manifest lacks`);
}
