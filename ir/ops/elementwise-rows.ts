// Building blocks of elementwise table rows (elementwise-table.ts and the family files it gathers): the dtype-kind
// sets and the two row constructors.
import type { DTypeKind, ElementwiseRow, ScalarContext, ScalarFn } from './elementwise.js';

export const FLOAT: readonly DTypeKind[] = ['float'];
export const INT: readonly DTypeKind[] = ['int'];
export const NUMERIC: readonly DTypeKind[] = ['float', 'int'];
export const ANY: readonly DTypeKind[] = ['float', 'int', 'bool'];

export const VARIADIC: readonly [number, number] = [1, Infinity];

/** A row whose scalar function ignores attributes and dtype. */
export function row(name: string, arity: ElementwiseRow['arity'], kinds: readonly DTypeKind[], out: ElementwiseRow['out'], fn: ScalarFn): ElementwiseRow {
  return { name, arity, kinds, out, scalar: () => fn };
}

/** A row whose scalar function depends on attributes or the operand dtype. */
export function rowWith(
  name: string,
  arity: ElementwiseRow['arity'],
  kinds: readonly DTypeKind[],
  out: ElementwiseRow['out'],
  scalar: (cx: ScalarContext) => ScalarFn,
  extra: Pick<ElementwiseRow, 'attrs' | 'check' | 'condition'> = {},
): ElementwiseRow {
  return { name, arity, kinds, out, scalar, ...extra };
}
