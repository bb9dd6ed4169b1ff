// AST -> WGSL text. The only place WGSL syntax is assembled (besides the fixed preludes in prelude.ts, which are
// pulled in here when called). Output is a pure function of the module: binary expressions are fully
// parenthesised, floats print as the shortest decimal that parses back to the same f32/f16, and preludes and
// enables come in a fixed order.
import { f16Bits, roundF16 } from '../../runtime/f16.js';
import type { Decl, Enable, Expr, Module, Scalar, Stmt, Type } from './ast.js';
import { isPrelude, preludesFor } from './prelude.js';

const INDENT = '  ';

export function printType(t: Type): string {
  switch (t.kind) {
    case 'scalar':
      return t.scalar;
    case 'vec':
      return `vec${t.width}<${t.elem}>`;
    case 'array':
      return t.length === undefined ? `array<${printType(t.elem)}>` : `array<${printType(t.elem)}, ${t.length}>`;
    case 'atomic':
      return `atomic<${t.scalar}>`;
  }
}

/**
 * Decimal text for a finite non-negative float v: small integers exactly (`65504.0`), anything else as the
 * shortest decimal (at most `maxDigits` significant) that rounds back to v under `round`.
 */
/** The largest finite f32. Its shortest round-tripping decimal, 3.4028235e38, lies above it, which WGSL rejects. */
const F32_MAX = 3.4028234663852886e38;

function floatDecimal(v: number, round: (x: number) => number, maxDigits: number): string {
  if (Number.isInteger(v) && v < 2 ** 24) return `${v}.0`;
  if (v === F32_MAX) return '3.4028234e38';
  let digits = v.toPrecision(maxDigits);
  for (let p = 1; p < maxDigits; p++) {
    const c = v.toPrecision(p);
    if (round(Number(c)) === v) {
      digits = c;
      break;
    }
  }
  // JS number formatting (plain between 1e-7 and 1e21, exponent outside) normalised to WGSL: `1e+30` -> `1e30`.
  const text = String(Number(digits)).replace('e+', 'e');
  return /[.e]/.test(text) ? text : `${text}.0`;
}

class Printer {
  /** Prelude functions the printed code calls; filled while printing. */
  readonly used = new Set<string>();
  usesF16 = false;

  literal(type: Scalar, value: number | boolean): string {
    if (type === 'bool') return value ? 'true' : 'false';
    const v = Number(value);
    switch (type) {
      case 'f32':
      case 'f16':
        return this.floatLiteral(type, v);
      case 'i32':
        if (v === -(2 ** 31)) return '(-2147483647i - 1i)';
        return v < 0 ? `(-${-v}i)` : `${v}i`;
      case 'u32':
        return v >= 0x10000 ? `0x${v.toString(16)}u` : `${v}u`;
    }
  }

  private floatLiteral(type: 'f32' | 'f16', value: number): string {
    if (type === 'f16') this.usesF16 = true;
    const round = type === 'f32' ? Math.fround : roundF16;
    const v = round(value);
    // Non-finite values cannot be const-expressions in WGSL: build them from bits at run time. So is -0: lavapipe
    // folds the literals `(-0.0f)` and `(-0.0h)` to +0 (a Pad with value -0 wrote +0).
    if (!Number.isFinite(v) || Object.is(v, -0)) {
      const bits32 = Number.isNaN(v) ? 0x7fc00000 : Object.is(v, -0) ? 0x80000000 : v > 0 ? 0x7f800000 : 0xff800000;
      const bits16 = f16Bits(v);
      const fn = type === 'f32' ? 'kiln_f32_from_bits' : 'kiln_f16_from_bits';
      this.used.add(fn);
      return `${fn}(0x${(type === 'f32' ? bits32 : bits16).toString(16)}u)`;
    }
    const suffix = type === 'f32' ? 'f' : 'h';
    const text = `${floatDecimal(Math.abs(v), round, type === 'f32' ? 9 : 5)}${suffix}`;
    return v < 0 ? `(-${text})` : text;
  }

