// The artifact's typed entry: model.js (load() and run() over runtime.js) and model.d.ts (Inputs and Outputs
// typed per tensor). Both are built from ts-morph structures, not string templates; they carry data only, and
// all behaviour lives in the hand-written, tested runtime.
import { Project, StructureKind, VariableDeclarationKind, type OptionalKind, type PropertySignatureStructure } from 'ts-morph';
import type { IOTensor } from '../../runtime/plan.js';

/** The TypeScript type a tensor's data is given as (inputs) or returned as (outputs). */
function arrayType(dtype: string, direction: 'in' | 'out'): string {
  const out = dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' ? 'Float32Array'
    : dtype === 'i32' ? 'Int32Array'
    : dtype === 'u32' ? 'Uint32Array'
    : dtype === 'bool' ? 'Uint8Array'
    : dtype === 'i64' ? 'Float64Array'
    : /^i[1-8]$/.test(dtype) ? 'Int8Array'
    : 'Uint8Array';
  if (direction === 'out') return out;
  const extra = dtype === 'i32' ? ' | BigInt64Array' : '';
  return `${out}${extra} | ArrayLike<number>`;
}

const describe = (t: IOTensor): string => `${t.dtype}[${t.shape.join(', ')}]${t.declaredDtype ? ` (declared ${t.declaredDtype})` : ''}`;

function props(list: readonly IOTensor[], direction: 'in' | 'out'): OptionalKind<PropertySignatureStructure>[] {
  return list.map((t) => ({
    name: JSON.stringify(t.name),
    isReadonly: true,
    docs: [describe(t)],
    type: direction === 'in' ? arrayType(t.dtype, 'in') : `{ readonly dtype: ${JSON.stringify(t.dtype)}; readonly shape: readonly number[]; readonly data: ${arrayType(t.dtype, 'out')} }`,
  }));
}

const signature = (t: IOTensor): string => JSON.stringify({ name: t.name, dtype: t.dtype, shape: t.shape });

/**
 * `inputs`/`outputs` type the main entry point (run() runs it); other entry points are reachable through the
 * session. A decoder (`generation`) also gets generate().
 */
export function emitEntry(
  modelName: string,
  inputs: readonly IOTensor[],
  outputs: readonly IOTensor[],
  entryPoints: readonly string[] = ['run'],
  generation = false,
): { js: string; dts: string } {
  const main = entryPoints.includes('run') ? 'run' : entryPoints[0]!;
  const project = new Project({ useInMemoryFileSystem: true });
  const js = project.createSourceFile('model.js', '', { overwrite: true });
  js.addStatements([`// ${modelName}: compiled by kiln. Typed entry over the bundled runtime (runtime.js).`]);
  js.addImportDeclaration({ moduleSpecifier: './runtime.js', namedImports: ['Session'] });
  js.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    declarations: [
      { name: 'inputs', initializer: `[${inputs.map(signature).join(', ')}]` },
      { name: 'outputs', initializer: `[${outputs.map(signature).join(', ')}]` },
    ],
  });
  js.addFunction({
    kind: StructureKind.Function,
    isExported: true,
    isAsync: true,
    name: 'load',
    parameters: [{ name: 'options', initializer: '{}' }],
    docs: ['Load the model onto a WebGPU device (in Node the `webgpu` package, in a browser navigator.gpu).'],
    statements: [
      'const session = await Session.load(options.location ?? new URL(".", import.meta.url), options);',
      `return { session, run: (feeds) => session.run(feeds, ${JSON.stringify(main)}),${generation ? ' generate: (ids, options) => session.generate(ids, options),' : ''} dispose: () => session.dispose() };`,
    ],
  });

  const dts = project.createSourceFile('model.d.ts', '', { overwrite: true });
  dts.addInterface({ name: 'Inputs', isExported: true, docs: [`Inputs of ${modelName}.`], properties: props(inputs, 'in') });
  dts.addInterface({ name: 'Outputs', isExported: true, docs: [`Outputs of ${modelName}.`], properties: props(outputs, 'out') });
  dts.addInterface({
    name: 'LoadOptions',
    isExported: true,
    properties: [
      { name: 'location', hasQuestionToken: true, type: 'string | URL', docs: ['Where the artifact is (default: next to model.js).'] },
      { name: 'gpu', hasQuestionToken: true, type: 'unknown', docs: ['A GPU object (navigator.gpu or the `webgpu` package) to use instead of the default.'] },
    ],
  });
  dts.addInterface({
    name: 'Model',
    isExported: true,
    properties: [{ name: 'session', isReadonly: true, type: 'unknown' }],
    methods: [
      { name: 'run', parameters: [{ name: 'feeds', type: 'Inputs' }], returnType: 'Promise<Outputs>', docs: [`Run the entry point '${main}' (of ${entryPoints.join(', ')}).`] },
      ...(generation
        ? [
            {
              name: 'generate',
              parameters: [
                { name: 'ids', type: 'readonly number[]' },
                {
                  name: 'options',
                  hasQuestionToken: true,
                  type: '{ maxNewTokens?: number; stopAtEos?: boolean; onToken?: (token: number) => void; temperature?: number; topK?: number; topP?: number; seed?: number }',
                },
              ],
              returnType: 'Promise<number[]>',
              docs: [
                'Decoding: the prompt ids are prefilled, then new tokens are decoded one at a time; returns the new tokens. Greedy unless temperature > 0 (then sampled with topK, topP and a seeded generator).',
              ],
            },
          ]
        : []),
      { name: 'dispose', returnType: 'void', docs: ['Release the device and every GPU resource.'] },
    ],
  });
  const ioType = '{ readonly name: string; readonly dtype: string; readonly shape: readonly (number | string)[] }';
  dts.addVariableStatement({
    isExported: true,
    hasDeclareKeyword: true,
    declarationKind: VariableDeclarationKind.Const,
    declarations: [
      { name: 'inputs', type: `readonly ${ioType}[]` },
      { name: 'outputs', type: `readonly ${ioType}[]` },
    ],
  });
  dts.addFunction({ isExported: true, hasDeclareKeyword: true, name: 'load', parameters: [{ name: 'options', hasQuestionToken: true, type: 'LoadOptions' }], returnType: 'Promise<Model>' });
  return { js: js.getFullText(), dts: dts.getFullText() };
}
