// KernelBuilder: declares a kernel's bindings and emits its statements as AST, with control flow as callbacks
// (`k.if(cond, () => ...)`). finish() returns the module AST plus the plain-data binding metadata and dispatch
// geometry a runtime needs; WGSL text comes from print.ts. Tensors are read and written through TensorAccessor
// (accessor.ts), which knows each dtype's storage and value types.
import type { DType } from '../../ir/dtype.js';
import { dimCeilDiv } from '../../ir/dim.js';
import { type Dim, numel } from '../../ir/shape.js';
import { DIMS_BINDING, type DimContext, dimExpr, dimMax, dimsBufferBytes } from './dims.js';
import { TensorAccessor, type TensorDesc, storageLayout } from './accessor.js';
import type { BuiltinValue, CompoundOp, Decl, Enable, Expr, Module, Stmt, Type } from './ast.js';
import { add, arrayType, builtin, construct, ident, index, lit, member, mul, vecType } from './dsl.js';
import type { Target } from './target.js';
export type { Target } from './target.js';

export interface BindingInfo {
  readonly name: string;
  readonly group: number;
  readonly binding: number;
  readonly access: 'read' | 'read_write' | 'uniform';
  /** Present for tensor bindings. */
  readonly dtype?: DType;
  readonly shape?: readonly number[];
  /** WGSL element type of the bound array and how many elements it has. */
  readonly storage: string;
  readonly elements: number;
  /** Size in bytes (a multiple of 4, at least 4: WebGPU rejects empty bindings). */
  readonly bytes: number;
}

export interface KernelModule {
  readonly module: Module;
  readonly entryPoint: string;
  readonly bindings: readonly BindingInfo[];
  readonly workgroupSize: readonly [number, number, number];
  /** Workgroup counts for dispatchWorkgroups; symbolic counts are evaluated by the runtime per run. */
  readonly dispatch: readonly [Dim, Dim, Dim];
}

export interface KernelOptions {
  readonly target: Target;
  /** The program's symbols, for kernels whose tensors have symbolic dims (wgsl/dims.ts). */
  readonly dims?: DimContext;
  readonly workgroupSize?: number;
  readonly entryPoint?: string;
}

const BUILTIN_NAMES = { local_invocation_id: 'lid', local_invocation_index: 'lidx', workgroup_id: 'wid', num_workgroups: 'nwg', subgroup_invocation_id: 'sgid' } as const;

/** Most workgroups one dispatch dimension may have (WebGPU's default maxComputeWorkgroupsPerDimension). */
export const MAX_WORKGROUPS_PER_DIM = 65535;

export class KernelBuilder {
  readonly target: Target;
  readonly workgroupSize: number;
  private readonly entryPoint: string;
  private readonly bindings: BindingInfo[] = [];
  private readonly bindingDecls: Decl[] = [];
  private readonly helpers = new Map<string, Decl>();
  private readonly enables = new Set<Enable>();
  private readonly blocks: Stmt[][] = [[]];
  private readonly names = new Set<string>();
  private dispatch: [Dim, Dim, Dim] = [1, 1, 1];
  private readonly dimCx: DimContext | undefined;
  private dimsBuffer: Expr | undefined;
  private readonly workgroupDecls: Decl[] = [];
  private readonly entryBuiltins = new Map<BuiltinValue, string>();

  constructor(opts: KernelOptions) {
    this.target = opts.target;
    this.workgroupSize = opts.workgroupSize ?? 64;
    this.entryPoint = opts.entryPoint ?? 'main';
    this.dimCx = opts.dims;
    this.names.add('gid');
  }

  /**
   * Bind the program's dims uniform here (kernels with symbolic dims call this at a fixed point, and their
   * lowering passes the dims buffer at the same binding position).
   */
  bindDims(): void {
    if (!this.dimCx) throw new Error('a kernel with symbolic dims needs the program symbols (KernelOptions.dims)');
    if (this.dimsBuffer) throw new Error('the dims uniform is bound twice');
    const n = Math.max(1, Math.ceil(this.dimCx.order.length / 4));
    this.dimsBuffer = this.uniform(DIMS_BINDING, arrayType(vecType(4, 'u32'), n), dimsBufferBytes(this.dimCx.order.length));
  }

