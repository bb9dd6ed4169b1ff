// Coverage of every ONNX op version by kiln's importer. Each op's since_versions (ir/import/onnx/onnx-op-versions.ts)
// cut kiln's importable range (opsets 7 to 28) into intervals in which ONNX's definition of the op is one version;
// an interval is mapped when kiln's rule rows cover every opset in it, partial when they cover some. A rule row that
// spans a since_version (starts before it and ends at or after it) maps two ONNX versions with one handler: each such
// crossing must be listed in ALLOWED below, with why the newer version does not change what the handler does (read
// from that version's entry in ONNX's Changelog), or the row must be cut there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FROM_RULE_NOTE, ONNX_DEPRECATED_OPS, ONNX_OP_VERSIONS } from '../../ir/import/onnx/onnx-op-versions.js';
import { MAX_OPSET, MIN_OPSET } from '../../ir/import/onnx/rule.js';
import { mappedOnnxOps, mappedVersions } from '../../ir/import/onnx/table.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';

type Span = readonly [number, number];
type Coverage = 'mapped' | 'partial' | 'unmapped';

/** Measured floors: mapped op-version intervals and fully mapped ops (raise them as coverage grows). */
const FLOOR_MAPPED = 514;
const FLOOR_FULL_OPS = 175;

/**
 * Crossings judged harmless, grouped by the version crossed: `ops` lists every op, by name, whose row spans `at`.
 * Most are type-only versions; the rest add an attribute or input the handler already reads (or that only acts on
 * dtypes kiln refuses), or allow what kiln did anyway (negative axes). Deliberately absent: QuantizeLinear@23, which
 * gives y_scale its own type and adds `precision` (the division's precision) that the 21+ row neither reads nor refuses.
 */
