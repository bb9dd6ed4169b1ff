// The import driver: ModelProto -> kiln Graph. In order:
//   1. initializers (dense and sparse) become known values, held out of the graph until a node reads them;
//   2. graph inputs that are not initializers become IR inputs, their dims static or symbolic (bounds 1..65536
//      unless the `symbols` option bounds or binds them);
//   3. each node goes through the op table (table.ts) in graph order; rules emit IR nodes or fold known values;
//   4. graph outputs are bound by name (a known output becomes a constant, an alias gets its own name);
//   5. the result is verified, and value_info is compared with what kiln inferred (mismatches become notes).
// Names are the ONNX value names, unchanged, so intermediate tensors can be compared by name.
import { readFileSync } from 'node:fs';
import '../../ops/index.js'; // registers the IR ops the rules emit
import { dirname, resolve } from 'node:path';
import { GraphBuilder } from '../../builder.js';
import type { Graph } from '../../graph.js';
import { type Dim, type SymbolBound, UNBOUNDED_SYMBOL, formatShape, isStaticShape } from '../../shape.js';
import type { Tensor } from '../../tensor.js';
import { formatType, tensorType } from '../../types.js';
import { assertValid } from '../../verify.js';
import { NodeContext } from './context.js';
import { ONNX_DTYPE, onnxDTypeName, runtimeDType } from './dtypes.js';
import { OnnxImportError, OnnxUnsupportedError, invalid, unsupported, withContext } from './errors.js';
import { type ExternalDataReader, externalDataReader } from './external-data.js';
import { type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto, decodeModel } from './proto.js';
import { MAX_OPSET, MIN_OPSET } from './rule.js';
import { decodeSparse } from './sparse.js';
import { mapsDomain, resolveRule } from './table.js';
import { tensorFromProto } from './tensor-proto.js';
import { ValueTable } from './values.js';
import { protoNames, protoReads } from './subgraph.js';

export interface OnnxImportOptions {
  /** The model's path, for messages and as the default folder for external data. */
  readonly file?: string;
  /** The folder external data must live in (default: the model file's folder). */
  readonly baseDir?: string;
  /**
   * Per symbolic dim (ONNX dim_param): a number binds it to that static size; {min, max} overrides the default
   * bounds 1..65536.
   */
  readonly symbols?: Readonly<Record<string, number | SymbolBound>>;
  /**
   * Graph inputs whose values are known at compile time (say, a shape operand the model takes as an input): they
   * become constants, as initializers do, and leave the graph's inputs. int64 values may be given as i64.
   */
  readonly inputValues?: Readonly<Record<string, Tensor>>;
  /**
   * Per graph input, dims that replace the declared ones: a number fixes a symbolic dim, a name makes a dim
   * symbolic. A model exported with a fixed batch (mnist-8's [1,1,28,28]) gets a symbolic batch this way; a
   * constant Reshape target that fixed that batch follows the symbol (see `promoted` in values.ts).
   */
  readonly inputShapes?: Readonly<Record<string, readonly (number | string)[]>>;
}

export interface OnnxImportResult {
  readonly graph: Graph;
  /** Decisions the user should know about: narrowed dtypes, bound symbols, initializers taken as constants. */
  readonly notes: string[];
  /** ONNX dtype names of graph inputs and outputs whose kiln dtype differs (int64 held as i32, double as f32). */
  readonly declaredDtypes: ReadonlyMap<string, string>;
}

/** ONNX element types kiln holds exactly as declared (anything else was narrowed or widened at import). */
const NATIVE_DTYPE: ReadonlyMap<number, string> = new Map<number, string>([
  [ONNX_DTYPE.FLOAT, 'f32'],
  [ONNX_DTYPE.FLOAT16, 'f16'],
  [ONNX_DTYPE.BFLOAT16, 'bf16'],
  [ONNX_DTYPE.INT32, 'i32'],
  [ONNX_DTYPE.UINT32, 'u32'],
  [ONNX_DTYPE.INT8, 'i8'],
  [ONNX_DTYPE.UINT8, 'u8'],
  [ONNX_DTYPE.BOOL, 'bool'],
  [ONNX_DTYPE.INT4, 'i4'],
  [ONNX_DTYPE.UINT4, 'u4'],
  [ONNX_DTYPE.INT2, 'i2'],
  [ONNX_DTYPE.UINT2, 'u2'],
]);