  /** A dim as a u32 expression: a literal, or computed from the dims uniform (bound by bindDims). */
  dim(d: Dim): Expr {
    if (typeof d === 'number') return lit.u32(d);
    if (!this.dimsBuffer) throw new Error(`dim ${d} is symbolic: call bindDims() first`);
    return dimExpr(this.dimCx!, this.dimsBuffer, d);
  }

  /** The largest value a dim takes within the symbols' bounds. */
  dimMax(d: Dim): number {
    return dimMax(this.dimCx, d);
  }

  /** globalIndex over a possibly symbolic count: the dispatch covers `total` at run time, sized by the runtime. */
  globalIndexDim(total: Dim): Expr {
    if (typeof total === 'number') return this.globalIndex(total);
    const groups = dimCeilDiv(total, this.workgroupSize);
    const most = this.dimMax(groups);
    if (most <= MAX_WORKGROUPS_PER_DIM) {
      this.dispatch = [groups, 1, 1];
      return this.let('gi', member(ident('gid'), 'x'));
    }
    if (Math.ceil(most / MAX_WORKGROUPS_PER_DIM) > MAX_WORKGROUPS_PER_DIM) throw new Error(`problem of up to ${this.dimMax(total)} invocations is too large for one dispatch`);
    this.dispatch = [MAX_WORKGROUPS_PER_DIM, dimCeilDiv(groups, MAX_WORKGROUPS_PER_DIM), 1];
    return this.let('gi', add(member(ident('gid'), 'x'), mul(member(ident('gid'), 'y'), lit.u32(MAX_WORKGROUPS_PER_DIM * this.workgroupSize))));
  }

  /**
   * workgroupIndex over a symbolic count of workgroups (the runtime sizes the dispatch per run). `padded`: the
   * dispatch may hold workgroups past `groups` (two dimensions), which callers treat as idle.
   */
  workgroupIndexSym(groups: Dim): { readonly wg: Expr; readonly padded: boolean } {
    if (typeof groups === 'number') return { wg: this.workgroupIndex(groups), padded: false };
    const most = this.dimMax(groups);
    const wid = this.builtinInput('workgroup_id');
    if (most <= MAX_WORKGROUPS_PER_DIM) {
      this.dispatch = [groups, 1, 1];
      return { wg: this.let('wg', member(wid, 'x')), padded: false };
    }
    if (Math.ceil(most / MAX_WORKGROUPS_PER_DIM) > MAX_WORKGROUPS_PER_DIM) throw new Error(`problem of up to ${most} workgroups is too large for one dispatch`);
    this.dispatch = [MAX_WORKGROUPS_PER_DIM, dimCeilDiv(groups, MAX_WORKGROUPS_PER_DIM), 1];
    return { wg: this.let('wg', add(member(wid, 'x'), mul(member(wid, 'y'), lit.u32(MAX_WORKGROUPS_PER_DIM)))), padded: true };
  }

  /** A tensor read by the kernel. */
  input(name: string, desc: TensorDesc): TensorAccessor {
    return this.tensor(name, desc, 'read');
  }

  /** A tensor written by the kernel. */
  output(name: string, desc: TensorDesc): TensorAccessor {
    return this.tensor(name, desc, 'read_write');
  }