const ALLOWED: readonly { at: number; ops: string; why: string }[] = [
  { at: 8, ops: 'Max Mean Min Sum', why: 'multidirectional broadcasting added; kiln broadcasts at every version, the same result on the equal shapes 6-7 require' },
  { at: 9, ops: 'Constant Flatten Gemm Greater Less MatMul PRelu', why: 'T widened to integer (or all) tensor types; attributes and semantics unchanged' },
  { at: 9, ops: 'Cast', why: 'casts from and to string added; kiln refuses string tensors' },
  { at: 10, ops: 'Dropout', why: 'the mask output becomes bool; kiln refuses a Dropout whose mask is read' },
  { at: 10, ops: 'MaxPool', why: 'ceil_mode and dilations added with defaults that keep 8; copied to the IR op (which knows both) when present' },
  { at: 11, ops: 'ArgMax ArgMin Concat Flatten Hardmax LogSoftmax Softmax Split Squeeze Unsqueeze Slice', why: 'negative axis values accepted; kiln normalizes negative axes at every version' },
  { at: 11, ops: 'ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum ReduceSumSquare', why: 'negative axes accepted; kiln normalizes them at every version' },
  { at: 11, ops: 'Gather', why: 'negative indices accepted (counted from the back), as kiln gathers at every version' },
  { at: 11, ops: 'Constant', why: 'sparse_value attribute added; the handler decodes it at every version' },
  { at: 11, ops: 'Equal', why: 'T widened from bool/int32/int64 to all numeric types' },
  { at: 11, ops: 'AveragePool MaxPool', why: 'auto_pad SAME restated as ceil(in/stride) split evenly (the formula 10 already gave) and dilations default 1; kiln pools so at every version' },
  { at: 12, ops: 'Constant', why: 'value_float(s)/value_int(s)/value_string(s) attributes added; the handler reads each at every version' },
  { at: 12, ops: 'Clip Max Min ReduceMax ReduceMin', why: 'T widened to integer types (int8/uint8 for the reductions); semantics unchanged' },
  {
    at: 13,
    ops: 'Abs Add ArgMax ArgMin Cast Ceil Clip Concat Constant DepthToSpace Div Dropout Equal Erf Exp Expand Flatten Floor Gather GatherElements GatherND Gemm Greater Identity IsNaN Less Log MatMul Max Mean Min Mod Mul Neg NonZero Pad Pow Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSumSquare Relu Reshape ScatterElements ScatterND Shape Sigmoid Sign Size Slice SpaceToDepth Sqrt Sub Sum Tanh Tile Transpose',
    why: 'bfloat16 added to T; attributes, inputs and semantics unchanged (the 13 changes that matter, Softmax axis and the axes inputs, are cut rows)',
  },
  { at: 14, ops: 'Add Div Mul Sub Relu', why: 'T widened to int8/int16/uint8/uint16 (signed ints for Relu)' },
  { at: 14, ops: 'Identity', why: 'sequence types added; kiln aliases the input at every version' },
  { at: 14, ops: 'CumSum', why: 'bfloat16/float16 added to T' },
  { at: 15, ops: 'BatchNormalization', why: 'scale/B and mean/var may each have their own float type (T1, T2); no attribute or semantic change' },
  { at: 15, ops: 'Pow', why: 'bfloat16 added to the exponent type T1' },
  { at: 16, ops: 'GreaterOrEqual LessOrEqual LeakyRelu PRelu Where', why: 'bfloat16 added to T' },
  { at: 16, ops: 'Identity', why: 'optional types added; kiln aliases the input at every version' },
  { at: 18, ops: 'Pad', why: 'optional axes input added; the 11+ handler reads input 3 at every version (absent before 18)' },
  { at: 19, ops: 'Cast CastLike', why: 'float8 types and saturate added; saturate only acts on float8, which kiln refuses' },
  { at: 19, ops: 'Constant Identity Reshape Shape Size', why: 'float8 types added to T' },
  { at: 19, ops: 'DequantizeLinear', why: 'float8 x types; x_scale may be float16/bfloat16 and gives the output dtype, as the IR op infers' },
  { at: 19, ops: 'Equal', why: 'string added to T; kiln refuses string tensors' },
  { at: 19, ops: 'Pad', why: "mode 'wrap' added; passed to the IR Pad, which implements it" },
  { at: 20, ops: 'ConstantOfShape IsInf IsNaN', why: 'float8 (and bfloat16) types added' },
  { at: 20, ops: 'ReduceMax ReduceMin', why: 'bool added to T (False < True); attributes and axes input unchanged' },
  { at: 21, ops: 'QLinearMatMul', why: "scales (TS) may be float16/bfloat16 and a/b/y float8; no attribute change; requantized in the scales' dtype, float8 refused" },
  { at: 21, ops: 'Cast CastLike Constant ConstantOfShape Flatten Identity Pad Reshape Shape Size Squeeze Transpose Unsqueeze', why: 'int4/uint4 added to T' },
  {
    at: 22,
    ops: 'Acos Acosh Asin Asinh Atan Atanh AveragePool Conv ConvTranspose Cos Cosh DeformConv Dropout Elu EyeLike GlobalAveragePool GlobalLpPool GlobalMaxPool GridSample HardSigmoid HardSwish LpPool MaxPool MaxUnpool Mish RoiAlign Round Selu Sin Sinh Softplus Softsign Tan ThresholdedRelu',
    why: "bfloat16 added to T (MaxPool-22's note that windows starting in the right padding are dropped is the ceil_mode rule kiln applies at every version)",
  },
  { at: 23, ops: 'Cast CastLike Constant ConstantOfShape Flatten Identity If Loop Pad Reshape Scan Shape Size Squeeze Transpose Unsqueeze', why: 'float4e2m1 added to T' },
  { at: 23, ops: 'DequantizeLinear', why: 'float4e2m1 added to T1; its output_dtype attribute is read by the 21+ handler' },
  { at: 24, ops: 'Cast CastLike', why: 'float8e8m0 added, with round_mode, which only acts on float8e8m0 targets (refused)' },
  { at: 24, ops: 'Constant ConstantOfShape Flatten Identity If Loop Pad Reshape Scan Shape Size Squeeze Transpose Unsqueeze', why: 'float8e8m0 added to T' },
  { at: 24, ops: 'DequantizeLinear QuantizeLinear', why: 'float8e8m0 added to the scale type; attributes unchanged' },
  { at: 24, ops: 'TopK', why: 'bfloat16 added to T' },
  {
    at: 25,
    ops: 'Cast CastLike Constant ConstantOfShape DequantizeLinear Flatten Identity If Loop Pad QuantizeLinear Reshape Scan Shape Size Squeeze Transpose Unsqueeze',
    why: 'int2/uint2 added to T',
  },
  { at: 27, ops: 'Range', why: 'float16/bfloat16 added to T (rule.ts note at MAX_OPSET)' },
  { at: 28, ops: 'Celu', why: 'bfloat16/float16/double added to T (rule.ts note at MAX_OPSET)' },
  { at: 28, ops: 'ReduceLogSum ReduceLogSumExp', why: 'integer types dropped (onnx#8384); float semantics unchanged' },
];

