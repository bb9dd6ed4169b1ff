// The text `kiln --help` and `kiln <command> --help` print after the options: working example command lines for
// every command (together they use every option the command has; test/cli/help.test.ts holds them to that), and
// the exit codes. Paths are relative to the kiln repository root: examples/ ships with the repository, and
// ../shared/models holds the shared test models. A command's examples may use what an earlier one wrote (out/...).

/** One example: a comment line (what it does), then the command lines. */
type Example = readonly [comment: string, ...commands: string[]];

const DECODER = 'npx tsx scripts/make-checkpoints.ts out/tiny-llama --family llama --preset tiny';
const ENCODER = 'npx tsx scripts/make-checkpoints.ts out/tiny-bert --family bert --preset tiny';
const MNIST = '../shared/models/mnist-8';

/** Examples per command, keyed by its path ("compile", "ir opt"). */
export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  '': [
    ['compile the example perceptron and run it on the WebGPU adapter', 'kiln compile examples/mlp.kir --dim batch=2 -o out/mlp', 'kiln run out/mlp --input x=examples/mlp-input.json'],
    ['the options and examples of one command', 'kiln compile --help', 'kiln ir opt --help'],
    ['the version (also in every manifest kiln writes, as model.compiler)', 'kiln --version'],
  ],
  compile: [
    ['a .kir graph, its symbolic dimension batch bound to 2', 'kiln compile examples/mlp.kir --dim batch=2 -o out/mlp'],
    ['an ONNX model, for adapters with shader-f16', `kiln compile ${MNIST}/model.onnx -o out/mnist-f16 --f16`],
    ['ONNX dynamic axes (dim_param) fixed at compile time', 'kiln compile ../shared/models/tiny-distilbert-sst2/model.onnx --dim batch=1 --dim sequence=6 -o out/distilbert'],
    [
      'a batch the model fixed at 1, made symbolic: one artifact runs any batch in 1..16',
      `kiln compile ${MNIST}/model.onnx --input-shape Input3=batch,1,28,28 --dim batch=1..16 -o out/mnist-batch`,
    ],
    [
      'a .kir graph whose params come from a safetensors checkpoint, matmul weights stored as f16',
      'kiln compile examples/burn-mnist/graph.kir --weights ../shared/models/burn-mnist-safetensors/mnist.safetensors --weights-dtype f16 -o out/burn',
    ],
    [`a Hugging Face decoder (a random tiny one: ${DECODER})`, 'kiln compile out/tiny-llama/config.json --weights out/tiny-llama --max-seq 128 --chunk 32 -o out/llama'],
    [`a Hugging Face encoder (a random tiny one: ${ENCODER})`, 'kiln compile out/tiny-bert/config.json --weights out/tiny-bert --seq 16 -o out/bert'],
    [
      'half of the MatMul/Gemm weights pruned, ranked across layers; kernels costed for the local adapter',
      `kiln compile ${MNIST}/model.onnx --sparsity 0.5 --sparsity-scope global --sparsity-floor 0.05 --device-profile auto -o out/mnist50`,
    ],
    [
      'structured pruning: a quarter of the hidden channels (lowest norm) removed with their bias entries and consumer rows, kept widths even',
      'kiln compile examples/mlp.kir --dim batch=2 --prune 0.25 --prune-scope layer --prune-floor 0.5 --prune-multiple 2 --prune-only w1 -o out/mlp-pruned',
    ],
    [
      'pruning calibrated on sample inputs: activation-aware scores, removed channels folded into the biases',
      `kiln compile ${MNIST}/model.onnx --prune 0.3 --calibrate ${MNIST}/reference -o out/mnist-pruned`,
    ],
    [
      'a decoder with half of each MLP and a quarter of the attention heads removed (key/value heads with their query heads)',
      'kiln compile out/tiny-llama/config.json --weights out/tiny-llama --prune 0.5 --prune-heads 0.25 -o out/llama-pruned',
    ],
    [
      'MatMul/Gemm weights as 8-bit codes (a scale per 4 inputs), activations as 8-bit codes per row: exact integer products',
      'kiln compile examples/mlp.kir --dim batch=2 --bits w8a8 --bits-group 4 --bits-keep w9 -o out/mlp-w8a8',
    ],
    [
      'weights only: 4-bit codes with a scale per 32 inputs, decoded in registers by the quant GEMV (activations shared across subgroups where the adapter has them); activations stay float',
      `kiln compile ${MNIST}/model.onnx --bits w4f16 --bits-group 32 --subgroups -o out/mnist-w4`,
    ],
    [
      'widths per layer (examples/mlp-bits-layers.json: w2 at w8a8 in groups of 4, the other weights at w4f16)',
      'kiln compile examples/mlp.kir --dim batch=2 --bits w4a8 --bits-layers examples/mlp-bits-layers.json -o out/mlp-mixed',
    ],
    [
      'weights and activations at 4 bits, the output error on sample inputs in the report (kiln inspect out/mnist-w4a4)',
      `kiln compile ${MNIST}/model.onnx --bits w4a4 --calibrate ${MNIST}/reference -o out/mnist-w4a4`,
    ],
    [
      'for a target whose storage bindings hold at most 32 KiB (weights over it are split, a plan needing more is refused)',
      `kiln compile ${MNIST}/model.onnx --limit maxStorageBufferBindingSize=32768 -o out/mnist-32k`,
    ],
    [
      'weights left row-major (the arrange-layout pass off): the baseline its panel layouts are measured against',
      `kiln compile ${MNIST}/model.onnx --layout row-major -o out/mnist-row-major`,
    ],
    [
      'kernel choices measured on this adapter: a device profile kiln tune wrote (see `kiln tune --help`)',
      `kiln compile ${MNIST}/model.onnx --device-profile out/mnist-profile.json -o out/mnist-tuned`,
    ],
    ['the passes a compile runs, and the IR after each of them', 'kiln compile examples/mlp.kir --dim batch=2 --print-pipeline', 'kiln compile examples/mlp.kir --dim batch=2 -o out/mlp --dump-ir-after all --dump-dir out/mlp-ir'],
  ],
  run: [
    ['inputs from .json (or .npy) files (out/mlp: see `kiln compile --help`)', 'kiln run out/mlp --input x=examples/mlp-input.json'],
    [
      `an ONNX TensorProto input, outputs as one JSON object (out/mnist: kiln compile ${MNIST}/model.onnx -o out/mnist)`,
      `kiln run out/mnist --input Input3=${MNIST}/reference/test_data_set_0/input_0.pb --json`,
    ],
  ],
  generate: [
    [`greedy, from token ids (out/llama: see \`kiln compile --help\`; the checkpoint: ${DECODER})`, 'kiln generate out/llama --ids 1,2,3 --max-new-tokens 16 --json'],
    ['from text, through the tokenizer.json the artifact ships; the text streams out', 'kiln generate out/llama --prompt "the world is" --max-new-tokens 16'],
    ['sampled: the same seed gives the same tokens', 'kiln generate out/llama --prompt "the world is" --temperature 0.8 --top-k 40 --top-p 0.95 --seed 7'],
  ],
  inspect: [
    ['kernels and memory of an artifact (out/mlp: see `kiln compile --help`)', 'kiln inspect out/mlp'],
    ['machine-readable', 'kiln inspect out/mlp --json'],
  ],
  profile: [
    ['time each dispatch of out/mlp (see `kiln compile --help`) against its predicted time', 'kiln profile out/mlp'],
    ['an artifact with a symbolic batch (out/mnist-batch: see `kiln compile --help`), profiled at batch 4', 'kiln profile out/mnist-batch --dim batch=4'],
    ['the decode step of a decoder (out/llama: see `kiln compile --help`)', 'kiln profile out/llama --entry decode'],
    [
      `an ONNX model on a given input, median of 10 runs, as one JSON object (out/mnist: kiln compile ${MNIST}/model.onnx -o out/mnist)`,
      `kiln profile out/mnist --input Input3=${MNIST}/reference/test_data_set_0/input_0.pb --runs 10 --json`,
    ],
  ],
  tune: [
    ['measure this adapter on the GEMV weights of an artifact (out/mlp: see `kiln compile --help`), 3 timed runs per candidate', 'kiln tune out/mlp --out out/mlp-profile.json --runs 3'],
    [
      'a model, compiled in memory as kiln compile would (without --out: ./kiln-device-profile.json); `kiln compile --help` shows a compile using it',
      `kiln tune ${MNIST}/model.onnx --out out/mnist-profile.json`,
    ],
    ['an ONNX model with dynamic axes, tuned for batch 1 and 6 tokens', 'kiln tune ../shared/models/tiny-distilbert-sst2/model.onnx --dim batch=1 --dim sequence=6 --out out/distilbert-profile.json'],
    [`a Hugging Face decoder (a random tiny one: ${DECODER}): its decode step's GEMVs`, 'kiln tune out/tiny-llama/config.json --weights out/tiny-llama --out out/llama-profile.json'],
  ],
  serve: [
    [`the demo page of an image classifier (draw a digit): ${'kiln compile ' + MNIST + '/model.onnx -o out/mnist'} first`, 'kiln serve out/mnist'],
    ['a decoder (out/llama: see `kiln compile --help`) on another port, by name (browsers give WebGPU to localhost and https pages only)', 'kiln serve out/llama --port 8090 --host localhost'],
  ],
  ir: [['verify a .kir file, then print it in canonical form', 'kiln ir verify examples/mlp.kir', 'kiln ir print examples/mlp.kir']],
  'ir verify': [['diagnostics, if any, read file:line:col', 'kiln ir verify examples/mlp.kir']],
  'ir print': [['the canonical form of a .kir file', 'kiln ir print examples/quant-mlp.kir']],
  'ir opt': [
    ['the default pipeline', 'kiln ir opt examples/mlp.kir'],
    ['chosen passes, the result to a file, timings and statistics on stderr', 'kiln ir opt examples/mlp.kir --passes infer-shapes,fold-constants,eliminate-dead -o out/mlp.opt.kir --stats'],
    ['the IR after every pass, one file each', 'kiln ir opt examples/mlp.kir --dump-ir-after all --dump-dir out/mlp-passes'],
    [
      'the sparsify pass, shown as the pipeline that would run',
      'kiln ir opt examples/mlp.kir --passes infer-shapes,sparsify --sparsity 0.5 --sparsity-scope global --sparsity-floor 0.1 --print-pipeline',
    ],
    [
      'structured pruning of the hidden channels, ranked across groups, with the channels removed on stderr',
      'kiln ir opt examples/mlp.kir --passes infer-shapes,prune-structured --prune 0.25 --prune-heads 0 --prune-scope global --prune-floor 0.5 --prune-multiple 2 --prune-only w1 --stats',
    ],
  ],
  'ir groups': [
    ['the channel groups of a graph: which may be pruned, and which barrier keeps the others', 'kiln ir groups examples/mlp.kir --dim batch=2'],
    [
      'a decoder checkpoint (see `kiln compile --help`): the groups of its decode entry, as JSON',
      'kiln ir groups out/tiny-llama/config.json --weights out/tiny-llama --entry decode --json',
    ],
  ],
  'ir run': [
    ['evaluate with the reference interpreter (no GPU)', 'kiln ir run examples/mlp.kir --input x=examples/mlp-input.json'],
    ['inputs not given filled with seeded random values; outputs as JSON', 'kiln ir run examples/quant-mlp.kir --random 1 --json'],
  ],
};

/** The exit codes, for the top-level help (README's "The CLI" says the same). */
export const EXIT_CODES = [
  'Exit codes:',
  '  0  success',
  "  1  your error or the system's: a bad flag or argument, a missing or unreadable file, a model kiln cannot",
  '     compile, no WebGPU adapter; one line names what to fix',
  '  2  a kiln bug: "kiln: internal error (please report)" and a stack trace',
].join('\n');

/** The "Examples:" block for a command path ('' for the program itself); none for a command without examples. */
export function examplesBlock(path: string): string {
  const examples = EXAMPLES[path];
  if (!examples) return ''; // test/cli/help.test.ts fails for it
  const lines = examples.flatMap(([comment, ...commands]) => [`  # ${comment}`, ...commands.map((c) => `  ${c}`)]);
  return ['', 'Examples:  (paths relative to the kiln repository root)', ...lines].join('\n');
}
