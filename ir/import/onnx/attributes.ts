// Typed access to an ONNX node's attributes. Each getter checks the attribute's kind (old models may omit
// AttributeProto.type, so the kind is also inferred from the field that is set) and throws a message naming the
// attribute; the caller prefixes the node.
import { invalid, unsupported } from './errors.js';
import { ATTR, type AttributeProto, type TensorProto } from './proto.js';

const KIND_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ATTR).map(([k, v]) => [v, k]));

const utf8 = new TextDecoder('utf-8', { fatal: false });

function kindOf(a: AttributeProto): number {
  if (a.type) return a.type;
  // Before IR version 2 the type field did not exist; infer it from what is set.
  if (a.ints.length) return ATTR.INTS;
  if (a.floats.length) return ATTR.FLOATS;
  if (a.strings.length) return ATTR.STRINGS;
  if (a.tensors.length) return ATTR.TENSORS;
  if (a.t) return ATTR.TENSOR;
  if (a.g) return ATTR.GRAPH;
  if (a.s) return ATTR.STRING;
  if (a.f !== undefined) return ATTR.FLOAT;
  if (a.i !== undefined) return ATTR.INT;
  return ATTR.UNDEFINED;
}

export class OnnxAttrs {
  private readonly byName = new Map<string, AttributeProto>();

  constructor(attrs: readonly AttributeProto[]) {
    for (const a of attrs) {
      if (!a.name) invalid('an attribute has no name');
      if (a.ref_attr_name) unsupported('attribute', `attribute '${a.name}' refers to function attribute '${a.ref_attr_name}'`);
      this.byName.set(a.name!, a);
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  private get(name: string, kind: number): AttributeProto | undefined {
    const a = this.byName.get(name);
    if (!a) return undefined;
    const k = kindOf(a);
    // An empty list carries no field, so INTS/FLOATS declared but empty read as their kind.
    if (k !== kind) invalid(`attribute '${name}' must be ${KIND_NAMES[kind]}, got ${KIND_NAMES[k] ?? `type ${k}`}`);
    return a;
  }

  int(name: string): number | undefined;
  int(name: string, dflt: number): number;
  int(name: string, dflt?: number): number | undefined {
    return this.get(name, ATTR.INT)?.i ?? (this.has(name) ? 0 : dflt);
  }

  float(name: string): number | undefined;
  float(name: string, dflt: number): number;
  float(name: string, dflt?: number): number | undefined {
    return this.get(name, ATTR.FLOAT)?.f ?? (this.has(name) ? 0 : dflt);
  }

  string(name: string): string | undefined;
  string(name: string, dflt: string): string;
  string(name: string, dflt?: string): string | undefined {
    const a = this.get(name, ATTR.STRING);
    return a ? utf8.decode(a.s ?? new Uint8Array(0)) : dflt;
  }

  ints(name: string): number[] | undefined {
    const a = this.get(name, ATTR.INTS);
    return a ? [...a.ints] : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, ATTR.FLOATS);
    return a ? [...a.floats] : undefined;
  }

  strings(name: string): string[] | undefined {
    const a = this.get(name, ATTR.STRINGS);
    return a ? a.strings.map((s) => utf8.decode(s)) : undefined;
  }

  tensor(name: string): TensorProto | undefined {
    return this.get(name, ATTR.TENSOR)?.t;
  }

  /** The attribute's kind name (INT, FLOATS, SPARSE_TENSOR, ...), for rules that accept several. */
  kind(name: string): string | undefined {
    const a = this.byName.get(name);
    return a && (KIND_NAMES[kindOf(a)] ?? `type ${kindOf(a)}`);
  }

  raw(name: string): AttributeProto | undefined {
    return this.byName.get(name);
  }
}
