// Binding a graph's params to a checkpoint: each `param %w: f32[8,1,3,3] = "conv1.weight"` gets the tensor's
// ExternalData, after checking that name, shape and dtype agree. Nothing is loaded. All mismatches are reported
// at once, so fixing a .kir against a new checkpoint takes one run, not one per param.
import { basename } from 'node:path';
import { formatLoc, type ConstantDecl, type Graph } from '../../graph.js';
import { formatFits, FORMAT_DTYPE } from '../../external.js';
import { formatShape, isStaticShape, shapesEqual } from '../../shape.js';
import type { Checkpoint, CheckpointTensor } from './checkpoint.js';
import { SafetensorsError } from './errors.js';
import { closeNames } from './suggest.js';

export interface BindResult {
  readonly graph: Graph;
  /** Checkpoint tensors no param used, in checkpoint order (callers may warn: a typo'd name often shows up here). */
  readonly unused: string[];
}

/** How many problems one error lists before "and N more". */
const MAX_LISTED = 20;

/**
 * Give every param (a constant with no value) the external data of its tensor: `source` names it, or the
 * param's own value name when there is none. Params that already have external data are left as they are, so a
 * graph can be bound to a base checkpoint and then to one holding the rest. `where` names the checkpoint in
 * messages (default: its path).
 */
export function bindWeights(graph: Graph, checkpoint: Checkpoint, where: string = checkpoint.path): BindResult {
  const used = new Set<string>();
  const problems: string[] = [];
  const constants = graph.constants.map((c): ConstantDecl => {
    if (c.value !== undefined || c.external !== undefined) return c;
    const source = c.source ?? c.name;
    const tensor = checkpoint.tensors.get(source);
    if (!tensor) {
      problems.push(missingMessage(c, source, checkpoint, where));
      return c;
    }
    used.add(source);
    const mismatch = mismatchMessage(c, source, tensor, tensorWhere(tensor, checkpoint, where));
    if (mismatch) {
      problems.push(mismatch);
      return c;
    }
    return { ...c, external: tensor.data };
  });
  if (problems.length === 1) throw new SafetensorsError(problems[0]!, { file: where });
  if (problems.length > 1) {
    const listed = problems.slice(0, MAX_LISTED).map((p) => `  ${p}`);
    if (problems.length > MAX_LISTED) listed.push(`  ... and ${problems.length - MAX_LISTED} more`);
    throw new SafetensorsError(`${problems.length} params do not bind to ${where}:\n${listed.join('\n')}`, { file: where });
  }
  const unused = [...checkpoint.tensors.keys()].filter((name) => !used.has(name));
  return { graph: { ...graph, constants }, unused };
}

/** The file a tensor is in, for messages: the checkpoint, or the checkpoint and the shard. */
function tensorWhere(t: CheckpointTensor, checkpoint: Checkpoint, where: string): string {
  return t.data.file === checkpoint.path ? where : `${where} (shard ${basename(t.data.file)})`;
}

const describeParam = (c: ConstantDecl) => `${formatLoc(c.loc)}param %${c.name}: ${c.type.dtype}${formatShape(c.type.shape)}`;

function missingMessage(c: ConstantDecl, source: string, checkpoint: Checkpoint, where: string): string {
  const names = [...checkpoint.tensors.keys()];
  const close = closeNames(source, names);
  const suggestion = close.length ? `; did you mean ${close.map((n) => `"${n}"`).join(' or ')}?` : '';
  const sample = names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length} in all)` : '');
  const available = names.length ? ` It has ${sample}.` : ' It has no tensors.';
  const binding = c.source === undefined ? `binds to its own name "${source}" (it has no = "tensor name")` : `wants "${source}"`;
  return `${describeParam(c)} ${binding}, which is not in ${where}${suggestion}${available}`;
}

function mismatchMessage(c: ConstantDecl, source: string, t: CheckpointTensor, where: string): string | undefined {
  const found = `${source} in ${where} is ${t.format}${formatShape(t.shape)}`;
  if (!isStaticShape(c.type.shape))
    return `${describeParam(c)} has a symbolic shape but ${found}; declare the param with the tensor's static shape`;
  if (!shapesEqual(c.type.shape, t.shape)) return `${describeParam(c)} but ${found}; fix the param's shape or bind another tensor`;
  if (!formatFits(t.format, c.type.dtype))
    return `${describeParam(c)} but ${found}; ${t.format} data loads as ${FORMAT_DTYPE[t.format]}, so declare the param ${FORMAT_DTYPE[t.format]}${formatShape(t.shape)}`;
  return undefined;
}
