// Tiny random checkpoints in temporary folders for the Hugging Face importer's tests, and prompts for them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CheckpointFamily, type Preset, type WriteOptions, type WrittenCheckpoint, writeRandomCheckpoint } from '../../scripts/lib/checkpoints.js';

/** Write a checkpoint of `family`/`preset` into a fresh temporary folder. */
export function tempCheckpoint(family: CheckpointFamily, preset: Preset = 'tiny', options: WriteOptions = {}, seed = 1): WrittenCheckpoint {
  return writeRandomCheckpoint(mkdtempSync(join(tmpdir(), `kiln-hf-${family}-`)), family, preset, seed, options);
}

/** `length` token ids in 0..vocab-1, deterministic (a fixed LCG), so failures reproduce. */
export function promptIds(length: number, vocab: number, seed = 7): number[] {
  let s = seed;
  return Array.from({ length }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % vocab;
  });
}
