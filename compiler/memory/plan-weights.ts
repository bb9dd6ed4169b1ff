// Weights layout: every constant the program reads, in first-use order, packed into pages. A page is one GPU
// buffer and one file (weights-<k>.bin); pages keep each buffer under the binding-size limit every WebGPU
// adapter accepts by default, so a large model needs no raised limits except for a single tensor bigger than a
// page (which then gets a page of its own). Segments start at the binding-offset alignment.
import type { ConstantDecl } from '../../ir/index.js';
import { alignUp } from './arena.js';
import { type LazyFile, lazyFile } from './lazy-file.js';
import { constantBytes, constantChunks } from './weight-chunks.js';

/** WebGPU's default maxStorageBufferBindingSize (128 MiB). */
export const DEFAULT_PAGE_BYTES = 128 * 1024 * 1024;

export interface WeightSegment {
  readonly decl: ConstantDecl;
  readonly offset: number;
  /** Storage bytes of the tensor (the region's size). */
  readonly bytes: number;
}

export interface WeightPage {
  readonly file: string;
  readonly segments: readonly WeightSegment[];
  /** Bytes of the page file (last segment padded to 4). */
  readonly bytes: number;
}

export function planWeightPages(constants: readonly ConstantDecl[], alignment: number, pageBytes = DEFAULT_PAGE_BYTES): WeightPage[] {
  const pages: { segments: WeightSegment[]; at: number }[] = [];
  for (const decl of constants) {
    // At least four bytes, so even an empty tensor can be bound.
    const bytes = constantBytes(decl);
    const padded = Math.max(4, alignUp(bytes, 4));
    let page = pages[pages.length - 1];
    if (!page || (page.segments.length && alignUp(page.at, alignment) + padded > pageBytes)) pages.push((page = { segments: [], at: 0 }));
    const offset = alignUp(page.at, alignment);
    page.segments.push({ decl, offset, bytes });
    page.at = offset + padded;
  }
  const width = String(Math.max(0, pages.length - 1)).length;
  return pages.map((p, k) => ({ file: `weights-${String(k).padStart(width, '0')}.bin`, segments: p.segments, bytes: p.at }));
}

/** The page's file, streamed segment by segment with zero padding between. */
export function pageFile(page: WeightPage): LazyFile {
  return lazyFile(function* () {
    let at = 0;
    for (const s of page.segments) {
      if (s.offset > at) yield new Uint8Array(s.offset - at);
      at = s.offset;
      for (const chunk of constantChunks(s.decl)) {
        yield chunk;
        at += chunk.byteLength;
      }
      if (at !== s.offset + s.bytes) throw new Error(`constant %${s.decl.name}: produced ${at - s.offset} bytes, expected ${s.bytes}`);
    }
    if (page.bytes > at) yield new Uint8Array(page.bytes - at);
  });
}