  /**
   * A tensor of a 32-bit dtype (f32, i32, u32) bound as `array<vec4<...>>`, for kernels that load four consecutive
   * elements at once (element count a multiple of 4; same bytes as `input`); read-only unless `access` says
   * read_write (a kernel that also stores whole groups). Returns its identifier.
   */
  vec4Input(name: string, desc: TensorDesc, access: 'read' | 'read_write' = 'read'): Expr {
    const count = numel(desc.shape);
    const dt = desc.dtype;
    if ((dt !== 'f32' && dt !== 'i32' && dt !== 'u32') || count % 4 !== 0 || count === 0)
      throw new Error(`${name}: a vec4 binding needs a non-empty 32-bit tensor with a multiple of 4 elements, got ${dt}[${desc.shape.join(',')}]`);
    this.addBinding(name, arrayType({ kind: 'vec', width: 4, elem: dt }), access, {
      dtype: dt,
      shape: [...desc.shape],
      storage: `vec4<${dt}>`,
      elements: count / 4,
      bytes: count * 4,
    });
    return ident(name);
  }

  /**
   * A read-only f16 tensor read four elements at a time, each group already widened to vec4<f32>: as
   * array<vec4<f16>> with shader-f16, else as array<vec2<u32>> (two f16 per word, element 4i in the low half of
   * word 2i) unpacked with unpack2x16float. `count` must be a multiple of 4.
   */
  vec4F16Input(name: string, desc: TensorDesc): (group: Expr) => Expr {
    const count = numel(desc.shape);
    if (desc.dtype !== 'f16' || count % 4 !== 0 || count === 0)
      throw new Error(`${name}: an f16 vec4 binding needs a non-empty f16 tensor with a multiple of 4 elements, got ${desc.dtype}[${desc.shape.join(',')}]`);
    const f32x4 = vecType(4, 'f32');
    if (this.target.shaderF16) {
      this.enables.add('f16');
      this.addBinding(name, arrayType(vecType(4, 'f16')), 'read', { dtype: 'f16', shape: [...desc.shape], storage: 'vec4<f16>', elements: count / 4, bytes: count * 2 });
      return (group) => construct(f32x4, index(ident(name), group));
    }
    this.addBinding(name, arrayType(vecType(2, 'u32')), 'read', { dtype: 'f16', shape: [...desc.shape], storage: 'vec2<u32>', elements: count / 4, bytes: count * 2 });
    return (group) => {
      const words = index(ident(name), group);
      return construct(f32x4, builtin('unpack2x16float', member(words, 'x')), builtin('unpack2x16float', member(words, 'y')));
    };
  }

  /**
   * An f16 tensor read eight elements per 16-byte load (array<vec4<u32>>, element 8i in the low half of word 4i),
   * widened to two vec4<f32>; each call emits a `let` of the words here, so call it where the load is unconditional.
   * On lavapipe a load costs the same whatever its width: vec2<u32> or vec4<f16> loads reach ~60 % of this rate.
   */
  vec8F16Input(name: string, desc: TensorDesc): (group: Expr) => readonly [Expr, Expr] {
    const count = numel(desc.shape);
    if (desc.dtype !== 'f16' || count % 8 !== 0 || count === 0)
      throw new Error(`${name}: an f16 vec8 binding needs a non-empty f16 tensor with a multiple of 8 elements, got ${desc.dtype}[${desc.shape.join(',')}]`);
    this.addBinding(name, arrayType(vecType(4, 'u32')), 'read', { dtype: 'f16', shape: [...desc.shape], storage: 'vec4<u32>', elements: count / 8, bytes: count * 2 });
    return (group) => {
      const words = this.let('q', index(ident(name), group));
      const half = (a: 'x' | 'z', b: 'y' | 'w'): Expr => construct(vecType(4, 'f32'), builtin('unpack2x16float', member(words, a)), builtin('unpack2x16float', member(words, b)));
      return [half('x', 'y'), half('z', 'w')];
    };
  }

  private tensor(name: string, desc: TensorDesc, access: 'read' | 'read_write'): TensorAccessor {
    const layout = storageLayout(desc.dtype, numel(desc.shape), this.target);
    if (layout.storage === 'f16') this.enables.add('f16');
    this.addBinding(name, arrayType({ kind: 'scalar', scalar: layout.storage }), access, {
      dtype: desc.dtype,
      shape: [...desc.shape],
      storage: layout.storage,
      elements: layout.elements,
      bytes: Math.max(4, Math.ceil((layout.elements * (layout.storage === 'f16' ? 2 : 4)) / 4) * 4),
    });
    return new TensorAccessor(this, name, desc, layout, access);
  }

