// The textual form of a layout or encoding, `kind(key=value, ...)`, as the .kir parser reads it, and its typed
// reading: every parameter of every kind checked here (unknown, missing or ill-typed parameters are errors naming
// the parameter), so a typo like `bitplanes(bits=4)` fails at parse time instead of compiling to a dense kernel.
import { type Encoding, type QuantParams, quantEncoding, tiledCslEncoding, DENSE } from './encoding.js';
import { type Layout, ROW_MAJOR, TRANSPOSED, blocked } from './layout.js';

/** A parameter value: a number, a name or string, a boolean, a number list, or a reference to a value (%name). */
export type ParamValue = number | string | boolean | readonly number[] | { readonly ref: string };

export interface Descriptor {
  readonly kind: string;
  readonly params: Readonly<Record<string, ParamValue>>;
}

export class DescriptorError extends Error {
  override name = 'DescriptorError';
  /** The parameter the problem is about, when it is about one. */
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const show = (v: ParamValue): string => (typeof v === 'object' && !Array.isArray(v) ? `%${(v as { ref: string }).ref}` : Array.isArray(v) ? `[${v.join(',')}]` : String(v));

/** Reads the parameters of one descriptor, each once; `done()` rejects the ones no reader asked for. */
class Params {
  private readonly used = new Set<string>();
  constructor(private readonly d: Descriptor) {}
  private get(key: string, required: boolean): ParamValue | undefined {
    this.used.add(key);
    const v = Object.hasOwn(this.d.params, key) ? this.d.params[key] : undefined;
    if (v === undefined && required) throw new DescriptorError(`${this.d.kind} needs parameter '${key}'`, key);
    return v;
  }
  int(key: string, min: number, max: number, fallback?: number): number {
    const v = this.get(key, fallback === undefined);
    if (v === undefined) return fallback!;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new DescriptorError(`${this.d.kind} parameter '${key}' must be an integer in ${min}..${max}, got ${show(v)}`, key);
    return v;
  }
  choice<T extends string>(key: string, options: readonly T[], fallback?: T): T {
    const v = this.get(key, fallback === undefined);
    if (v === undefined) return fallback!;
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v))
      throw new DescriptorError(`${this.d.kind} parameter '${key}' must be one of ${options.join(', ')}, got ${show(v)}`, key);
    return v as T;
  }
  pair(key: string): [number, number] {
    const v = this.get(key, true)!;
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 1))
      throw new DescriptorError(`${this.d.kind} parameter '${key}' must be two integers >= 1 like [4,4], got ${show(v)}`, key);
    return [v[0]!, v[1]!];
  }
  ref(key: string, required: boolean): string | undefined {
    const v = this.get(key, required);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw new DescriptorError(`${this.d.kind} parameter '${key}' must name a value like %${key}, got ${show(v)}`, key);
    return (v as { ref: string }).ref;
  }
  done(): void {
    const extra = Object.keys(this.d.params).filter((k) => !this.used.has(k));
    if (extra.length) throw new DescriptorError(`${this.d.kind} has no parameter '${extra[0]}' (it takes ${[...this.used].join(', ') || 'none'})`, extra[0]);
  }
}

export function layoutOf(d: Descriptor): Layout {
  const p = new Params(d);
  let l: Layout;
  if (d.kind === 'row-major') l = ROW_MAJOR;
  else if (d.kind === 'transposed') l = TRANSPOSED;
  else if (d.kind === 'blocked') l = blocked(p.pair('tile'), p.choice<'row' | 'col'>('order', ['row', 'col'], 'row'));
  else throw new DescriptorError(`unknown layout '${d.kind}' (layouts: row-major, transposed, blocked)`);
  p.done();
  return l;
}

export function encodingOf(d: Descriptor): Encoding {
  const p = new Params(d);
  let e: Encoding;
  if (d.kind === 'dense') e = DENSE;
  else if (d.kind === 'tiled-csl') e = tiledCslEncoding(p.pair('tile'), p.choice('values', ['f16', 'f32']));
  else if (d.kind === 'quant') {
    const bits = p.int('bits', 1, 8);
    const scheme = p.choice('scheme', ['signed', 'unsigned', 'bipolar']);
    const zero = p.choice('zero', ['none', 'per-group'], 'none');
    const zeros = p.ref('zeros', zero === 'per-group');
    if (zeros !== undefined && zero === 'none') throw new DescriptorError(`quant with zero=none takes no zeros`, 'zeros');
    if (zero === 'per-group' && scheme === 'bipolar') throw new DescriptorError(`quant scheme bipolar has no zero point (zero must be none)`, 'zero');
    const params: QuantParams = {
      bits,
      scheme,
      group: p.int('group', 1, 2 ** 31),
      axis: p.int('axis', 0, 64),
      scale: p.choice('scale', ['f16', 'f32'], 'f32'),
      zero,
      packing: p.choice('packing', ['planes', 'packed'], 'packed'),
      scales: p.ref('scales', true)!,
      ...(zeros !== undefined ? { zeros } : {}),
    };
    e = quantEncoding(params);
  } else throw new DescriptorError(`unknown encoding '${d.kind}' (encodings: dense, tiled-csl, quant)`);
  p.done();
  return e;
}
