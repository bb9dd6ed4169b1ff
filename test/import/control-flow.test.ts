// Importing If, Loop and Scan from hand-built ONNX models: graph attributes become regions that read the enclosing
// graph by name; conditions known at import inline the taken branch (PyTorch's shape tests); trip counts the body
// needs per iteration unroll at import; what kiln cannot compile is refused naming the input to fix.
import { describe, expect, it } from 'vitest';
import { type Graph, type Tensor, hasRegions, interpret, makeTensor, printGraph } from '../../ir/index.js';
import { OnnxUnsupportedError, importOnnx } from '../../ir/import/onnx/index.js';
import { DEFAULT_PIPELINE, runPipeline } from '../../passes/index.js';
import { DT, attrInt, attrInts, encodeModel, f32Tensor, i64Tensor, model, node, tensor, valueInfo } from '../../scripts/lib/onnx-build.js';

type Obj = Record<string, unknown>;

const graphAttr = (g: Obj): Obj => ({ type: 5, g });
const body = (name: string, nodes: Obj[], inputs: Obj[], outputs: Obj[], initializer: Obj[] = []): Obj => ({ name, node: nodes, input: inputs, output: outputs, initializer });
const boolTensor = (name: string, v: boolean): Obj => tensor(name, DT.BOOL, [], { int32_data: [v ? 1 : 0] });
const data = (t: Tensor | undefined): number[] => Array.from(t!.data);
const f32 = (shape: number[], values: number[]): Tensor => makeTensor('f32', shape, values);
const regionOps = (g: Graph): string[] => g.nodes.filter(hasRegions).map((n) => n.op);

function refusal(bytes: Uint8Array): OnnxUnsupportedError {
  try {
    importOnnx(bytes, { file: 'm.onnx' });
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxUnsupportedError);
    return e as OnnxUnsupportedError;
  }
  throw new Error('expected the import to be refused');
}

/** `if x.size(0) > 1: y = relu(x) else: y = x.squeeze(0)`, as PyTorch exports it. */
const shapeIf = (opset: number, rows: number): Uint8Array =>
  encodeModel(
    model({
      opset,
      nodes: [
        node('Shape', ['x'], ['shape']),
        node('Gather', ['shape', 'zero'], ['rows'], { axis: attrInt(0) }),
        node('Greater', ['rows', 'one'], ['many']),
        node('If', ['many'], ['y'], {
          then_branch: graphAttr(body('then', [node('Relu', ['x'], ['r'])], [], [valueInfo('r', DT.FLOAT)])),
          else_branch: graphAttr(body('else', [node('Squeeze', ['x', 'axes'], ['s'])], [], [valueInfo('s', DT.FLOAT)])),
        }),
      ],
      inputs: [valueInfo('x', DT.FLOAT, [rows, 3])],
      outputs: [valueInfo('y', DT.FLOAT)],
      initializers: [i64Tensor('zero', [], [0]), i64Tensor('one', [], [1]), i64Tensor('axes', [1], [0])],
    }),
  );

