// Kernel specs are plain JSON-like data: which generator (`kernel`), the target's capabilities, and everything
// baked into the shader (op, dtypes, shapes, attributes, tile sizes). The cache key is structuralHash(spec), the
// sha256 of a canonical JSON text (keys sorted), never a hand-assembled string: whatever a generator reads from
// its spec is in the key, so two specs that hash alike produce the same kernel and are deduplicated.
import type { Dim } from '../ir/shape.js';
import { createHash } from 'node:crypto';
import type { BindingInfo, KernelModule, Target } from './wgsl/build.js';
import type { Module } from './wgsl/ast.js';
import { printModule } from './wgsl/print.js';

export type SpecValue = null | boolean | number | string | readonly SpecValue[] | { readonly [key: string]: SpecValue };

export interface KernelSpecBase {
  /** The generator that turns this spec into a kernel ('elementwise', 'unpack', ...). */
  readonly kernel: string;
  readonly target: Target;
}

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined` members dropped; non-finite numbers and -0
 * (which JSON cannot hold) are written as tagged strings. Anything that is not plain data throws.
 */
export function canonicalJson(value: unknown): string {
  return canon(value, '$');
}

function canon(v: unknown, path: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (Object.is(v, -0)) return '"$num:-0"';
      return Number.isFinite(v) ? JSON.stringify(v) : `"$num:${v}"`;
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => canon(x, `${path}[${i}]`)).join(',')}]`;
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new Error(`kernel spec is not plain data at ${path}`);
      const keys = Object.keys(v).sort();
      const rec = v as Record<string, unknown>;
      const members = keys.filter((k) => rec[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canon(rec[k], `${path}.${k}`)}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new Error(`kernel spec holds a ${typeof v} at ${path}`);
  }
}

/** sha256 (hex) of the canonical JSON of a spec: the kernel cache key. */
export function structuralHash(spec: unknown): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

/** A kernel generator: a pure function from its spec to a module AST with binding and dispatch metadata. */
export type KernelGen<S extends KernelSpecBase> = (spec: S) => KernelModule;

export interface Kernel {
  readonly hash: string;
  /** `<kernel>_<first 12 hex digits of hash>`: stable across runs, usable as a file name. */
  readonly name: string;
  readonly spec: KernelSpecBase;
  readonly module: Module;
  readonly wgsl: string;
  readonly entryPoint: string;
  readonly bindings: readonly BindingInfo[];
  readonly workgroupSize: readonly [number, number, number];
  /** Workgroup counts; a symbolic one (a dim over the program's symbols) is evaluated by the runtime per run. */
  readonly dispatch: readonly [Dim, Dim, Dim];
}

export function compileKernel<S extends KernelSpecBase>(gen: KernelGen<S>, spec: S): Kernel {
  const hash = structuralHash(spec);
  const km = gen(spec);
  return { hash, name: `${spec.kernel}_${hash.slice(0, 12)}`, spec, wgsl: printModule(km.module), ...km };
}

/** Kernels by structural hash: a spec seen before returns the kernel built the first time. */
export class KernelCache {
  private readonly kernels = new Map<string, Kernel>();

  get<S extends KernelSpecBase>(gen: KernelGen<S>, spec: S): Kernel {
    const hash = structuralHash(spec);
    let k = this.kernels.get(hash);
    if (!k) {
      k = compileKernel(gen, spec);
      this.kernels.set(hash, k);
    }
    return k;
  }

  get size(): number {
    return this.kernels.size;
  }

  values(): Kernel[] {
    return [...this.kernels.values()];
  }
}

/** A kernel's workgroup counts when none is symbolic (kernels compiled for static shapes); throws otherwise. */
export function staticDispatch(k: Pick<Kernel, 'name' | 'dispatch'>): [number, number, number] {
  const [x, y, z] = k.dispatch;
  if (typeof x !== 'number' || typeof y !== 'number' || typeof z !== 'number')
    throw new Error(`${k.name} has a symbolic dispatch [${k.dispatch.join(', ')}]; the runtime sizes it per run`);
  return [x, y, z];
}
