// The verifier at the lowered boundary: before emission, every dispatch of an entry is checked against the plan it
// will run in. Each kernel binding gets a region inside an existing buffer, at an aligned offset, large enough for
// the array the WGSL declares; a tensor binding's dtype is the dtype of the value bound to it (its stored dtype, for
// an encoded constant); nothing writes into weights. A lowering or planning bug then fails the compile naming the
// dispatch and the binding, instead of producing an artifact that reads garbage or fails validation at load.
import { type DType, isSubByte } from '../ir/index.js';
import { pad4 } from '../runtime/codec.js';
import type { BufferDecl, Dispatch } from '../runtime/plan.js';
import type { ScheduledStep } from './lower/schedule.js';

export class LoweredProgramError extends Error {
  override name = 'LoweredProgramError';
}

/** Bytes of one element of a WGSL array element type ('f32', 'f16', 'vec4<u32>', 'atomic<u32>', ...). */
function elementBytes(storage: string): number {
  const vec = /^vec([234])<(\w+)>$/.exec(storage);
  if (vec) return Number(vec[1]) * elementBytes(vec[2]!);
  return storage === 'f16' ? 2 : 4;
}

export interface LoweredEntry {
  readonly entry: string;
  readonly steps: readonly ScheduledStep[];
  readonly dispatches: readonly Dispatch[];
  readonly buffers: readonly BufferDecl[];
  /** The dtype of a bound value as stored (graph values; constants' stored parts). */
  readonly dtypeOf: (value: string) => DType | undefined;
  readonly alignment: number;
}

export function verifyLoweredEntry(e: LoweredEntry): void {
  const problems: string[] = [];
  e.steps.forEach((step, i) => {
    const d = e.dispatches[i]!;
    const at = `entry '${e.entry}', dispatch ${i} (${step.label}), kernel ${step.kernel.name}`;
    if (step.args.length !== step.kernel.bindings.length) {
      problems.push(`${at}: ${step.args.length} arguments for ${step.kernel.bindings.length} bindings`);
      return;
    }
    step.kernel.bindings.forEach((b, j) => {
      const arg = step.args[j]!;
      const r = d.bindings[j];
      const what = `${at}, binding ${b.binding} '${b.name}'${'value' in arg ? ` (%${arg.value})` : ''}`;
      if (!r) return void problems.push(`${what}: no region`);
      const buf = e.buffers[r.buffer];
      if (!buf) return void problems.push(`${what}: buffer ${r.buffer} does not exist`);
      // The runtime binds whole words, at least one (runtime/codec.ts pad4), of buffers padded the same way.
      const bound = pad4(r.bytes);
      if (r.offset < 0 || r.offset + bound > pad4(buf.bytes)) problems.push(`${what}: region ${r.offset}+${r.bytes} is outside buffer ${r.buffer} (${buf.bytes} bytes)`);
      if (r.offset % e.alignment !== 0) problems.push(`${what}: offset ${r.offset} is not a multiple of ${e.alignment}`);
      const need = b.elements * elementBytes(b.storage);
      if (bound < need) problems.push(`${what}: the kernel reads ${b.elements} x ${b.storage} (${need} bytes) but the binding has ${bound}`);
      if (b.access === 'read_write' && buf.kind === 'weights') problems.push(`${what}: writes into the weights`);
      if (b.access === 'uniform' && buf.kind !== 'uniform') problems.push(`${what}: a uniform binding on a ${buf.kind} buffer`);
      if (b.dtype && 'value' in arg) {
        const dt = e.dtypeOf(arg.value);
        // Packed sub-byte codes may be read as the u32 words they are packed in (the quant GEMV does).
        if (dt !== undefined && dt !== b.dtype && !(b.dtype === 'u32' && isSubByte(dt))) problems.push(`${what}: the kernel reads ${b.dtype} but %${arg.value} is ${dt}`);
      }
    });
  });
  if (problems.length) throw new LoweredProgramError(`the lowered program is inconsistent (a kiln bug, please report):\n${problems.join('\n')}`);
}
