// What an op rule sees of the node it maps: typed attributes, its inputs (with their types and, when known at
// import time, their values), and `emit`, which adds an IR node, or evaluates it right away with the reference
// interpreter when every input is known (constant folding at import, which is how Shape -> Gather -> Concat
// chains become a Reshape's attribute).
import type { Attrs } from '../../graph.js';
import { evaluateNode, InterpError } from '../../interp.js';
import { AttrReader, OpError, checkAttrs, lookupOp, outputCount } from '../../op.js';
import { lookupElementwise } from '../../ops/elementwise.js';
import { dtypeInfo } from '../../dtype.js';
import { type Dim, isStaticShape, numel } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { type TensorType, tensorType } from '../../types.js';
import { OnnxAttrs } from './attributes.js';
import { invalid, unsupported } from './errors.js';
import type { NodeProto } from './proto.js';
import { type SymTensor, foldSymbolic } from './sym-fold.js';
import type { ValueTable } from './values.js';

/** Results larger than this (elements) are computed at run time rather than folded into the model. */
const FOLD_LIMIT = 1 << 22;

export class NodeContext {
  readonly attrs: OnnxAttrs;
  readonly op: string;

  constructor(
    readonly node: NodeProto,
    readonly opset: number,
    readonly values: ValueTable,
    private readonly usedNames: ReadonlySet<string>,
    private readonly noteSink: (msg: string) => void,
  ) {
    this.op = node.op_type ?? '';
    this.attrs = new OnnxAttrs(node.attribute);
  }

  // --- inputs -------------------------------------------------------------------------------------------

  get inputCount(): number {
    return this.node.input.length;
  }

  /** The ONNX name of input i, '' when omitted. */
  input(i: number): string {
    return this.node.input[i] ?? '';
  }

  has(i: number): boolean {
    return this.input(i) !== '';
  }

  type(i: number): TensorType {
    if (!this.has(i)) return invalid(`input ${i} of ${this.op} is required but omitted`);
    return this.values.typeOf(this.input(i));
  }

  /** The value of input i when known at import time. */
  constant(i: number): Tensor | undefined {
    return this.has(i) ? this.values.constOf(this.input(i)) : undefined;
  }

  /** The value of a shape-like input, which kiln needs at compile time. */
  requireConst(i: number, what: string): Tensor {
    if (!this.has(i)) return invalid(`${this.op} needs its ${what} input (input ${i})`);
    const c = this.constant(i);
    if (!c)
      return unsupported(
        'dynamic',
        `${this.op} ${what} must be a constant (kiln compiles static shapes); input '${this.input(i)}' is computed at run time`,
        this.input(i),
      );
    return c;
  }

  /** A shape-like input as integers, or undefined when omitted. */
  constInts(i: number, what: string): number[] | undefined {
    const values = this.constValues(i, what);
    const bad = values?.find((v) => !Number.isInteger(v));
    if (bad !== undefined) invalid(`${this.op} ${what} (input '${this.input(i)}') must hold integers, got ${bad}; store it as an int64 tensor`);
    return values;
  }

  /**
   * A shape-like input as dims: integers, or symbolic dims when the value was computed from symbolic shapes
   * (sym-fold.ts); undefined when omitted.
   */
  constDims(i: number, what: string): Dim[] | undefined {
    if (!this.has(i)) return undefined;
    const sym = this.values.isSym(this.input(i)) ? this.values.symOf(this.input(i)) : undefined;
    return sym ? [...sym.dims] : this.constInts(i, what);
  }

  /** The symbolic value of output-producing input i (Shape and friends set these). */
  setSym(k: number, s: SymTensor): void {
    if (this.output(k)) this.values.setSym(this.output(k), s);
  }

  /** A known input's values as plain numbers (floats or ints), or undefined when omitted. */
  constValues(i: number, what: string): number[] | undefined {
    return this.has(i) ? Array.from(this.requireConst(i, what).data) : undefined;
  }

  /** A scalar (or one-element) input's value, or undefined when omitted. */
  constScalar(i: number, what: string): number | undefined {
    if (!this.has(i)) return undefined;
    const t = this.requireConst(i, what);
    if (t.data.length !== 1) return invalid(`${this.op} ${what} must hold one value, got shape [${t.shape.join(',')}]`);
    return t.data[0]!;
  }

  /** A scalar input that must be an integer (an axis, a diagonal offset), or undefined when omitted. */
  constIntScalar(i: number, what: string): number | undefined {
    const v = this.constScalar(i, what);
    if (v !== undefined && !Number.isInteger(v)) invalid(`${this.op} ${what} (input '${this.input(i)}') must be an integer, got ${v}; store it as an int64 tensor`);
    return v;
  }

  // --- outputs ------------------------------------------------------------------------------------------

  get outputCount(): number {
    return this.node.output.length;
  }

  /** The ONNX name of output k, '' when not requested. */
  output(k: number): string {
    return this.node.output[k] ?? '';
  }

  /** Whether output k is read by another node or is a graph output. */
  used(k: number): boolean {
    return this.output(k) !== '' && this.usedNames.has(this.output(k));
  }

  /** Output k is the same value as `name` (Identity and friends). */
  alias(k: number, name: string): void {
    if (!name) invalid(`${this.op} passes its input through, but the node has no input`);
    if (this.output(k)) this.values.alias(this.output(k), name);
  }

