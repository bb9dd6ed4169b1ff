// The op registry. Each op is defined exactly once: attribute schema, arity, type inference (which is also its
// verifier: it throws OpError with a message naming what is wrong), and reference semantics used by the
// interpreter. Kernels live in compiler/, not here, so passes and the interpreter run without a GPU.
import type { AttrValue, Attrs } from './graph.js';
import type { Dim } from './shape.js';
import type { Tensor } from './tensor.js';
import { type TensorType, tensorType } from './types.js';

/** 'dims': a list of dims, each an integer or a symbolic dim (ir/dim.ts), for shape-like attributes. */
export type AttrKind = 'int' | 'float' | 'string' | 'bool' | 'ints' | 'floats' | 'strings' | 'dims';

export interface AttrSpec {
  readonly kind: AttrKind;
  /** Used when the attribute is absent; an attribute with no default and `required` must be given. */
  readonly default?: AttrValue;
  readonly required?: boolean;
}

export class OpError extends Error {
  override name = 'OpError';
}

/** Typed access to a node's attributes with schema defaults applied. */
export class AttrReader {
  constructor(
    private readonly op: string,
    private readonly schema: Readonly<Record<string, AttrSpec>>,
    private readonly values: Attrs,
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  private get(name: string): AttrValue | undefined {
    if (!Object.hasOwn(this.schema, name)) throw new OpError(`${this.op} has no attribute '${name}'`);
    return this.values[name] ?? this.schema[name]!.default;
  }

  private need(name: string): AttrValue {
    const v = this.get(name);
    if (v === undefined) throw new OpError(`${this.op} needs attribute '${name}'`);
    return v;
  }

  int(name: string): number {
    return this.need(name) as number;
  }
  float(name: string): number {
    return this.need(name) as number;
  }
  string(name: string): string {
    return this.need(name) as string;
  }
  bool(name: string): boolean {
    return this.need(name) as boolean;
  }
  ints(name: string): readonly number[] {
    return this.need(name) as readonly number[];
  }
  floats(name: string): readonly number[] {
    return this.need(name) as readonly number[];
  }
  strings(name: string): readonly string[] {
    return this.need(name) as readonly string[];
  }
  /** A 'dims' attribute: integers and symbolic dims (the interpreter binds symbols first, so ints() reads it too). */
  dims(name: string): readonly Dim[] {
    return this.need(name) as readonly Dim[];
  }
  optDims(name: string): readonly Dim[] | undefined {
    return this.get(name) as readonly Dim[] | undefined;
  }
  /** The value, or undefined when absent and without default. */
  optInts(name: string): readonly number[] | undefined {
    return this.get(name) as readonly number[] | undefined;
  }
  optFloat(name: string): number | undefined {
    return this.get(name) as number | undefined;
  }
  optInt(name: string): number | undefined {
    return this.get(name) as number | undefined;
  }
}

export interface OpDef {
  readonly name: string;
  /** Allowed input count; optional trailing inputs may be omitted or given as ''. */
  readonly inputs: { readonly min: number; readonly max: number };
  /** Output count, possibly depending on attributes (Split). */
  readonly outputs: number | ((attrs: AttrReader, inputCount: number) => number);
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  /**
   * Type inference and verification in one: given input types (undefined for an omitted optional input),
   * return the output types or throw OpError. Shapes may be symbolic.
   */
  infer(inputs: readonly (TensorType | undefined)[], attrs: AttrReader): TensorType[];
  /**
   * Reference semantics on concrete tensors, accumulating in float64. `outTypes` is infer() applied to the
   * concrete input types, so implementations need not re-derive output shapes.
   */
  reference(inputs: readonly (Tensor | undefined)[], attrs: AttrReader, outTypes: readonly TensorType[]): Tensor[];
}

/** def.infer over the logical types of the inputs: an op never sees a layout or encoding (constants decode first). */
export function inferTypes(def: OpDef, inputs: readonly (TensorType | undefined)[], attrs: AttrReader): TensorType[] {
  return def.infer(inputs.map((t) => (t && (t.layout.kind !== 'row-major' || t.encoding.kind !== 'dense') ? tensorType(t.dtype, t.shape) : t)), attrs);
}

const registry = new Map<string, OpDef>();

export function registerOp(def: OpDef): OpDef {
  if (registry.has(def.name)) throw new Error(`op ${def.name} registered twice`);
  registry.set(def.name, def);
  return def;
}

export function lookupOp(name: string): OpDef | undefined {
  return registry.get(name);
}

export function registeredOps(): string[] {
  return [...registry.keys()].sort();
}

export function outputCount(def: OpDef, attrs: AttrReader, inputCount: number): number {
  return typeof def.outputs === 'number' ? def.outputs : def.outputs(attrs, inputCount);
}

/** Check attribute names and kinds against the schema; returns problems as messages. */
export function checkAttrs(def: OpDef, attrs: Attrs): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(attrs)) {
    const spec = Object.hasOwn(def.attrs, k) ? def.attrs[k] : undefined; // own keys only: not 'toString'
    if (!spec) {
      problems.push(`unknown attribute '${k}' (${def.name} takes ${Object.keys(def.attrs).sort().join(', ') || 'no attributes'})`);
      continue;
    }
    if (!attrMatchesKind(v, spec.kind)) problems.push(`attribute '${k}' must be ${spec.kind}, got ${JSON.stringify(v)}`);
  }
  for (const [k, spec] of Object.entries(def.attrs))
    if (spec.required && attrs[k] === undefined) problems.push(`missing required attribute '${k}' (${spec.kind})`);
  return problems;
}

function attrMatchesKind(v: AttrValue, kind: AttrKind): boolean {
  switch (kind) {
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'float':
      return typeof v === 'number';
    case 'string':
      return typeof v === 'string';
    case 'bool':
      return typeof v === 'boolean';
    case 'ints':
      return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x));
    case 'floats':
      return Array.isArray(v) && v.every((x) => typeof x === 'number');
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'dims':
      return Array.isArray(v) && v.every((x) => (typeof x === 'number' && Number.isInteger(x)) || (typeof x === 'string' && x.length > 0));
  }
}