/** kiln's rule rows for an op, parsed from mappedVersions ("5-13, 14-28"). */
function rows(op: string): Span[] {
  return mappedVersions(op)
    .split(', ')
    .filter((r) => r !== '')
    .map((r) => r.split('-').map(Number) as unknown as Span);
}

/** The op's versions within kiln's range: [since_i, since_{i+1} - 1], ending before a deprecating version. */
function intervals(op: string): Span[] {
  const end = (ONNX_DEPRECATED_OPS[op]?.at ?? MAX_OPSET + 1) - 1;
  const live = ONNX_OP_VERSIONS[op]!.filter((v) => v <= end);
  return live
    .map((v, i): Span => [Math.max(v, MIN_OPSET), Math.min((live[i + 1] ?? end + 1) - 1, end)])
    .filter(([lo, hi]) => lo <= hi);
}

function coverage(op: string, [lo, hi]: Span): Coverage {
  const spans = rows(op);
  let covered = 0;
  for (let v = lo; v <= hi; v++) if (spans.some(([s, u]) => s <= v && v <= u)) covered++;
  return covered === hi - lo + 1 ? 'mapped' : covered > 0 ? 'partial' : 'unmapped';
}

/** Every since_version a rule row spans without starting at it (below kiln's range nothing is imported). */
function crossings(): { key: string; row: string }[] {
  const out: { key: string; row: string }[] = [];
  for (const op of mappedOnnxOps())
    for (const [s, u] of rows(op))
      for (const v of ONNX_OP_VERSIONS[op] ?? [])
        if (v > Math.max(s, MIN_OPSET) && v <= u) out.push({ key: `${op}@${v}`, row: `${op} ${s}-${u}` });
  return out;
}

const allowed = new Map<string, string>(ALLOWED.flatMap(({ at, ops, why }) => ops.split(' ').map((op): [string, string] => [`${op}@${at}`, why])));
const MARK: Record<Coverage, string> = { mapped: '#', partial: '~', unmapped: '.' };
const spanText = ([lo, hi]: Span): string => (lo === hi ? `${lo}` : `${lo}-${hi}`);

