// Tensor types: {dtype, shape, layout, encoding}. Layout and encoding are open, named slots with plain-data
// parameters so that later passes (blocked panels, sparse tiles, bit-planes) add kinds without touching the
// grammar or the printer; row-major and dense are the defaults and are left out of the printed form.
import { type DType, dtypeInfo } from './dtype.js';
import { type Shape, formatShape, shapesEqual } from './shape.js';

export type ParamValue = number | string | boolean | readonly number[];

/** A named layout or encoding with its parameters, e.g. `blocked(tile=[4,4])`. */
export interface Descriptor {
  readonly kind: string;
  readonly params: Readonly<Record<string, ParamValue>>;
}

export const ROW_MAJOR: Descriptor = Object.freeze({ kind: 'row-major', params: Object.freeze({}) });
export const DENSE: Descriptor = Object.freeze({ kind: 'dense', params: Object.freeze({}) });

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly layout: Descriptor;
  readonly encoding: Descriptor;
}

export function tensorType(
  dtype: DType,
  shape: Shape,
  layout: Descriptor = ROW_MAJOR,
  encoding: Descriptor = DENSE,
): TensorType {
  dtypeInfo(dtype); // throws on an unknown dtype
  return { dtype, shape: [...shape], layout, encoding };
}

function paramsEqual(a: Descriptor, b: Descriptor): boolean {
  return formatDescriptor(a) === formatDescriptor(b);
}

export function typesEqual(a: TensorType, b: TensorType): boolean {
  return (
    a.dtype === b.dtype &&
    shapesEqual(a.shape, b.shape) &&
    paramsEqual(a.layout, b.layout) &&
    paramsEqual(a.encoding, b.encoding)
  );
}

function formatParam(v: ParamValue): string {
  if (Array.isArray(v)) return `[${v.join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** Deterministic text of a descriptor: parameters sorted by name. */
export function formatDescriptor(d: Descriptor): string {
  const keys = Object.keys(d.params).sort();
  if (keys.length === 0) return d.kind;
  return `${d.kind}(${keys.map((k) => `${k}=${formatParam(d.params[k]!)}`).join(',')})`;
}

export const isDefaultLayout = (t: TensorType): boolean => t.layout.kind === 'row-major' && Object.keys(t.layout.params).length === 0;
export const isDefaultEncoding = (t: TensorType): boolean => t.encoding.kind === 'dense' && Object.keys(t.encoding.params).length === 0;

/** `f32[2,3]`, or `i4[8]{layout=blocked(tile=[4]), encoding=bitplanes(bits=4)}` when not the defaults. */
export function formatType(t: TensorType): string {
  const extras: string[] = [];
  if (!isDefaultLayout(t)) extras.push(`layout=${formatDescriptor(t.layout)}`);
  if (!isDefaultEncoding(t)) extras.push(`encoding=${formatDescriptor(t.encoding)}`);
  return `${t.dtype}${formatShape(t.shape)}${extras.length ? `{${extras.join(', ')}}` : ''}`;
}