  /** A uniform binding of a host-shareable type (e.g. vec4<u32> for symbolic dims). */
  uniform(name: string, type: Type, bytes: number): Expr {
    this.addBinding(name, type, 'uniform', { storage: type.kind === 'scalar' ? type.scalar : 'struct', elements: 1, bytes });
    return ident(name);
  }

  private addBinding(
    name: string,
    type: Type,
    access: BindingInfo['access'],
    info: Omit<BindingInfo, 'name' | 'group' | 'binding' | 'access'>,
  ): void {
    this.claim(name);
    const binding = this.bindings.length;
    this.bindings.push({ name, group: 0, binding, access, ...info });
    this.bindingDecls.push(
      access === 'uniform'
        ? { kind: 'binding', group: 0, binding, name, space: 'uniform', type }
        : { kind: 'binding', group: 0, binding, name, space: 'storage', access, type },
    );
  }

  /** Add a module-scope helper function once (by name); later calls with the same name are ignored. */
  helper(decl: Extract<Decl, { kind: 'fn' | 'const' }>): string {
    if (!this.helpers.has(decl.name)) {
      this.claim(decl.name);
      this.helpers.set(decl.name, decl);
    }
    return decl.name;
  }

  enable(e: Enable): void {
    this.enables.add(e);
  }

