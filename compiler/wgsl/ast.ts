// A typed WGSL AST: plain discriminated unions, no behaviour. Kernels are built as values of these types (see
// build.ts and dsl.ts) and turned into text only by print.ts, so no other module assembles WGSL syntax.

/** Scalars WGSL computes with. */
export type Scalar = 'f32' | 'f16' | 'i32' | 'u32' | 'bool';
export type VecWidth = 2 | 3 | 4;

export type Type =
  | { readonly kind: 'scalar'; readonly scalar: Scalar }
  | { readonly kind: 'vec'; readonly width: VecWidth; readonly elem: Scalar }
  /** `length` absent: a runtime-sized array (only as the last member of a storage binding). */
  | { readonly kind: 'array'; readonly elem: Type; readonly length?: number }
  | { readonly kind: 'atomic'; readonly scalar: 'i32' | 'u32' };

export type UnaryOp = '-' | '!' | '~';
export type ArithOp = '+' | '-' | '*' | '/' | '%';
export type BitOp = '&' | '|' | '^' | '<<' | '>>';
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type LogicOp = '&&' | '||';
export type BinaryOp = ArithOp | BitOp | CompareOp | LogicOp;
export type CompoundOp = `${ArithOp | Exclude<BitOp, '<<' | '>>'>}=`;

/** WGSL built-in functions the kernels use (the printer writes the name as is). */
export type BuiltinFn =
  | 'abs' | 'min' | 'max' | 'clamp' | 'sign' | 'floor' | 'ceil' | 'round' | 'trunc' | 'fract'
  | 'sqrt' | 'inverseSqrt' | 'exp' | 'exp2' | 'log' | 'log2' | 'pow' | 'tanh' | 'sin' | 'cos' | 'fma'
  | 'all' | 'any' | 'countOneBits' | 'extractBits' | 'insertBits' | 'firstLeadingBit' | 'frexp' | 'ldexp'
  | 'pack2x16float' | 'unpack2x16float' | 'dot4I8Packed' | 'atomicAdd' | 'atomicLoad' | 'atomicStore' | 'arrayLength'
  | 'subgroupBroadcast' | 'dot';

export type Expr =
  /** A literal of a scalar type; floats print so that they parse back to exactly this f32/f16 value. */
  | { readonly kind: 'lit'; readonly type: Scalar; readonly value: number | boolean }
  | { readonly kind: 'ident'; readonly name: string }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly arg: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly lhs: Expr; readonly rhs: Expr }
  | { readonly kind: 'builtin'; readonly fn: BuiltinFn; readonly args: readonly Expr[] }
  /** A call of a module function: a helper declared in the module or a prelude function (prelude.ts). */
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[] }
  | { readonly kind: 'index'; readonly base: Expr; readonly index: Expr }
  | { readonly kind: 'member'; readonly base: Expr; readonly member: string }
  /** Value constructor or conversion: `f32(x)`, `vec2<f32>(a, b)`. */
  | { readonly kind: 'construct'; readonly type: Type; readonly args: readonly Expr[] }
  | { readonly kind: 'bitcast'; readonly type: Type; readonly arg: Expr }
  /** WGSL `select(ifFalse, ifTrue, cond)`. */
  | { readonly kind: 'select'; readonly cond: Expr; readonly ifTrue: Expr; readonly ifFalse: Expr }
  /** `&e`: only as an argument of atomic built-ins. */
  | { readonly kind: 'addressOf'; readonly arg: Expr };

export type Stmt =
  | { readonly kind: 'let'; readonly name: string; readonly type?: Type; readonly init: Expr }
  | { readonly kind: 'var'; readonly name: string; readonly type?: Type; readonly init?: Expr }
  | { readonly kind: 'assign'; readonly target: Expr; readonly value: Expr }
  | { readonly kind: 'compound'; readonly op: CompoundOp; readonly target: Expr; readonly value: Expr }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else?: readonly Stmt[] }
  | {
      readonly kind: 'for';
      readonly init?: Stmt;
      readonly cond?: Expr;
      readonly update?: Stmt;
      readonly body: readonly Stmt[];
    }
  | { readonly kind: 'loop'; readonly body: readonly Stmt[] }
  | { readonly kind: 'break' }
  | { readonly kind: 'continue' }
  | { readonly kind: 'return'; readonly value?: Expr }
  | { readonly kind: 'block'; readonly body: readonly Stmt[] }
  | { readonly kind: 'expr'; readonly expr: Expr }
  | { readonly kind: 'barrier'; readonly scope: 'workgroup' | 'storage' };

export type AccessMode = 'read' | 'read_write';

export type BuiltinValue = 'global_invocation_id' | 'local_invocation_id' | 'workgroup_id' | 'num_workgroups' | 'local_invocation_index' | 'subgroup_invocation_id';

export interface Param {
  readonly name: string;
  readonly type: Type;
}

export type Decl =
  | {
      readonly kind: 'binding';
      readonly group: number;
      readonly binding: number;
      readonly name: string;
      readonly space: 'storage' | 'uniform';
      /** Storage bindings only; uniforms are always read. */
      readonly access?: AccessMode;
      readonly type: Type;
    }
  | { readonly kind: 'workgroupVar'; readonly name: string; readonly type: Type }
  | { readonly kind: 'const'; readonly name: string; readonly type?: Type; readonly value: Expr }
  | {
      readonly kind: 'fn';
      readonly name: string;
      readonly params: readonly Param[];
      readonly returns?: Type;
      readonly body: readonly Stmt[];
    }
  | {
      readonly kind: 'entry';
      readonly name: string;
      readonly workgroupSize: readonly [number, number, number];
      /** Built-in inputs, each bound to a parameter name: `@builtin(global_invocation_id) gid: vec3<u32>`. */
      readonly builtins: readonly { readonly name: string; readonly builtin: BuiltinValue }[];
      readonly body: readonly Stmt[];
    };

export type Enable = 'f16' | 'subgroups';

export interface Module {
  readonly enables: readonly Enable[];
  readonly decls: readonly Decl[];
}