  type(t: Type): string {
    if (mentionsF16(t)) this.usesF16 = true;
    return printType(t);
  }

  /** `top`: the expression is a whole statement operand, so its outer parentheses can go. */
  expr(e: Expr, top = false): string {
    switch (e.kind) {
      case 'lit':
        return this.literal(e.type, e.value);
      case 'ident':
        return e.name;
      case 'unary': {
        const a = this.expr(e.arg);
        return e.arg.kind === 'unary' || a.startsWith('-') ? `${e.op}(${a})` : `${e.op}${a}`;
      }
      case 'binary': {
        const s = `${this.expr(e.lhs)} ${e.op} ${this.expr(e.rhs)}`;
        return top ? s : `(${s})`;
      }
      case 'builtin':
        return `${e.fn}(${this.args(e.args)})`;
      case 'call':
        if (isPrelude(e.fn)) this.used.add(e.fn);
        return `${e.fn}(${this.args(e.args)})`;
      case 'index':
        return `${this.postfixBase(e.base)}[${this.expr(e.index, true)}]`;
      case 'member':
        return `${this.postfixBase(e.base)}.${e.member}`;
      case 'construct':
        return `${this.type(e.type)}(${this.args(e.args)})`;
      case 'bitcast':
        return `bitcast<${this.type(e.type)}>(${this.expr(e.arg, true)})`;
      case 'select':
        return `select(${this.args([e.ifFalse, e.ifTrue, e.cond])})`;
      case 'addressOf':
        return `&${this.postfixBase(e.arg)}`;
    }
  }

  private postfixBase(e: Expr): string {
    const s = this.expr(e);
    return e.kind === 'unary' || e.kind === 'addressOf' || (e.kind === 'lit' && s.startsWith('(')) ? `(${s})` : s;
  }

  private args(args: readonly Expr[]): string {
    return args.map((a) => this.expr(a, true)).join(', ');
  }

  /** A statement without trailing semicolon, for `for (init; cond; update)` headers and simple statements. */
  private simple(s: Stmt): string {
    switch (s.kind) {
      case 'let':
        return `let ${s.name}${s.type ? `: ${this.type(s.type)}` : ''} = ${this.expr(s.init, true)}`;
      case 'var':
        return `var ${s.name}${s.type ? `: ${this.type(s.type)}` : ''}${s.init ? ` = ${this.expr(s.init, true)}` : ''}`;
      case 'assign':
        return `${this.expr(s.target, true)} = ${this.expr(s.value, true)}`;
      case 'compound':
        return `${this.expr(s.target, true)} ${s.op} ${this.expr(s.value, true)}`;
      case 'break':
        return 'break';
      case 'continue':
        return 'continue';
      case 'return':
        return s.value ? `return ${this.expr(s.value, true)}` : 'return';
      case 'expr':
        return this.expr(s.expr, true);
      case 'barrier':
        return s.scope === 'workgroup' ? 'workgroupBarrier()' : 'storageBarrier()';
      default:
        throw new Error(`statement '${s.kind}' cannot appear in a for-loop header`);
    }
  }

  stmts(body: readonly Stmt[], depth: number, out: string[]): void {
    for (const s of body) this.stmt(s, depth, out);
  }