/** Bounds of a dim_param the user did not bound: 'any size' (compile narrows it to what fits, see fit-symbol-bounds). */
export const DEFAULT_SYMBOL_BOUND: SymbolBound = UNBOUNDED_SYMBOL;

/** Import an ONNX model given as bytes or a file path. Throws OnnxImportError (or OnnxUnsupportedError). */
export function importOnnx(source: Uint8Array | string, options: OnnxImportOptions = {}): OnnxImportResult {
  const path = typeof source === 'string' ? source : undefined;
  const file = options.file ?? path ?? '<bytes>';
  let bytes: Uint8Array;
  if (path === undefined) bytes = source as Uint8Array;
  else {
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new OnnxImportError(`${file}: cannot read the model: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  const from = path ?? options.file;
  const baseDir = options.baseDir ?? (from === undefined ? undefined : dirname(resolve(from)));
  const model = decodeModel(bytes, file);
  try {
    return new Importer(model, file, externalDataReader(baseDir), options).run();
  } catch (e) {
    if (e instanceof OnnxImportError && e.message.startsWith(`${file}: `)) throw e;
    throw withContext(file, e);
  }
}

/** Narrowed integer graph inputs and outputs are range-checked by the runtime; doubles are just rounded. */
const RANGE_CHECKED = (t: number | undefined): string => (t === ONNX_DTYPE.DOUBLE ? '' : ' (the runtime range-checks values)');

/** A symbol name the textual IR accepts (ONNX dim_params are free text). */
function symbolName(s: string): string {
  const clean = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(clean) ? clean : `s_${clean}`;
}

const describeNode = (n: NodeProto, opset: number): string => {
  const outs = n.output.filter((o) => o !== '').map((o) => `'${o}'`).join(', ');
  return `node ${n.name ? `'${n.name}' ` : ''}(${n.op_type || '?'}, opset ${opset}${outs ? `, outputs ${outs}` : ''})`;
};

/** Where a node is imported: the graph's (or a region's) values and what is read there. */
export interface NodeScope {
  /** The model file, for messages; absent inside a region (the enclosing node's import adds it). */
  readonly file?: string;
  readonly opset: number;
  readonly values: ValueTable;
  /** Names read by a node (or a region of one) or returned: rules define used outputs. */
  readonly used: ReadonlySet<string>;
  readonly note: (msg: string) => void;
  /** For a region: what it is, e.g. "in the body of node 'loop' (Loop)", appended to the node in messages. */
  readonly within?: string;
  /** The versions of the other domains the model imports (opset_import), for the domains kiln maps. */
  readonly domains?: ReadonlyMap<string, number>;
}

/** Errors that already name the node they are about (one inside a region), so enclosing nodes add nothing. */
const located = new WeakSet<object>();

/** Map one ONNX node through the op table into `scope.values`; errors name the file and the node. */
export function importNode(node: NodeProto, scope: NodeScope): void {
  const { opset, values } = scope;
  const domain = node.domain ?? '';
  const own = domain === '' || domain === 'ai.onnx';
  // A preview domain's node resolves by that domain's version; the default opset still governs its subgraphs.
  const version = own ? opset : mapsDomain(domain) ? scope.domains?.get(domain) : undefined;
  const where = `${describeNode(node, version ?? 0)}${scope.within ? ` ${scope.within}` : ''}`;
  try {
    const op = node.op_type || invalid('node has no op_type');
    if (!own && !mapsDomain(domain)) unsupported('domain', `op ${op} from domain '${domain}'; kiln imports only the default ONNX domain (ai.onnx, opsets ${MIN_OPSET} to ${MAX_OPSET})`);
    if (version === undefined)
      return unsupported('domain', `op ${op} from domain '${domain}' ${scope.domains ? "needs the domain's version in the model's opset_import; add it there" : 'inside a subgraph; kiln maps it only in the main graph'}`);
    if (own && (opset < MIN_OPSET || opset > MAX_OPSET))
      unsupported('opset', `op ${op} in domain ai.onnx opset ${opset}; kiln imports opsets ${MIN_OPSET} to ${MAX_OPSET} (convert the model with onnx.version_converter)`);
    const rule = resolveRule(op, version, own ? '' : domain);
    const cx = new NodeContext(node, opset, values, scope.used, scope.note);
    for (let i = 0; i < node.input.length; i++)
      if (cx.has(i) && !values.defined(cx.input(i))) invalid(`input '${cx.input(i)}' is not defined by any earlier node, input or initializer`);
    // ONNX values have one producer; a second one would silently shadow the first.
    node.output.forEach((o, k) => {
      if (o && (values.defined(o) || node.output.indexOf(o) < k))
        invalid(`output '${o}' is already defined (by an earlier node, a graph input, an initializer or this node); every value must have one producer`);
    });
    rule.map(cx);
    node.output.forEach((o, k) => {
      if (o && cx.used(k) && !values.defined(o)) throw new Error(`the ${op} rule did not define output '${o}'`);
    });
  } catch (e) {
    const placed = located.has(e as object);
    const context = placed ? scope.file : scope.file ? `${scope.file}: ${where}` : where;
    const out = context ? withContext(context, e) : (e as Error);
    located.add(out);
    throw out;
  }
}

class Importer {
  private readonly notes = new Set<string>();
  private readonly graph: GraphProto;
  private readonly builder: GraphBuilder;
  private readonly values: ValueTable;
  private readonly opset: number;
  private readonly domains: ReadonlyMap<string, number>;

  constructor(
    model: ModelProto,
    private readonly file: string,
    private readonly external: ExternalDataReader,
    private readonly options: OnnxImportOptions,
  ) {
    this.graph = model.graph!;
    const imports = model.opset_import.filter((o) => !o.domain || o.domain === 'ai.onnx');
    this.opset = imports.length ? Math.max(...imports.map((o) => o.version ?? 0)) : 1;
    this.domains = new Map(model.opset_import.filter((o) => o.domain && o.domain !== 'ai.onnx').map((o) => [o.domain!, o.version ?? 0]));
    this.builder = new GraphBuilder(this.graph.name || 'main');
    const reserved = new Set<string>();
    for (const v of [...this.graph.input, ...this.graph.output]) if (v.name) reserved.add(v.name);
    for (const t of this.graph.initializer) if (t.name) reserved.add(t.name);
    for (const n of this.graph.node) for (const x of [...n.input, ...n.output]) if (x) reserved.add(x);
    protoNames(this.graph, reserved); // names inside If/Loop/Scan bodies too: temporaries must not clash with them
    this.values = new ValueTable(this.builder, reserved);
  }

  private note = (msg: string): void => void this.notes.add(msg);
  private readonly declared = new Map<string, string>();

  run(): OnnxImportResult {
    const initialized = this.initializers();
    this.inputs(initialized);
    const used = new Set<string>(this.graph.output.map((o) => o.name ?? ''));
    for (const n of this.graph.node) for (const i of protoReads(n)) used.add(i);
    for (const node of this.graph.node) importNode(node, { file: this.file, opset: this.opset, values: this.values, used, note: this.note, domains: this.domains });
    this.outputs();
    const graph = this.builder.build();
    assertValid(graph, 'the imported graph does not verify');
    this.checkValueInfo(graph);
    return { graph, notes: [...this.notes], declaredDtypes: this.declared };
  }

  private initializers(): Set<string> {
    const names = new Set<string>();
    for (const t of this.graph.initializer) {
      const name = t.name || invalid('an initializer has no name');
      this.values.setConst(name, tensorFromProto(t, `initializer '${name}'`, this.external));
      if (t.data_type === ONNX_DTYPE.DOUBLE) this.note(`initializer '${name}': double narrowed to f32`);
      names.add(name);
    }
    for (const sp of this.graph.sparse_initializer) {
      const name = sp.values?.name || invalid('a sparse initializer has no name');
      this.values.setConst(name, decodeSparse(sp, `sparse initializer '${name}'`, this.external));
      names.add(name);
    }
    return names;
  }

  private inputs(initialized: ReadonlySet<string>): void {
    const names = new Set(this.graph.input.map((i) => i.name ?? ''));
    for (const k of Object.keys(this.options.inputShapes ?? {}))
      if (!names.has(k) || initialized.has(k)) invalid(`--input-shape names '${k}', which is not a graph input of the model (inputs: ${[...names].filter((n) => n && !initialized.has(n)).join(', ')})`);
    for (const k of Object.keys(this.options.inputValues ?? {}))
      if (!names.has(k) || initialized.has(k)) invalid(`inputValues names '${k}', which is not a graph input of the model`);
    for (const vi of this.graph.input) {
      try {
        this.input(vi, initialized);
      } catch (e) {
        // An input kiln cannot take is refused at the first node that reads it, so the message names node and op.
        if (!(e instanceof OnnxUnsupportedError)) throw e;
        const reader = this.graph.node.find((n) => n.input.includes(vi.name ?? ''));
        throw reader ? withContext(describeNode(reader, this.opset), e) : new OnnxUnsupportedError(`${e.message}; no node reads it (drop it from the graph's inputs)`, e.category, e.value);
      }
    }
  }

  /** Declare one graph input (or record it as a constant: an initializer, or a value fixed by the options). */
  private input(vi: ValueInfoProto, initialized: ReadonlySet<string>): void {
    const name = vi.name || invalid('a graph input has no name');
    if (this.values.defined(name) && !initialized.has(name)) invalid(`graph input '${name}' is declared twice`);
    if (initialized.has(name)) {
      this.note(`input '${name}' has an initializer; kiln treats it as a constant`);
      return;
    }
    const tt = vi.type?.tensor_type;
    const fixed = this.options.inputValues?.[name];
    if (fixed) {
      const dims = tt?.shape?.dim;
      if (dims && (dims.length !== fixed.shape.length || dims.some((d, i) => d.dim_value !== undefined && !d.dim_param && d.dim_value !== fixed.shape[i])))
        invalid(`inputValues gives input '${name}' shape [${fixed.shape.join(',')}], but the model declares [${dims.map((d) => d.dim_param || (d.dim_value ?? '?')).join(',')}]`);
      this.values.setConst(name, fixed);
      this.note(`input '${name}' fixed to the given value`);
      return;
    }
    if (!tt) unsupported('type', `graph input '${name}' is not a tensor (sequence, map or optional values are not supported)`);
    const what = `input '${name}'`;
    const dtype = runtimeDType(tt!.elem_type ?? 0, what, (m) => this.note(m + RANGE_CHECKED(tt!.elem_type)));
    if (!tt!.shape) unsupported('dynamic', `${what} has no shape (kiln needs at least the rank of every input)`);
    const shape = this.inputShape(name, tt!.shape!.dim);
    this.builder.input(name, tensorType(dtype, shape));
    this.values.claim(name);
    if (dtype !== NATIVE_DTYPE.get(tt!.elem_type ?? 0)) this.declared.set(name, onnxDTypeName(tt!.elem_type ?? 0));
  }

  /** An input's dims as declared, or as the inputShapes option overrides them (promotions recorded). */
  private inputShape(name: string, declared: readonly { dim_value?: number; dim_param?: string }[]): Dim[] {
    const given = this.options.inputShapes?.[name];
    if (!given) return declared.map((d, i) => this.dim(d.dim_value, d.dim_param, `${name}_dim${i}`));
    const shown = `[${declared.map((d) => d.dim_param || (d.dim_value ?? '?')).join(',')}]`;
    if (given.length !== declared.length) invalid(`--input-shape gives input '${name}' ${given.length} dims, but the model declares ${declared.length}: ${shown}`);
    return given.map((g, i) => {
      const d = declared[i]!;
      // The model's own size, when it fixed one (a dim_param, or no value at all, is symbolic).
      const was = !d.dim_param && d.dim_value !== undefined ? d.dim_value : undefined;
      if (typeof g === 'number') {
        if (!Number.isSafeInteger(g) || g < 0) invalid(`--input-shape ${name}: dim ${i} must be a size or a name, got ${g}`);
        if (was !== undefined && was !== g)
          invalid(`--input-shape ${name}: dim ${i} is ${was} in the model; only a symbolic dim can be fixed, or a fixed one made symbolic (give a name)`);
        return g;
      }
      const dim = this.dim(undefined, g, g);
      if (was !== undefined && typeof dim === 'string') {
        this.values.promoted.set(dim, was);
        this.note(`input '${name}' dim ${i} (${was} in the model) is the symbol ${dim}`);
      }
      return dim;
    });
  }

  /** A graph input dim: static, or a symbol (declared once, or bound to a size by the options). */
  private dim(value: number | undefined, param: string | undefined, fallback: string): Dim {
    if (param === undefined || param === '') {
      if (value !== undefined) {
        if (!Number.isSafeInteger(value) || value < 0) invalid(`invalid input dimension ${value}`);
        return value;
      }
      param = fallback;
    }
    const setting = this.options.symbols?.[param] ?? this.options.symbols?.[symbolName(param)];
    if (typeof setting === 'number') {
      this.note(`symbol '${param}' bound to ${setting}`);
      return setting;
    }
    const sym = symbolName(param);
    this.builder.symbol(sym, setting?.min ?? DEFAULT_SYMBOL_BOUND.min, setting?.max ?? DEFAULT_SYMBOL_BOUND.max);
    return sym;
  }

  private outputs(): void {
    for (const vi of this.graph.output) {
      const name = vi.name || invalid('a graph output has no name');
      if (!this.values.defined(name)) invalid(`graph output '${name}' is not computed by any node`);
      const target = this.values.materialize(name);
      if (target !== name) {
        // An alias (Identity, Dropout) keeps the output's own name through a Cast to its own dtype.
        this.builder.node('Cast', [target], { to: this.builder.typeOf(target).dtype }, { names: [name] });
        this.values.claim(name);
      }
      this.builder.output(name);
      const declared = vi.type?.tensor_type?.elem_type;
      if (declared !== undefined && this.builder.typeOf(name).dtype !== NATIVE_DTYPE.get(declared)) this.declared.set(name, onnxDTypeName(declared));
      if (declared === ONNX_DTYPE.INT64 || declared === ONNX_DTYPE.UINT64 || declared === ONNX_DTYPE.DOUBLE)
        this.note(`output '${name}': ${onnxDTypeName(declared)} narrowed to ${this.builder.typeOf(name).dtype}${RANGE_CHECKED(declared)}`);
    }
  }

  /** Notes where value_info or the declared outputs disagree with the inferred static shape of a value. */
  private checkValueInfo(g: Graph): void {
    const infos: ValueInfoProto[] = [...this.graph.value_info, ...this.graph.output];
    for (const vi of infos) {
      const dims = vi.type?.tensor_type?.shape?.dim;
      const t = vi.name ? g.types.get(vi.name) : undefined;
      if (!dims || !t || !isStaticShape(t.shape) || dims.some((d) => d.dim_value === undefined || d.dim_param)) continue;
      const declared = dims.map((d) => d.dim_value!);
      if (formatShape(declared) !== formatShape(t.shape))
        this.note(`'${vi.name}' is declared ${formatShape(declared)} in the model but kiln infers ${formatType(t)}`);
    }
  }
}