describe('If', () => {
  it('inlines the taken branch when the condition is known at import (a shape test), in every If version', () => {
    for (const opset of [11, 13, 16, 19, 21]) {
      const many = importOnnx(shapeIf(opset, 2)).graph;
      expect(regionOps(many)).toEqual([]);
      expect(data(interpret(many, { x: f32([2, 3], [-1, 2, -3, 4, -5, 6]) }).y)).toEqual([0, 2, 0, 4, 0, 6]);
      const one = importOnnx(shapeIf(opset, 1)).graph;
      expect(one.types.get('y')!.shape).toEqual([3]); // the other branch, of another rank
      expect(data(interpret(one, { x: f32([1, 3], [-1, 2, -3]) }).y)).toEqual([-1, 2, -3]);
    }
  });

  const runtimeIf = (elseNode: Obj, elseOut: Obj): Uint8Array =>
    encodeModel(
      model({
        opset: 13,
        nodes: [
          node('If', ['c'], ['y'], {
            then_branch: graphAttr(body('then', [node('Add', ['x', 'k'], ['a'])], [], [valueInfo('a', DT.FLOAT)])),
            else_branch: graphAttr(body('else', [elseNode], [], [elseOut])),
          }),
        ],
        inputs: [valueInfo('c', DT.BOOL, []), valueInfo('x', DT.FLOAT, [3])],
        outputs: [valueInfo('y', DT.FLOAT, [3])],
        initializers: [f32Tensor('k', [3], [10, 20, 30])],
      }),
    );

  it('keeps an If on a run-time condition, its branches reading the graph input and initializer by name', () => {
    const { graph } = importOnnx(runtimeIf(node('Mul', ['x', 'k'], ['m']), valueInfo('m', DT.FLOAT)));
    expect(regionOps(graph)).toEqual(['If']);
    expect(printGraph(graph)).toContain('    region @then_branch() {\n      %a = Add(%x, %k) : f32[3]\n      return %a\n    }');
    const x = f32([3], [1, 2, 3]);
    expect(data(interpret(graph, { c: makeTensor('bool', [], [1]), x }).y)).toEqual([11, 22, 33]);
    expect(data(interpret(graph, { c: makeTensor('bool', [], [0]), x }).y)).toEqual([10, 40, 90]);
  });

  it('refuses branches that disagree on a type, and sequence values, saying why', () => {
    const e = refusal(runtimeIf(node('Greater', ['x', 'k'], ['g']), valueInfo('g', DT.BOOL)));
    expect(e.category).toBe('ir');
    expect(e.message).toMatch(/^m\.onnx: node \(If, opset 13, outputs 'y'\): unsupported: kiln's If rejects this If: If's branches disagree on result 0: then gives f32\[3\], else bool\[3\]/);
    const sequence = { name: 'q', type: { sequence_type: { elem_type: { tensor_type: { elem_type: DT.FLOAT } } } } };
    const s = refusal(runtimeIf(node('SequenceConstruct', ['x'], ['q']), sequence));
    expect(s.category).toBe('type');
    expect(s.message).toContain("If's else_branch has output 'q' of sequence type; kiln has tensors only");
  });
});

/** A Loop: y = x; for i < M: y = y * x + i (as f32); scan rows of y. `m`: initializer or graph input. */
function loopModel(opts: { m?: number | 'input'; opset?: number; scan?: boolean } = {}): Uint8Array {
  const m = opts.m ?? 3;
  const iterNodes = [node('Cast', ['i'], ['fi'], { to: attrInt(DT.FLOAT) }), node('Mul', ['v', 'x'], ['vx']), node('Add', ['vx', 'fi'], ['v2'])];
  const outs = [valueInfo('cond_out', DT.BOOL, []), valueInfo('v2', DT.FLOAT, [2]), ...(opts.scan === false ? [] : [valueInfo('v2', DT.FLOAT, [2])])];
  return encodeModel(
    model({
      opset: opts.opset ?? 13,
      nodes: [
        node('Loop', ['M', 'go', 'x'], ['y', ...(opts.scan === false ? [] : ['ys'])], {
          body: graphAttr(body('body', [...iterNodes, node('Identity', ['cond_in'], ['cond_out'])], [valueInfo('i', DT.INT64, []), valueInfo('cond_in', DT.BOOL, []), valueInfo('v', DT.FLOAT, [2])], outs)),
        }),
      ],
      inputs: [valueInfo('x', DT.FLOAT, [2]), ...(m === 'input' ? [valueInfo('M', DT.INT64, [])] : [])],
      outputs: [valueInfo('y', DT.FLOAT, [2]), ...(opts.scan === false ? [] : [valueInfo('ys', DT.FLOAT, [3, 2])])],
      initializers: [boolTensor('go', true), ...(m === 'input' ? [] : [i64Tensor('M', [], [m])])],
    }),
  );
}