  setConst(k: number, t: Tensor): void {
    if (this.output(k)) this.values.setConst(this.output(k), t);
  }

  /** A fresh name for an intermediate value of this node. */
  tmp(suffix: string): string {
    return this.values.tmp(`${this.output(0) || this.op}__${suffix}`);
  }

  /** A known value made up by the rule (a divisor, a fill value); returns its name. */
  newConst(t: Tensor, suffix: string): string {
    const name = this.tmp(suffix);
    this.values.setConst(name, t);
    return name;
  }

  note(msg: string): void {
    this.noteSink(msg);
  }

  // --- emitting -----------------------------------------------------------------------------------------

  /** Emit IR `op` writing this node's outputs (in order; unrequested ones get fresh names). */
  emitOutputs(op: string, inputs: readonly string[], attrs: Attrs = {}): string[] {
    return this.emit(op, inputs, attrs, this.node.output);
  }

  /** Emit a single-output IR op; `output` defaults to a fresh name. */
  emit1(op: string, inputs: readonly string[], attrs: Attrs = {}, output?: string): string {
    return this.emit(op, inputs, attrs, [output ?? this.tmp(op.toLowerCase())])[0]!;
  }

  /**
   * Add IR node `op` (inputs are value names, '' for omitted), or fold it when every input is known. Returns the
   * output names; `outputs` entries that are missing or '' get fresh names.
   */
  emit(op: string, inputs: readonly string[], attrs: Attrs = {}, outputs: readonly string[] = []): string[] {
    const def = lookupOp(op);
    if (!def) return unsupported('op', `kiln has no ${op} op (yet), which ${this.op} maps to`);
    const problems = checkAttrs(def, attrs);
    // A required attribute the model's node does not set either is the model's mistake, not the rule's.
    for (const [name, spec] of Object.entries(def.attrs))
      if (spec.required && attrs[name] === undefined && !this.attrs.has(name))
        invalid(`${this.op} needs attribute '${name}' (${spec.kind}), which the node does not set`);
    if (problems.length) throw new Error(`the ${this.op} rule built bad ${op} attributes: ${problems.join('; ')}`);
    const reader = new AttrReader(op, def.attrs, attrs);
    const count = outputCount(def, reader, inputs.length);
    const names = Array.from({ length: count }, (_, k) => outputs[k] || this.tmp(`${op.toLowerCase()}${k ? k : ''}`));
    const present = inputs.filter((i) => i !== '');
    const known = present.length > 0 && present.every((i) => this.values.isConst(i));
    const symbolic = !known && present.some((i) => this.values.isSym(i)) && present.every((i) => this.values.symOf(i));
    try {
      this.checkElementwiseDType(op, inputs);
      if (known && this.tryFold(op, inputs, attrs, names, reader)) return names;
      if (symbolic) {
        const folded = foldSymbolic(op, inputs.map((i) => (i === '' ? undefined : this.values.symOf(i))), attrs);
        if (folded) {
          folded.forEach((t, k) => this.values.setSym(names[k]!, t));
          return names;
        }
      }
      const irInputs = inputs.map((i) => (i === '' ? '' : this.values.materialize(i)));
      this.values.builder.node(op, irInputs, attrs, { names });
    } catch (e) {
      if (e instanceof OpError) return this.rejected(op, e.message);
      // Shapes and attributes were accepted (infer ran first), so this is the data: an index out of range, say.
      if (e instanceof InterpError) return invalid(`folding ${op} at import failed: ${e.message.replace(/^%[^=]* = \w+\([^)]*\): /, '')}`);
      throw e;
    }
    for (const n of names) this.values.claim(n);
    return names;
  }

  private tryFold(op: string, inputs: readonly string[], attrs: Attrs, names: string[], reader: AttrReader): boolean {
    const tensors = inputs.map((i) => (i === '' ? undefined : this.values.constOf(i)!));
    const inTypes = tensors.map((t) => t && tensorType(t.dtype, t.shape));
    const outTypes = lookupOp(op)!.infer(inTypes, reader);
    const size = outTypes.reduce((s, t) => s + (isStaticShape(t.shape) ? numel(t.shape) : Infinity), 0);
    if (size > FOLD_LIMIT) return false;
    const results = evaluateNode({ op, inputs: [...inputs], outputs: names, attrs }, tensors);
    results.forEach((t, k) => this.values.setConst(names[k]!, t));
    return true;
  }

  /** Elementwise IR ops list the dtype kinds they take; say so in ONNX terms rather than as an IR type error. */
  private checkElementwiseDType(op: string, inputs: readonly string[]): void {
    const row = lookupElementwise(op);
    if (!row || inputs.length === 0) return;
    const data = row.condition ? inputs.slice(1) : inputs;
    for (const i of data.filter((n) => n !== '')) {
      const dt = this.values.typeOf(i).dtype;
      if (!row.kinds.includes(dtypeInfo(dt).kind))
        unsupported('dtype', `${this.op} on ${dt}: kiln's ${op} takes ${row.kinds.join(' or ')} dtypes only`);
    }
  }

  private rejected(op: string, message: string): never {
    const msg = message.replace(/^%[^=]* = \w+\([^)]*\): /, '');
    return unsupported('ir', `kiln's ${op} rejects this ${this.op}: ${msg}`);
  }
}
