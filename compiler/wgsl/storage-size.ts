// Bytes of workgroup memory a module declares, as WebGPU counts them against maxComputeWorkgroupStorageSize: each
// `var<workgroup>` contributes its WGSL size rounded up to 16 (WebGPU spec, "maxComputeWorkgroupStorageSize").
// Kernels record it in the manifest so that a load on an adapter with less fails naming the kernel, before upload.
import type { Module, Scalar, Type } from './ast.js';

const SCALAR_BYTES: Readonly<Record<Scalar, number>> = { f32: 4, i32: 4, u32: 4, f16: 2, bool: 4 };

const roundUp = (k: number, n: number): number => Math.ceil(n / k) * k;

/** WGSL AlignOf and SizeOf (WGSL spec, "Alignment and Size"). */
function layout(t: Type): { align: number; size: number } {
  switch (t.kind) {
    case 'scalar':
      return { align: SCALAR_BYTES[t.scalar], size: SCALAR_BYTES[t.scalar] };
    case 'atomic':
      return { align: 4, size: 4 };
    case 'vec': {
      const s = SCALAR_BYTES[t.elem];
      return { align: (t.width === 2 ? 2 : 4) * s, size: t.width * s };
    }
    case 'array': {
      const e = layout(t.elem);
      if (t.length === undefined) throw new Error('a runtime-sized array cannot live in workgroup memory');
      return { align: e.align, size: t.length * roundUp(e.align, e.size) };
    }
  }
}

export function workgroupStorageBytes(m: Module): number {
  return m.decls.reduce((sum, d) => (d.kind === 'workgroupVar' ? sum + roundUp(16, layout(d.type).size) : sum), 0);
}
