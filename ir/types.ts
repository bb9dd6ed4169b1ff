// Tensor types: {dtype, shape, layout, encoding}. Layout (layout.ts) and encoding (encoding.ts) are typed
// discriminated unions; row-major and dense are the defaults and are left out of the printed form. Only constants
// carry other ones (the verifier says so); storage.ts says what such a constant stores and how it decodes.
import { type DType, dtypeInfo } from './dtype.js';
import { type Encoding, DENSE, formatEncoding } from './encoding.js';
import { type Layout, ROW_MAJOR, formatLayout } from './layout.js';
import { type Shape, formatShape, shapesEqual } from './shape.js';

export * from './descriptor.js';
export * from './storage.js';
export * from './layout.js';
export * from './encoding.js';

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly layout: Layout;
  readonly encoding: Encoding;
}

export function tensorType(
  dtype: DType,
  shape: Shape,
  layout: Layout = ROW_MAJOR,
  encoding: Encoding = DENSE,
): TensorType {
  dtypeInfo(dtype); // throws on an unknown dtype
  return { dtype, shape: [...shape], layout, encoding };
}

export function typesEqual(a: TensorType, b: TensorType): boolean {
  return (
    a.dtype === b.dtype &&
    shapesEqual(a.shape, b.shape) &&
    formatLayout(a.layout) === formatLayout(b.layout) &&
    formatEncoding(a.encoding) === formatEncoding(b.encoding)
  );
}

export const isDefaultLayout = (t: TensorType): boolean => t.layout.kind === 'row-major';
export const isDefaultEncoding = (t: TensorType): boolean => t.encoding.kind === 'dense';

/** `f32[2,3]`, or `f32[8,8]{layout=transposed, encoding=tiled-csl(tile=[8,8],values=f16)}` when not the defaults. */
export function formatType(t: TensorType): string {
  const extras: string[] = [];
  if (!isDefaultLayout(t)) extras.push(`layout=${formatLayout(t.layout)}`);
  if (!isDefaultEncoding(t)) extras.push(`encoding=${formatEncoding(t.encoding)}`);
  return `${t.dtype}${formatShape(t.shape)}${extras.length ? `{${extras.join(', ')}}` : ''}`;
}