  /** A fresh identifier starting with `base`. */
  fresh(base: string): string {
    let n = base;
    for (let k = 1; this.names.has(n); k++) n = `${base}${k}`;
    this.names.add(n);
    return n;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`kernel identifier '${name}' declared twice`);
    this.names.add(name);
  }

  /**
   * The flat index of this invocation for a 1-D problem of `total` invocations, and sets the dispatch to cover
   * it (a second dispatch dimension is used past 65535 workgroups). Callers guard with `i < total`.
   */
  globalIndex(total: number): Expr {
    const groups = Math.ceil(total / this.workgroupSize);
    const x = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
    const y = x === 0 ? 1 : Math.ceil(groups / x);
    if (y > MAX_WORKGROUPS_PER_DIM) throw new Error(`problem of ${total} invocations is too large for one dispatch`);
    this.dispatch = [x, y, 1];
    const gx = member(ident('gid'), 'x');
    const flat = y === 1 ? gx : add(gx, mul(member(ident('gid'), 'y'), lit.u32(x * this.workgroupSize)));
    return this.let('gi', flat);
  }

  /** A module-scope `var<workgroup> name: array<elem, length>;` (shared by a workgroup's invocations). */
  workgroupArray(name: string, elem: Type, length: number): Expr {
    const n = this.fresh(name);
    this.workgroupDecls.push({ kind: 'workgroupVar', name: n, type: arrayType(elem, length) });
    return ident(n);
  }

  /** An entry-point built-in input (declared once): e.g. `local_invocation_index` (u32), `workgroup_id` (vec3<u32>). */
  builtinInput(builtin: Exclude<BuiltinValue, 'global_invocation_id'>): Expr {
    let n = this.entryBuiltins.get(builtin);
    if (builtin === 'subgroup_invocation_id' && !this.target.subgroups) throw new Error('subgroup_invocation_id needs the subgroups feature in the target');
    if (builtin === 'subgroup_invocation_id') this.enables.add('subgroups');
    if (!n) this.entryBuiltins.set(builtin, (n = this.fresh(BUILTIN_NAMES[builtin])));
    return ident(n);
  }

  /**
   * The flat index of this invocation's workgroup for a problem of `groups` workgroups, and sets the dispatch to
   * cover it (a second dispatch dimension is used past 65535). The index is workgroup-uniform; callers treat
   * indices >= groups as idle.
   */
  workgroupIndex(groups: number): Expr {
    const x = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
    const y = x === 0 ? 1 : Math.ceil(groups / x);
    if (y > MAX_WORKGROUPS_PER_DIM) throw new Error(`problem of ${groups} workgroups is too large for one dispatch`);
    this.dispatch = [x, y, 1];
    const wid = this.builtinInput('workgroup_id');
    return this.let('wg', y === 1 ? member(wid, 'x') : add(member(wid, 'x'), mul(member(wid, 'y'), lit.u32(x))));
  }

  // ---- statements -------------------------------------------------------------------------------------------

  emit(s: Stmt): void {
    this.blocks[this.blocks.length - 1]!.push(s);
  }

  /** `let name = init;` with a fresh name; returns the identifier. */
  let(name: string, init: Expr, type?: Type): Expr {
    const n = this.fresh(name);
    this.emit(type ? { kind: 'let', name: n, type, init } : { kind: 'let', name: n, init });
    return ident(n);
  }

  /** `var name: type = init;` with a fresh name; returns the identifier. */
  var(name: string, type: Type, init?: Expr): Expr {
    const n = this.fresh(name);
    this.emit(init ? { kind: 'var', name: n, type, init } : { kind: 'var', name: n, type });
    return ident(n);
  }

  assign(target: Expr, value: Expr): void {
    this.emit({ kind: 'assign', target, value });
  }

  compound(op: CompoundOp, target: Expr, value: Expr): void {
    this.emit({ kind: 'compound', op, target, value });
  }

  /** Statements emitted by `body` collected into a list (not emitted). */
  collect(body: () => void): Stmt[] {
    this.blocks.push([]);
    try {
      body();
      return this.blocks[this.blocks.length - 1]!;
    } finally {
      this.blocks.pop();
    }
  }

  if(cond: Expr, then: () => void, otherwise?: () => void): void {
    const t = this.collect(then);
    if (otherwise) this.emit({ kind: 'if', cond, then: t, else: this.collect(otherwise) });
    else this.emit({ kind: 'if', cond, then: t });
  }

  /** `for (var i = from; i < to; i += step) { body(i) }` over u32 (i32 when `from` is an i32 literal). */
  for(name: string, from: Expr, to: Expr, body: (i: Expr) => void, step = 1): void {
    const n = this.fresh(name);
    const i = ident(n);
    const scalar = from.kind === 'lit' && from.type === 'i32' ? 'i32' : 'u32';
    const inner = this.collect(() => body(i));
    this.emit({
      kind: 'for',
      init: { kind: 'var', name: n, type: { kind: 'scalar', scalar }, init: from },
      cond: { kind: 'binary', op: '<', lhs: i, rhs: to },
      update: { kind: 'compound', op: '+=', target: i, value: lit.of(scalar, step) },
      body: inner,
    });
  }

  loop(body: () => void): void {
    this.emit({ kind: 'loop', body: this.collect(body) });
  }

  break(): void {
    this.emit({ kind: 'break' });
  }

  return(value?: Expr): void {
    this.emit(value ? { kind: 'return', value } : { kind: 'return' });
  }

  workgroupBarrier(): void {
    this.emit({ kind: 'barrier', scope: 'workgroup' });
  }

  finish(): KernelModule {
    if (this.blocks.length !== 1) throw new Error('KernelBuilder.finish() inside an open block');
    const entry: Decl = {
      kind: 'entry',
      name: this.entryPoint,
      workgroupSize: [this.workgroupSize, 1, 1],
      builtins: [{ name: 'gid', builtin: 'global_invocation_id' }, ...[...this.entryBuiltins].map(([builtin, name]) => ({ name, builtin }))],
      body: this.blocks[0]!,
    };
    const decls = [...this.bindingDecls, ...this.workgroupDecls, ...this.helpers.values(), entry];
    return {
      module: { enables: [...this.enables].sort(), decls },
      entryPoint: this.entryPoint,
      bindings: [...this.bindings],
      workgroupSize: [this.workgroupSize, 1, 1],
      dispatch: [...this.dispatch],
    };
  }
}