describe('Loop', () => {
  const x = f32([2], [2, 3]);

  it('imports a Loop with a known trip count as a region reading the graph input; the pipeline unrolls it', () => {
    for (const opset of [7, 11, 13, 16, 21]) {
      const { graph } = importOnnx(loopModel({ opset }));
      expect(regionOps(graph)).toEqual(['Loop']);
      expect(graph.types.get('ys')!.shape).toEqual([3, 2]);
      const want = interpret(graph, { x });
      // y: [2,3] -> [4,9] -> [9,28] -> [20,86]
      expect(data(want.y)).toEqual([20, 86]);
      expect(data(want.ys)).toEqual([4, 9, 9, 28, 20, 86]);
      const { graph: flat } = runPipeline(graph, DEFAULT_PIPELINE);
      expect(regionOps(flat)).toEqual([]);
      expect(data(interpret(flat, { x }).ys)).toEqual(data(want.ys));
    }
  });

  it('takes an int64 trip count beyond i32 as unbounded, and a run-time trip count without scan outputs', () => {
    const big = importOnnx(loopModel({ m: 2 ** 40, scan: false }));
    expect(big.notes.some((n) => /trip count 1099511627776 is beyond i32; taken as unbounded/.test(n))).toBe(true);
    const runtime = importOnnx(loopModel({ m: 'input', scan: false })).graph;
    expect(data(interpret(runtime, { x, M: makeTensor('i32', [], [2]) }).y)).toEqual([9, 28]);
  });

  it('refuses scan outputs over a run-time trip count, naming the graph input to fix', () => {
    const e = refusal(loopModel({ m: 'input' }));
    expect(e.category).toBe('dynamic');
    expect(e.value).toBe('M');
    expect(e.message).toMatch(/Loop has 1 scan output\(s\), stacked over its iterations, so kiln must know the trip count at compile time/);
  });

  /** test_loop11's shape: the body slices x[i:i+1] with the iteration number, which kiln needs at compile time. */
  const sliceLoop = (m: number | 'input'): Uint8Array =>
    encodeModel(
      model({
        opset: 11,
        nodes: [
          node('Loop', ['M', '', 'y'], ['res', 'rows'], {
            body: graphAttr(
              body(
                'body',
                [
                  node('Add', ['i', 'one'], ['end']),
                  node('Unsqueeze', ['i'], ['start1'], { axes: attrInts([0]) }),
                  node('Unsqueeze', ['end'], ['end1'], { axes: attrInts([0]) }),
                  node('Slice', ['xs', 'start1', 'end1'], ['row']),
                  node('Add', ['acc', 'row'], ['acc2']),
                  node('Identity', ['c'], ['c2']),
                ],
                [valueInfo('i', DT.INT64, []), valueInfo('c', DT.BOOL, []), valueInfo('acc', DT.FLOAT, [1])],
                [valueInfo('c2', DT.BOOL, []), valueInfo('acc2', DT.FLOAT, [1]), valueInfo('acc2', DT.FLOAT, [1])],
                [i64Tensor('one', [], [1])],
              ),
            ),
          }),
        ],
        inputs: [valueInfo('y', DT.FLOAT, [1]), ...(m === 'input' ? [valueInfo('M', DT.INT64, [])] : [])],
        outputs: [valueInfo('res', DT.FLOAT, [1]), valueInfo('rows', DT.FLOAT)],
        initializers: [f32Tensor('xs', [5], [1, 2, 3, 4, 5]), ...(m === 'input' ? [] : [i64Tensor('M', [], [m])])],
      }),
    );

  it('unrolls at import a body that needs the iteration number at compile time (a slice bound)', () => {
    const { graph } = importOnnx(sliceLoop(4));
    expect(regionOps(graph)).toEqual([]);
    const out = interpret(graph, { y: f32([1], [-2]) });
    expect(data(out.res)).toEqual([8]);
    expect(data(out.rows)).toEqual([-1, 1, 4, 8]);
    expect(out.rows!.shape).toEqual([4, 1]);
    const e = refusal(sliceLoop('input'));
    expect(e.category).toBe('dynamic');
    expect(e.value).toBe('M');
    expect(e.message).toContain('kiln unrolls this Loop at import, which needs its trip count M known');
  });

  it('imports an If nested in a Loop body, reading a value two graphs out', () => {
    const bytes = encodeModel(
      model({
        opset: 16,
        nodes: [
          node('Loop', ['M', '', 'x'], ['y'], {
            body: graphAttr(
              body(
                'body',
                [
                  node('If', ['flip'], ['w'], {
                    then_branch: graphAttr(body('then', [node('Sub', ['v', 'x'], ['d'])], [], [valueInfo('d', DT.FLOAT)])),
                    else_branch: graphAttr(body('else', [node('Add', ['v', 'k'], ['e'])], [], [valueInfo('e', DT.FLOAT)])),
                  }),
                  node('Identity', ['c'], ['c2']),
                ],
                [valueInfo('i', DT.INT64, []), valueInfo('c', DT.BOOL, []), valueInfo('v', DT.FLOAT, [2])],
                [valueInfo('c2', DT.BOOL, []), valueInfo('w', DT.FLOAT, [2])],
              ),
            ),
          }),
        ],
        inputs: [valueInfo('flip', DT.BOOL, []), valueInfo('x', DT.FLOAT, [2])],
        outputs: [valueInfo('y', DT.FLOAT, [2])],
        initializers: [i64Tensor('M', [], [3]), f32Tensor('k', [2], [1, 10])],
      }),
    );
    const { graph } = importOnnx(bytes);
    expect(regionOps(graph)).toEqual(['Loop']);
    const x = f32([2], [5, 7]);
    expect(data(interpret(graph, { flip: makeTensor('bool', [], [0]), x }).y)).toEqual([8, 37]);
    expect(data(interpret(graph, { flip: makeTensor('bool', [], [1]), x }).y)).toEqual([-10, -14]);
    const { graph: flat } = runPipeline(graph, DEFAULT_PIPELINE);
    expect(regionOps(flat)).toEqual(['If', 'If', 'If']); // unrolled; the run-time Ifs stay for the plan to branch on
    expect(data(interpret(flat, { flip: makeTensor('bool', [], [1]), x }).y)).toEqual([-10, -14]);
  });
});