describe('ONNX op versions against kiln rule rows', () => {
  it('has a well-formed version table', () => {
    for (const [op, vs] of Object.entries(ONNX_OP_VERSIONS)) {
      expect(vs.every((v, i) => Number.isInteger(v) && v >= 1 && v <= MAX_OPSET && (i === 0 || v > vs[i - 1]!)), op).toBe(true);
    }
    for (const [op, vs] of Object.entries(FROM_RULE_NOTE)) for (const v of vs) expect(ONNX_OP_VERSIONS[op], op).toContain(v);
    for (const [op, { at, use }] of Object.entries(ONNX_DEPRECATED_OPS)) {
      expect(ONNX_OP_VERSIONS[op]!.at(-1), op).toBe(at);
      expect(ONNX_OP_VERSIONS[use], use).toBeDefined();
    }
    // Spot checks against versions known independently of the source.
    expect(ONNX_OP_VERSIONS.Reshape).toEqual([1, 5, 13, 14, 19, 21, 23, 24, 25]);
    expect(ONNX_OP_VERSIONS.Softmax).toEqual([1, 11, 13]);
    expect(ONNX_OP_VERSIONS.Split).toEqual([1, 2, 11, 13, 18]);
  });

  it.runIf(haveShared())('agrees with the opsets of the ONNX node tests', () => {
    // Node tests are written at the opset that introduced the op's newest version, and never before its first.
    const newest = new Map<string, number>();
    for (const set of ['onnx-node-tests', 'onnx-node-tests-extended']) {
      const manifest = JSON.parse(readFileSync(join(sharedDir()!, set, 'manifest.json'), 'utf8')) as { cases: { op: string; opset: number; expanded: boolean }[] };
      for (const c of manifest.cases) {
        const vs = ONNX_OP_VERSIONS[c.op];
        if (c.expanded || !vs) continue;
        expect(c.opset, c.op).toBeGreaterThanOrEqual(vs[0]!);
        newest.set(c.op, Math.max(newest.get(c.op) ?? 0, c.opset));
      }
    }
    expect(newest.size).toBeGreaterThan(150);
    for (const [op, opset] of newest) if (!ONNX_DEPRECATED_OPS[op]) expect(ONNX_OP_VERSIONS[op], `${op} tested at opset ${opset}`).toContain(opset);
  });

  it('knows every op kiln maps', () => {
    // kiln's table holds default-domain ops only (other domains are refused before lookup).
    expect(mappedOnnxOps().filter((op) => !ONNX_OP_VERSIONS[op])).toEqual([]);
  });

  it('maps no version in which the op does not exist', () => {
    const outside = mappedOnnxOps().flatMap((op) => {
      const first = ONNX_OP_VERSIONS[op]![0]!;
      const gone = ONNX_DEPRECATED_OPS[op]?.at ?? MAX_OPSET + 1;
      return rows(op).filter(([s, u]) => s < first || u >= gone).map(([s, u]) => `${op} ${s}-${u}`);
    });
    expect(outside).toEqual([]);
  });

  it('covers at least the measured number of op-version intervals', () => {
    const lines: string[] = [];
    const tally: Record<Coverage, number> = { mapped: 0, partial: 0, unmapped: 0 };
    const ops = { full: 0, some: 0, none: 0 };
    for (const op of Object.keys(ONNX_OP_VERSIONS).sort()) {
      const spans = intervals(op);
      const kinds = spans.map((s) => coverage(op, s));
      kinds.forEach((k) => tally[k]++);
      if (kinds.every((k) => k === 'mapped')) ops.full++;
      else if (kinds.some((k) => k !== 'unmapped')) ops.some++;
      else ops.none++;
      lines.push(`${op.padEnd(26)} ${spans.map((s, i) => `${spanText(s)}${MARK[kinds[i]!]}`).join(' ')}`);
    }
    const total = tally.mapped + tally.partial + tally.unmapped;
    const summary =
      `opset coverage (${MIN_OPSET}-${MAX_OPSET}): ${tally.mapped} of ${total} op-version intervals mapped, ${tally.partial} partly, ` +
      `${tally.unmapped} not; ${ops.full} of ${ops.full + ops.some + ops.none} ops fully, ${ops.some} partly, ${ops.none} not (# mapped, ~ partly, . not)`;
    console.log([...lines, summary].join('\n'));
    expect(tally.mapped).toBeGreaterThanOrEqual(FLOOR_MAPPED);
    expect(ops.full).toBeGreaterThanOrEqual(FLOOR_FULL_OPS);
  });

  it('cuts every rule row where ONNX changed the op, or says why the change does not matter', () => {
    const found = crossings();
    const unexplained = found.filter((c) => !allowed.has(c.key)).map((c) => `${c.key} (row ${c.row})`);
    const stale = [...allowed.keys()].filter((k) => !found.some((c) => c.key === k));
    console.log(`rule rows spanning a since_version: ${found.length} (${found.length - unexplained.length} explained, ${unexplained.length} not)`);
    expect(unexplained, 'rows that span a version whose change kiln may get wrong: cut the row there, or explain it in ALLOWED').toEqual([]);
    expect(stale, 'ALLOWED entries no row crosses any more: remove them').toEqual([]);
  });
});
