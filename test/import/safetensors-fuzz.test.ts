// Property tests for the safetensors reader: whatever bytes a file holds, opening it either yields tensors whose
// ranges are sound (inside the data section, sized by their shape, disjoint) or throws a SafetensorsError —
// never another exception, never a hang. Valid files come from the writer, which the round trip checks too.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTERNAL_FORMATS, FORMAT_BYTES, FORMAT_DTYPE, formatFits } from '../../ir/external.js';
import { bindWeights, type Checkpoint, openCheckpoint, SafetensorsError } from '../../ir/import/safetensors/index.js';
import { parseKir } from '../../ir/parse.js';
import { type Spec, arbAnyHeader, arbMetadata, arbSpecs, assemble, byteCount, bytesOf, split, writeValid } from '../../scripts/fuzz/safetensors-specs.js';

const root = mkdtempSync(join(tmpdir(), 'kiln-safetensors-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const scratch = (name: string) => join(root, name);

/** Open `bytes` as a file: the checkpoint, or the SafetensorsError; any other exception fails the property. */
function attempt(bytes: Uint8Array, name = 'fuzz.safetensors'): Checkpoint | SafetensorsError {
  const path = scratch(name);
  writeFileSync(path, bytes);
  try {
    return openCheckpoint(path);
  } catch (e) {
    if (e instanceof SafetensorsError) return e;
    throw e;
  }
}

/** What a successful open promises: every range inside the file, sized by its shape, non-empty ranges disjoint. */
function expectSound(ckpt: Checkpoint, fileSize: number): void {
  const ranges: [number, number][] = [];
  for (const t of ckpt.tensors.values()) {
    expect(t.dtype).toBe(FORMAT_DTYPE[t.format]);
    expect(t.data.bytes).toBe(t.shape.reduce((a, b) => a * b, 1) * FORMAT_BYTES[t.format]);
    expect(t.data.offset).toBeGreaterThanOrEqual(8);
    expect(t.data.offset + t.data.bytes).toBeLessThanOrEqual(fileSize);
    if (t.data.bytes > 0) ranges.push([t.data.offset, t.data.offset + t.data.bytes]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThanOrEqual(ranges[i - 1]![1]);
}

function expectError(result: Checkpoint | SafetensorsError, pattern: RegExp): void {
  expect(result).toBeInstanceOf(SafetensorsError);
  expect((result as SafetensorsError).message).toMatch(pattern);
}

describe('safetensors fuzzing', () => {
  it('reads back what the writer wrote: names, formats, shapes, metadata and the bytes at each offset', () => {
    fc.assert(
      fc.property(arbSpecs, arbMetadata, (specs, metadata) => {
        const path = scratch('roundtrip.safetensors');
        const bytes = writeValid(path, specs, metadata);
        const ckpt = openCheckpoint(path);
        expect(ckpt.metadata).toEqual(metadata ?? {});
        expect(new Set(ckpt.tensors.keys())).toEqual(new Set(specs.map((s) => s.name)));
        for (const s of specs) {
          const t = ckpt.tensors.get(s.name)!;
          expect([t.format, t.shape]).toEqual([s.format, s.shape]);
          expect(bytes.subarray(t.data.offset, t.data.offset + t.data.bytes)).toEqual(bytesOf(s));
        }
        expectSound(ckpt, bytes.length);
        const offsets = [...ckpt.tensors.values()].map((t) => t.data.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b)); // file order
      }),
      { numRuns: 150 },
    );
  }, 60_000);

  it('refuses a valid file truncated at any byte', () => {
    fc.assert(
      fc.property(arbSpecs, arbMetadata, fc.nat(), (specs, metadata, at) => {
        const bytes = writeValid(scratch('whole.safetensors'), specs, metadata);
        expect(attempt(bytes.subarray(0, at % bytes.length))).toBeInstanceOf(SafetensorsError);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  const nonEmpty = (specs: readonly Spec[]) => specs.filter((s) => byteCount(s) > 0);

  it('refuses ranges moved to overlap another tensor', () => {
    const arb = arbSpecs.filter((s) => nonEmpty(s).length >= 2);
    fc.assert(
      fc.property(arb, fc.nat(), fc.nat(), fc.nat(), (specs, pickA, pickB, into) => {
        const { header, data } = split(writeValid(scratch('whole.safetensors'), specs));
        const candidates = nonEmpty(specs);
        const a = candidates[pickA % candidates.length]!;
        const b = candidates.filter((s) => s !== a)[pickB % (candidates.length - 1)]!;
        const [aBegin, aEnd] = header[a.name]!.data_offsets;
        const begin = aBegin + (into % (aEnd - aBegin));
        const end = begin + byteCount(b);
        header[b.name]!.data_offsets = [begin, end];
        expectError(attempt(assemble(header, data)), end > data.length ? /reach past the \d+-byte data section/ : /overlap in the data section/);
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('refuses ranges that end past the data section', () => {
    fc.assert(
      fc.property(arbSpecs.filter((s) => s.length > 0), fc.nat(), fc.integer({ min: 1, max: 2 ** 40 }), (specs, pick, beyond) => {
        const { header, data } = split(writeValid(scratch('whole.safetensors'), specs));
        const s = specs[pick % specs.length]!;
        const end = data.length + beyond;
        header[s.name]!.data_offsets = [end - byteCount(s), end];
        expectError(attempt(assemble(header, data)), /reach past the \d+-byte data section; the file is truncated/);
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('refuses a header length larger than the file', () => {
    fc.assert(
      fc.property(arbSpecs, fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), (specs, extra) => {
        const bytes = writeValid(scratch('whole.safetensors'), specs);
        const length = BigInt(bytes.length - 8) + extra;
        new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, length > 2n ** 64n - 1n ? 2n ** 64n - 1n : length, true);
        expectError(attempt(bytes), /header length \d+ is (more than the \d+ bytes after it|over the 100000000-byte limit)/);
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  it('either opens soundly or refuses a file with garbage bytes in its length or header', () => {
    const arb = arbSpecs.chain((specs) =>
      fc.tuple(fc.constant(specs), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })),
    );
    let refused = 0;
    fc.assert(
      fc.property(arb, ([specs, flips]) => {
        const bytes = writeValid(scratch('whole.safetensors'), specs);
        const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
        for (const [at, value] of flips) bytes[at % headerEnd] = value;
        const result = attempt(bytes);
        if (result instanceof SafetensorsError) refused++;
        else expectSound(result, bytes.length);
      }),
      { numRuns: 400 },
    );
    expect(refused).toBeGreaterThan(100); // the mutations do reach the checks, not just the padding
  }, 60_000);

  it('either opens soundly or refuses any JSON as a header, and any bytes as a file', () => {
    fc.assert(
      fc.property(arbAnyHeader, fc.integer({ min: 0, max: 64 }), (h, dataBytes) => {
        const bytes = assemble(h, new Uint8Array(dataBytes));
        const result = attempt(bytes);
        if (!(result instanceof SafetensorsError)) expectSound(result, bytes.length);
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = attempt(bytes);
        if (!(result instanceof SafetensorsError)) expectSound(result, bytes.length);
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});

describe('bindWeights fuzzing', () => {
  const dtypes = ['f32', 'f16', 'bf16', 'i32', 'i8', 'u8', 'bool'] as const;
  it('binds exactly when the shapes are equal and the format fits the dtype, and otherwise names both sides', () => {
    const shape = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 });
    fc.assert(
      fc.property(fc.constantFrom(...EXTERNAL_FORMATS), shape, fc.constantFrom(...dtypes), fc.option(shape, { nil: undefined }), (format, tShape, dtype, pShape) => {
        const paramShape = pShape ?? tShape;
        const path = scratch('bind.safetensors');
        writeValid(path, [{ name: 'w.0', format, shape: tShape, seed: 1 }]);
        const g = parseKir(`graph @g(%x: f32[1]) {\n  param %p: ${dtype}[${paramShape.join(',')}] = "w.0"\n  return %x\n}\n`, 'f.kir');
        const fits = formatFits(format, dtype) && paramShape.join() === tShape.join() && paramShape.length === tShape.length;
        let error: unknown;
        try {
          const { graph, unused } = bindWeights(g, openCheckpoint(path), 'ckpt');
          expect(graph.constants[0]!.external).toMatchObject({ name: 'w.0', format });
          expect(unused).toEqual([]);
        } catch (e) {
          error = e;
        }
        if (fits) expect(error).toBeUndefined();
        else {
          expect(error).toBeInstanceOf(SafetensorsError);
          expect((error as Error).message).toContain(`f.kir:2:3: param %p: ${dtype}[${paramShape.join(',')}] but w.0 in ckpt is ${format}[${tShape.join(',')}]`);
        }
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
