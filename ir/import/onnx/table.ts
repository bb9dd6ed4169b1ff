// The op mapping table: every rule row from ops/*.ts, indexed by ONNX op_type. resolveRule picks the row whose
// version range holds the model's opset, and says precisely what is missing when none does.
import { unsupported } from './errors.js';
import { ELEMENTWISE_RULES } from './ops/elementwise.js';
import { MOVEMENT_RULES } from './ops/movement.js';
import { NN_RULES } from './ops/nn.js';
import { BITCAST_RULES } from './ops/bitcast.js';
import { QUANT_RULES } from './ops/quant.js';
import { REDUCE_RULES } from './ops/reduce.js';
import { RESIZE_RULES } from './ops/resize.js';
import { SHAPE_RULES } from './ops/shape.js';
import { SIGNAL_RULES } from './ops/signal.js';
import { SAMPLING_RULES } from './ops/sampling.js';
import { RECURRENT_RULES } from './ops/recurrent.js';
import { ATTENTION_RULES } from './ops/attention.js';
import { TRANSFORMER_RULES } from './ops/transformer.js';
import { INDEXING_RULES } from './ops/indexing.js';
import { LOSS_RULES } from './ops/losses.js';
import { NORMALIZATION_RULES } from './ops/normalization.js';
import { CONTROL_RULES } from './ops/control.js';
import { TRAINING_RULES } from './ops/training.js';
import { FLEX_ATTENTION_RULES } from './ops/flex-attention.js';
import { CONTRIB_RULES } from './ops/contrib.js';
import type { OpRule } from './rule.js';

const TABLE = new Map<string, OpRule[]>();
for (const r of [...ELEMENTWISE_RULES, ...SHAPE_RULES, ...MOVEMENT_RULES, ...NN_RULES, ...REDUCE_RULES, ...QUANT_RULES, ...BITCAST_RULES, ...RESIZE_RULES, ...SIGNAL_RULES, ...SAMPLING_RULES, ...RECURRENT_RULES, ...ATTENTION_RULES, ...TRANSFORMER_RULES, ...INDEXING_RULES, ...LOSS_RULES, ...NORMALIZATION_RULES, ...CONTROL_RULES]) {
  const rows = TABLE.get(r.op) ?? [];
  if (rows.some((o) => o.since <= r.until && r.since <= o.until)) throw new Error(`ONNX rules for ${r.op} overlap at ${r.since}..${r.until}`);
  rows.push(r);
  TABLE.set(r.op, rows);
}

/** The other domains kiln maps, each a table of its own, so their op names never meet the default domain's. */
const DOMAIN_TABLES = new Map<string, Map<string, OpRule[]>>([['', TABLE]]);
for (const [domain, list] of [['ai.onnx.preview.training', TRAINING_RULES], ['ai.onnx.preview', FLEX_ATTENTION_RULES], ['com.microsoft', CONTRIB_RULES]] as const) {
  const table = new Map<string, OpRule[]>();
  for (const r of list) table.set(r.op, [...(table.get(r.op) ?? []), r]);
  DOMAIN_TABLES.set(domain, table);
}

/** Whether kiln maps ops of `domain` (one besides the default domain, whose versions the model imports). */
export const mapsDomain = (domain: string): boolean => DOMAIN_TABLES.has(domain);

/** The ONNX ops the importer maps (some only once the IR op they map to exists). */
export function mappedOnnxOps(): string[] {
  return [...TABLE.keys()].sort();
}

/** The version ranges mapped for an op, e.g. "5-13, 14-26". */
export function mappedVersions(op: string, domain = ''): string {
  return (DOMAIN_TABLES.get(domain)?.get(op) ?? []).map((r) => `${r.since}-${r.until}`).join(', ');
}

/** The row for `op` at `opset`, the version of `domain` ('' = the default domain) the model imports. */
export function resolveRule(op: string, opset: number, domain = ''): OpRule {
  const table = DOMAIN_TABLES.get(domain);
  const rows = table?.get(op);
  if (!rows && domain && table)
    return unsupported('domain', `op ${op} from domain '${domain}'; of that domain kiln maps only ${[...table.keys()].sort().join(', ')} (rewrite the node with default-domain ops, e.g. export without onnxruntime's fusions)`);
  if (!rows)
    return unsupported('op', `op ${op} (${domain ? `domain '${domain}' version` : 'opset'} ${opset}) has no mapping in kiln's ONNX importer; rewrite it with supported ops before export, or add a rule in ir/import/onnx/ops`);
  const row = rows.find((r) => r.since <= opset && opset <= r.until);
  if (!row) return unsupported('opset', `${op} in ${domain ? `domain '${domain}' version` : 'opset'} ${opset} is not mapped (kiln maps ${op} for ${domain ? 'versions' : 'opsets'} ${mappedVersions(op, domain)}); convert the model to a mapped opset`);
  return row;
}
