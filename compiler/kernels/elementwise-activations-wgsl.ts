// WGSL rows for the activation family of the elementwise table (ir/ops/elementwise-activations.ts), each the
// reference's formula in f32: e^x - 1 through the prelude's kiln_expm1, Softplus and Mish through their
// overflow-free prelude forms, products that can meet inf * 0 (the -inf tail of Mish, HardSwish, Swish, PRelu
// with a zero slope) through kiln_mul_ieee, and constant factors through mulConstF32 (a zero alpha must still
// turn inf into NaN).
import type { Expr } from '../wgsl/ast.js';
import { add, and, bitcast, builtin, call, div, eq, gt, lit, lt, mul, neg, select, sub } from '../wgsl/dsl.js';
import type { RowContext, WgslRow } from './elementwise-wgsl.js';
import { mulConstF32, pick } from './lib/index.js';

const f = lit.f32;
const abs = (x: Expr): Expr => builtin('abs', x);

/** Logistic function without overflow: exp is only taken of -|x| (kiln_exp: tiny results stay subnormal). */
export function sigmoid(x: Expr): Expr {
  const e = call('kiln_exp', neg(abs(x)));
  const s = div(f(1), add(f(1), e));
  return select(lt(x, f(0)), mul(e, s), s);
}

const max = (a: Expr, b: Expr): Expr => pick('max', 'f32', a, b);
const min = (a: Expr, b: Expr): Expr => pick('min', 'f32', a, b);
const mulIeee = (a: Expr, b: Expr): Expr => call('kiln_mul_ieee', a, b);
const expm1 = (x: Expr): Expr => call('kiln_expm1', x);

const clamp01 = (x: Expr): Expr => max(f(0), min(f(1), x));

/** alpha * x + beta as an fma: rounded once where the adapter fuses it (lavapipe does not: an absolute error). */
const hardSigmoid = (x: Expr, alpha: number, beta: number): Expr =>
  clamp01(alpha === 0 ? add(mulConstF32(alpha, x), f(beta)) : builtin('fma', f(alpha), x, f(beta)));

const isInf = (x: Expr): Expr => eq(and(bitcast('u32', x), lit.u32(0x7fffffff)), lit.u32(0x7f800000));

function prelu([x, slope]: readonly Expr[], cx: RowContext): Expr {
  if (cx.compute === 'u32') return x!;
  const zero = lit.of(cx.compute, 0);
  return select(lt(x!, zero), cx.compute === 'f32' ? mulIeee(slope!, x!) : mul(slope!, x!), x!);
}

export const ACTIVATION_WGSL: Readonly<Record<string, WgslRow>> = {
  HardSigmoid: ([x], cx) => hardSigmoid(x!, cx.attrs.float('alpha'), cx.attrs.float('beta')),
  // x/6 + 1/2 as (x + 3)/6: x + 3 is exact where the clamp is inactive, and 1/6 has no f32 value.
  HardSwish: ([x]) => mulIeee(x!, clamp01(div(add(x!, f(3)), f(6)))),
  Elu: ([x], cx) => select(lt(x!, f(0)), mulConstF32(cx.attrs.float('alpha'), expm1(x!)), x!),
  Selu: ([x], cx) => {
    const [alpha, gamma] = [cx.attrs.float('alpha'), cx.attrs.float('gamma')];
    return select(gt(x!, f(0)), mulConstF32(gamma, x!), mulConstF32(gamma * alpha, expm1(x!)));
  },
  Celu: ([x], cx) => {
    const alpha = cx.attrs.float('alpha');
    return add(max(f(0), x!), min(f(0), mulConstF32(alpha, expm1(call('kiln_fdiv', x!, f(alpha))))));
  },
  Softplus: ([x]) => call('kiln_softplus', x!),
  // x / (1 + |x|) is inf / inf = NaN for infinite x in the reference, which a driver need not compute.
  Softsign: ([x]) => select(isInf(x!), f(NaN), div(x!, add(f(1), abs(x!)))),
  Mish: ([x]) => call('kiln_mish', x!),
  ThresholdedRelu: ([x], cx) => select(gt(x!, f(cx.attrs.float('alpha'))), x!, f(0)),
  Shrink: ([x], cx) => {
    const [lambd, bias] = [cx.attrs.float('lambd'), cx.attrs.float('bias')];
    return select(lt(x!, f(-lambd)), add(x!, f(bias)), select(gt(x!, f(lambd)), sub(x!, f(bias)), f(0)));
  },
  PRelu: prelu,
  Swish: ([x], cx) => mulIeee(x!, sigmoid(mulConstF32(cx.attrs.float('alpha'), x!))),
};