describe('Scan', () => {
  /** Cumulative sum over the rows of x: state s, scan output the running sums. */
  const cumsum = (opset: number, axis: number, dims: number[]): Uint8Array =>
    encodeModel(
      model({
        opset,
        nodes: [
          node('Scan', ['s0', 'x'], ['s', 'sums'], {
            num_scan_inputs: attrInt(1),
            ...(opset >= 9 ? { scan_input_axes: attrInts([axis]) } : {}),
            body: graphAttr(body('body', [node('Add', ['acc', 'row'], ['n']), node('Identity', ['n'], ['out'])], [valueInfo('acc', DT.FLOAT, [2]), valueInfo('row', DT.FLOAT, [2])], [valueInfo('n', DT.FLOAT, [2]), valueInfo('out', DT.FLOAT, [2])])),
          }),
        ],
        inputs: [valueInfo('s0', DT.FLOAT, [2]), valueInfo('x', DT.FLOAT, dims)],
        outputs: [valueInfo('s', DT.FLOAT, [2]), valueInfo('sums', DT.FLOAT)],
      }),
    );

  it('imports a cumulative sum (opset 9 on, negative scan axes from 11) and unrolls it', () => {
    const x = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    for (const [opset, axis] of [[9, 0], [11, -2], [16, 0], [21, 0]] as const) {
      const { graph } = importOnnx(cumsum(opset, axis, [3, 2]));
      const out = interpret(graph, { s0: f32([2], [0, 0]), x });
      expect(data(out.s)).toEqual([9, 12]);
      expect(data(out.sums)).toEqual([1, 2, 4, 6, 9, 12]);
      const { graph: flat } = runPipeline(graph, DEFAULT_PIPELINE);
      expect(regionOps(flat)).toEqual([]);
      expect(data(interpret(flat, { s0: f32([2], [0, 0]), x }).sums)).toEqual([1, 2, 4, 6, 9, 12]);
    }
  });

  it("maps opset 8's batched Scan onto one Scan per batch entry", () => {
    const bytes = encodeModel(
      model({
        opset: 8,
        nodes: [
          node('Scan', ['', 's0', 'x'], ['s', 'sums'], {
            num_scan_inputs: attrInt(1),
            body: graphAttr(body('body', [node('Add', ['acc', 'row'], ['n']), node('Identity', ['n'], ['out'])], [valueInfo('acc', DT.FLOAT, [2]), valueInfo('row', DT.FLOAT, [2])], [valueInfo('n', DT.FLOAT, [2]), valueInfo('out', DT.FLOAT, [2])])),
          }),
        ],
        inputs: [valueInfo('s0', DT.FLOAT, [2, 2]), valueInfo('x', DT.FLOAT, [2, 3, 2])],
        outputs: [valueInfo('s', DT.FLOAT, [2, 2]), valueInfo('sums', DT.FLOAT, [2, 3, 2])],
      }),
    );
    const { graph } = importOnnx(bytes);
    expect(regionOps(graph)).toEqual(['Scan', 'Scan']);
    const out = interpret(graph, { s0: f32([2, 2], [0, 0, 100, 100]), x: f32([2, 3, 2], [1, 2, 3, 4, 5, 6, 1, 1, 1, 1, 1, 1]) });
    expect(data(out.s)).toEqual([9, 12, 103, 103]);
    expect(data(out.sums)).toEqual([1, 2, 4, 6, 9, 12, 101, 101, 102, 102, 103, 103]);
  });
});
