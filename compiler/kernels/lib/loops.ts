// Loop builders beyond KernelBuilder.for (which counts up by a constant step).
import type { Expr } from '../../wgsl/ast.js';
import type { KernelBuilder } from '../../wgsl/build.js';
import { ident } from '../../wgsl/dsl.js';

/** `for (var i: u32 = from; cond(i); i = next(i)) { body(i) }`. */
export function forLoop(k: KernelBuilder, name: string, from: Expr, cond: (i: Expr) => Expr, next: (i: Expr) => Expr, body: (i: Expr) => void): void {
  const n = k.fresh(name);
  const i = ident(n);
  const stmts = k.collect(() => body(i));
  k.emit({
    kind: 'for',
    init: { kind: 'var', name: n, type: { kind: 'scalar', scalar: 'u32' }, init: from },
    cond: cond(i),
    update: { kind: 'assign', target: i, value: next(i) },
    body: stmts,
  });
}
