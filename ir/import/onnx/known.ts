// Operands kiln must know at compile time because an output shape depends on their values (Range's bounds, Pad's
// pads). When one is computed at run time the refusal names the graph input it is computed from, the value a
// caller can fix (the importer's inputValues option, which is what the conformance runner does) to compile.
import type { NodeContext } from './context.js';
import { unsupported } from './errors.js';
import type { ValueTable } from './values.js';

/** The graph input nearest upstream of `name` in the IR built so far, if any. */
function graphInputBehind(values: ValueTable, name: string): string | undefined {
  const graph = values.builder.build();
  const inputs = new Set(graph.inputs.map((d) => d.name));
  const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const seen = new Set<string>();
  const queue = [values.resolve(name)];
  for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
    if (seen.has(v)) continue;
    seen.add(v);
    if (inputs.has(v)) return v;
    queue.push(...(producer.get(v)?.inputs.filter((i) => i !== '') ?? []));
  }
  return undefined;
}

/**
 * Refuse (a 'dynamic' unsupported error) unless input i is omitted or known at import time. The error's value is
 * the graph input behind the operand, or the operand itself when it traces to none.
 */
export function requireKnown(cx: NodeContext, i: number, what: string): void {
  if (!cx.has(i) || cx.constant(i)) return;
  const operand = cx.input(i);
  const source = graphInputBehind(cx.values, operand);
  const from = source === undefined || source === operand ? '' : ` from graph input '${source}'`;
  const fix = source ?? operand;
  unsupported(
    'dynamic',
    `${cx.op} ${what} (input '${operand}') sets the output shape, so kiln needs it at compile time, but it is computed at run time${from}; ` +
      `fix '${fix}' to a value (the importer's inputValues option) or export the model with it constant`,
    fix,
  );
}
