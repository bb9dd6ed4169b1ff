// Damaged config.json files (fast-check): any key of a valid tiny checkpoint's config replaced by a value of the
// wrong type or range, removed, or the whole file cut short. The importer either builds a valid model (the value
// was harmless) or throws an HfImportError naming the file; never a TypeError, RangeError or other crash, and
// never a hang or a huge allocation.
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HfImportError, importHf } from '../../ir/import/hf/index.js';
import { badConfigValue } from '../../scripts/fuzz/target-config.js';
import { type CheckpointFamily, presetConfig } from '../../scripts/lib/checkpoints.js';
import { tempCheckpoint } from './hf-fixtures.js';

const FAMILIES: readonly CheckpointFamily[] = ['llama', 'gpt2', 'bert'];

/** Runs the import; returns 'ok' or the error, and fails the test on anything but an HfImportError. */
function outcome(configPath: string, weights: string): 'ok' | string {
  try {
    importHf(configPath, { weights, maxSeq: 16, chunk: 4 });
    return 'ok';
  } catch (e) {
    if (!(e instanceof HfImportError)) throw new Error(`${(e as Error).name}: ${(e as Error).message}\n${(e as Error).stack}`);
    expect(e.message).toMatch(/config\.json|model\.safetensors/); // the file to fix: the config, or the checkpoint it disagrees with
    return e.message;
  }
}

describe.each(FAMILIES)('%s config.json, damaged', (family) => {
  const ck = tempCheckpoint(family, 'tiny');
  const valid = presetConfig(family, 'tiny');
  const keys = Object.keys(valid);

  it('one key replaced by a wrong value or removed: a valid model or an HfImportError naming the file', () => {
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.option(badConfigValue, { nil: undefined }), (key, value) => {
        const config: Record<string, unknown> = { ...valid };
        if (value === undefined) delete config[key];
        else config[key] = value;
        writeFileSync(ck.configPath, JSON.stringify(config));
        outcome(ck.configPath, ck.weightsPath);
      }),
      { numRuns: 150 },
    );
  });

  it('a file cut at any byte, or not an object: an HfImportError', () => {
    const text = JSON.stringify(valid, null, 2);
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: text.length - 1 }).map((n) => text.slice(0, n)), fc.constantFrom('[]', 'null', '3', '"llama"')), (damaged) => {
        writeFileSync(ck.configPath, damaged);
        expect(outcome(ck.configPath, ck.weightsPath)).not.toBe('ok');
      }),
      { numRuns: 60 },
    );
  });
});