  private stmt(s: Stmt, depth: number, out: string[]): void {
    const pad = INDENT.repeat(depth);
    switch (s.kind) {
      case 'if': {
        out.push(`${pad}if (${this.expr(s.cond, true)}) {`);
        this.stmts(s.then, depth + 1, out);
        let rest = s.else;
        // `else if` chains print flat.
        while (rest && rest.length === 1 && rest[0]!.kind === 'if') {
          const inner = rest[0];
          out.push(`${pad}} else if (${this.expr(inner.cond, true)}) {`);
          this.stmts(inner.then, depth + 1, out);
          rest = inner.else;
        }
        if (rest && rest.length > 0) {
          out.push(`${pad}} else {`);
          this.stmts(rest, depth + 1, out);
        }
        out.push(`${pad}}`);
        return;
      }
      case 'for': {
        const head = [s.init ? this.simple(s.init) : '', s.cond ? this.expr(s.cond, true) : '', s.update ? this.simple(s.update) : ''];
        out.push(`${pad}for (${head.join('; ')}) {`);
        this.stmts(s.body, depth + 1, out);
        out.push(`${pad}}`);
        return;
      }
      case 'loop':
      case 'block':
        out.push(`${pad}${s.kind === 'loop' ? 'loop ' : ''}{`);
        this.stmts(s.body, depth + 1, out);
        out.push(`${pad}}`);
        return;
      default:
        out.push(`${pad}${this.simple(s)};`);
    }
  }

  decl(d: Decl): string {
    switch (d.kind) {
      case 'binding': {
        const space = d.space === 'uniform' ? 'uniform' : `storage, ${d.access ?? 'read'}`;
        return `@group(${d.group}) @binding(${d.binding}) var<${space}> ${d.name}: ${this.type(d.type)};`;
      }
      case 'workgroupVar':
        return `var<workgroup> ${d.name}: ${this.type(d.type)};`;
      case 'const':
        return `const ${d.name}${d.type ? `: ${this.type(d.type)}` : ''} = ${this.expr(d.value, true)};`;
      case 'fn': {
        const params = d.params.map((p) => `${p.name}: ${this.type(p.type)}`).join(', ');
        const out = [`fn ${d.name}(${params})${d.returns ? ` -> ${this.type(d.returns)}` : ''} {`];
        this.stmts(d.body, 1, out);
        out.push('}');
        return out.join('\n');
      }
      case 'entry': {
        const params = d.builtins.map((b) => `@builtin(${b.builtin}) ${b.name}: ${b.builtin === 'local_invocation_index' || b.builtin === 'subgroup_invocation_id' ? 'u32' : 'vec3<u32>'}`);
        const out = [`@compute @workgroup_size(${d.workgroupSize.join(', ')})`, `fn ${d.name}(${params.join(', ')}) {`];
        this.stmts(d.body, 1, out);
        out.push('}');
        return out.join('\n');
      }
    }
  }
}

function mentionsF16(t: Type): boolean {
  switch (t.kind) {
    case 'scalar':
      return t.scalar === 'f16';
    case 'vec':
      return t.elem === 'f16';
    case 'array':
      return mentionsF16(t.elem);
    case 'atomic':
      return false;
  }
}

const ENABLE_ORDER: readonly Enable[] = ['f16', 'subgroups'];

/** WGSL source of a module; ends with a newline. `enable f16;` is added whenever f16 appears. */
export function printModule(m: Module): string {
  const p = new Printer();
  // Consecutive bindings print as one block; every other declaration is separated by a blank line.
  const chunks: string[] = [];
  let prevBinding = false;
  for (const d of m.decls) {
    const text = p.decl(d);
    const isBinding = d.kind === 'binding';
    if (isBinding && prevBinding) chunks[chunks.length - 1] += `\n${text}`;
    else chunks.push(text);
    prevBinding = isBinding;
  }
  const preludes = preludesFor(p.used);
  const enables = new Set<Enable>(m.enables);
  if (p.usesF16 || preludes.some((x) => x.f16)) enables.add('f16');
  const head = ENABLE_ORDER.filter((e) => enables.has(e)).map((e) => `enable ${e};`);
  const parts = [...(head.length ? [head.join('\n')] : []), ...preludes.map((x) => x.text), ...chunks];
  return `${parts.join('\n\n')}\n`;
}

/** Text of a single expression (diagnostics and tests). */
export function printExpr(e: Expr): string {
  return new Printer().expr(e, true);
}

/** Text of statements at indentation 0 (diagnostics and tests). */
export function printStmts(body: readonly Stmt[]): string {
  const out: string[] = [];
  new Printer().stmts(body, 0, out);
  return out.join('\n');
}
