// The kiln command line. Subcommands live in their own modules; this file only wires arguments to them and
// turns errors into messages and exit codes: a user's mistake prints what to do and exits 1, a kiln bug prints
// its stack and exits 2. Every command's --help ends with working examples (help-text.ts).
//
// Test hook (hidden from --help): with KILN_TEST_INTERNAL_ERROR=1 in the environment, main() throws a plain Error
// before parsing the arguments, so tests can check what a kiln bug looks like (exit 2, "internal error (please
// report)", a stack). Nothing else reads it.
import { Command, CommanderError } from 'commander';
import '../../ir/index.js';
import { systemError } from '../io/fs-errors.js';
import { KILN_VERSION } from '../version.js';
import { isUserError } from './errors.js';
import { EXIT_CODES, examplesBlock } from './help-text.js';
import type { Output } from './ir-commands.js';
import { registerServe } from './serve-command.js';

// Commands are loaded when used: the compiler's emitter pulls in ts-morph (and TypeScript), which `kiln run`
// and `kiln ir` do not need and should not wait for.
const irCommands = () => import('./ir-commands.js');
const modelCommands = () => import('./model-commands.js');
const generateCommand = () => import('./generate-command.js');
const profileCommand = () => import('./profile-command.js');
const tuneCommand = () => import('./tune-command.js');

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The command line, its actions writing to `io` and reporting their exit code through `setCode`. */
export function buildProgram(io: Output = defaultOutput, setCode: (code: number) => void = () => {}): Command {
  const program = new Command('kiln')
    .description('Ahead-of-time model compiler for WebGPU')
    .version(KILN_VERSION, '-V, --version', 'print the kiln version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .addHelpText('after', `${examplesBlock('')}\n\n${EXIT_CODES}`);

  program
    .command('compile <model>')
    .description('compile a model (.onnx, .kir, or a Hugging Face config.json) into a WebGPU artifact directory')
    .option('-o, --output <dir>', 'artifact directory to write (required unless --print-pipeline)')
    .option('--dim <name=size>', 'bind a symbolic dimension (ONNX dim_param) to a static size, or name=lo..hi to keep it symbolic over that range (repeatable)', collect, [])
    .option('--input-shape <name=d0,d1,...>', 'ONNX: replace an input\'s declared dims; a name makes a fixed dim symbolic (a batch exported as 1), a size fixes a symbolic one (repeatable)', collect, [])
    .option('--weights <checkpoint>', 'safetensors weights: a .safetensors file, a model.safetensors.index.json, or their folder')
    .option('--max-seq <n>', 'decoders: KV-cache capacity in tokens (default min(max_position_embeddings, 2048))')
    .option('--chunk <n>', 'decoders: prompt tokens per prefill step (default min(128, max-seq))')
    .option('--seq <n>', 'encoders (bert): tokens per run (default min(128, max_position_embeddings))')
    .option('--sparsity <s>', 'magnitude-prune MatMul/Gemm weights to this fraction of zeros (0..1) before choosing kernels')
    .option('--sparsity-scope <layer|global>', 'prune every layer to the target (default) or rank magnitudes across layers', 'layer')
    .option('--bits <w<n>a<m>>', 'quantize MatMul/Gemm weights to n-bit codes and activations per row to m bits (exact integer products), e.g. w4a8; w<n>f16 or w<n>f32 quantizes weights only (read in place by the quant GEMV); n = t: ternary weights (wta8, wtf16)')
    .option('--bits-group <n>', 'with --bits: inputs per weight scale along K (default: one scale per output row)')
    .option('--bits-keep <regex>', 'with --bits: weights whose names match stay float (e.g. lm_head)')
    .option('--bits-layers <file>', 'with --bits: per-layer widths, a JSON object mapping weight-name regexes to a width ("w8a8") or {"bits", "group", "weights", "activations"}; the first match wins, other weights take --bits')
    .option('--sparsity-floor <d>', 'global scope: least fraction of each layer kept non-zero', '0.02')
    .option('--prune <ratio>', 'structured pruning: remove whole channels of dependency groups (a stem\'s rows with their biases, norm entries and consumer columns); 0 removes only exactly-zero channels (outputs bit-identical), a ratio in 0..1 also the lowest-norm ones of each group')
    .option('--prune-heads <ratio>', 'with --prune: the ratio for groups of attention heads (a key/value head with its query heads), default the --prune ratio')
    .option('--prune-scope <layer|global>', 'with --prune: each group to the ratio (default), or one ranking across groups with a floor')
    .option('--prune-floor <d>', 'with --prune: least fraction of each group kept (default 0.05)')
    .option('--prune-multiple <n>', 'with --prune: kept channel counts rounded up to a multiple of n (kernel-friendly widths)')
    .option('--prune-only <regex>', 'with --prune: only groups one of whose weights\' names matches (e.g. mlp)')
    .option('--calibrate <dir>', 'with --prune or --bits: sample inputs (a subfolder per sample, a file per input: <name>.json/.npy/.pb or input_<k>.pb); pruning scores channels by activation norms times weight norms and moves a removed channel\'s mean contribution into its consumer\'s bias; quantization\'s output error on them goes into the report (kiln inspect)')
    .option('--device-profile <name|auto|file.json>', 'device the kernel choices are costed for: generic-gpu (default), lavapipe, auto (the local adapter), or a profile file written by kiln tune')
    .option('--f16', 'target adapters with shader-f16 (f16 tensors computed natively)')
    .option('--subgroups', 'target adapters with the subgroups feature (the quant GEMV shares activations across a subgroup; the artifact then requires it)')
    .option('--limit <name=value>', "the target device's value of a WebGPU limit, e.g. maxStorageBufferBindingSize=268435456: weights are split to fit it, a plan needing more is refused (repeatable)", collect, [])
    .option('--weights-dtype <f32|f16>', 'store matmul and embedding weights as f16 (half the bytes; computed in f32)', 'f32')
    .option('--layout <auto|row-major>', 'weight layouts: auto (arrange-layout stores GEMV weights in the panels its kernel streams) or row-major (the baseline)', 'auto')
    .option('--print-pipeline', 'print the passes this compile runs, in order, with their options, and exit')
    .option('--dump-ir-after <pass|all>', 'write the IR after the named passes (comma-separated) or all, one file per pass (and entry)')
    .option('--dump-dir <dir>', 'where --dump-ir-after writes', 'kiln-dump')
    .action(async (model: string, opts) => setCode(await (await modelCommands()).compileCommand(model, opts, io)));
  program
    .command('run <artifact>')
    .description('run a compiled artifact on the WebGPU adapter')
    .option('--input <name=file>', 'an input tensor from .json, .npy or .pb (repeatable)', collect, [])
    .option('--json', 'print {"outputs": {...}} as one JSON object')
    .action(async (dir: string, opts) => setCode(await (await modelCommands()).runCommand(dir, opts, io)));
  program
    .command('generate <artifact>')
    .description('text generation with a decoder artifact (prefill, then one decode step per token): greedy, or sampled with --temperature')
    .option('--ids <list>', 'prompt token ids, comma-separated')
    .option('--prompt <text>', 'prompt text (needs the tokenizer.json the artifact ships when compiled from a checkpoint that has one)')
    .option('--max-new-tokens <n>', 'tokens to generate', '16')
    .option('--temperature <t>', 'sample with this temperature (0: greedy)', '0')
    .option('--top-k <k>', 'sample among the k most likely tokens only (0: all)', '0')
    .option('--top-p <p>', 'sample among the most likely tokens whose probabilities reach p (nucleus sampling)', '1')
    .option('--seed <n>', 'seed of the sampler: the same seed gives the same tokens', '0')
    .option('--json', 'print {"tokens": [...]} as one JSON object')
    .action(async (dir: string, opts) => setCode(await (await generateCommand()).generateCommand(dir, opts, io)));
  program
    .command('inspect <artifact>')
    .description('per kernel: workgroups, bytes read and written, FLOPs; memory planning')
    .option('--json', 'machine-readable')
    .action(async (dir: string, opts) => setCode((await modelCommands()).inspectCommand(dir, opts, io)));

  program
    .command('profile <artifact>')
    .description('measured time per dispatch next to the traffic model\'s prediction and the roofline, with their rank correlation')
    .option('--input <name=file>', 'an input tensor from .json, .npy or .pb (repeatable; inputs not given get seeded random values)', collect, [])
    .option('--dim <name=value>', 'the value of a symbolic dimension for the runs (repeatable; default its lower bound)', collect, [])
    .option('--runs <n>', 'timed runs; each dispatch reports its median', '5')
    .option('--entry <name>', 'the entry point to profile (a decoder\'s decode or prefill; default the main entry)')
    .option('--json', 'print one JSON object')
    .action(async (dir: string, opts) => setCode(await (await profileCommand()).profileCommand(dir, opts, io)));
  program
    .command('tune <model|artifact>')
    .description('measure candidate kernel configurations for the model\'s GEMV shapes on this adapter, and the adapter\'s rates; write a device profile for compile --device-profile')
    .option('--out <file.json>', 'the device profile to write (an existing file is overwritten only if it is a kiln device profile)', 'kiln-device-profile.json')
    .option('--runs <n>', 'timed runs per candidate (each reports its median)', '5')
    .option('--dim <name=size>', 'a model: bind a symbolic dimension to the size to tune for (repeatable)', collect, [])
    .option('--weights <checkpoint>', 'a .kir graph or config.json: its safetensors weights, as for compile')
    .action(async (model: string, opts) => setCode(await (await tuneCommand()).tuneCommand(model, opts, io)));

  // More top-level commands register here; give each its examples in help-text.ts's EXAMPLES
  // (test/cli/help.test.ts requires an example for every option).
  registerServe(program, io, setCode);

  const ir = program.command('ir').description('work with the textual IR (.kir)').exitOverride();
  ir.command('verify <file>')
    .description('parse and verify a .kir file; diagnostics read file:line:col')
    .action(async (file: string) => setCode((await irCommands()).irVerify(file, io)));
  ir.command('print <file>')
    .description('parse, verify and print a .kir file in canonical form')
    .action(async (file: string) => setCode((await irCommands()).irPrint(file, io)));
  ir.command('opt <file>')
    .description('run passes over a .kir file and print the result')
    .option('--passes <list>', 'comma-separated pass names (default: the default pipeline)')
    .option('--dump-ir-after <pass|all>', 'write the IR after the named passes (comma-separated) or all')
    .option('--dump-dir <dir>', 'where --dump-ir-after writes', 'kiln-dump')
    .option('-o, --output <file>', 'write the result here instead of stdout')
    .option('--stats', 'print per-pass time and statistics to stderr')
    .option('--sparsity <s>', 'the sparsify pass: fraction of each MatMul/Gemm weight to zero (0..1)')
    .option('--sparsity-scope <layer|global>', 'the sparsify pass: per layer (default) or one threshold across layers')
    .option('--sparsity-floor <d>', 'the sparsify pass, global scope: least fraction of each layer kept non-zero')
    .option('--prune <ratio>', 'the prune-structured pass: 0 removes exactly-zero channel groups, a ratio also the lowest-norm channels')
    .option('--prune-heads <ratio>', 'the prune-structured pass: the ratio for attention head groups')
    .option('--prune-scope <layer|global>', 'the prune-structured pass: per group (default) or one ranking across groups')
    .option('--prune-floor <d>', 'the prune-structured pass: least fraction of each group kept')
    .option('--prune-multiple <n>', 'the prune-structured pass: kept channel counts rounded up to a multiple of n')
    .option('--prune-only <regex>', 'the prune-structured pass: only groups with a weight whose name matches')
    .option('--print-pipeline', 'print the passes that would run, with their options, and exit')
    .action(async (file: string, opts) => setCode((await irCommands()).irOpt(file, opts, io)));
  ir.command('groups <model>')
    .description('the channel groups structured pruning (--prune) sees: channels, prunable or the barrier, exactly-zero channels, producers, constant slices, consumers')
    .option('--weights <checkpoint>', 'safetensors weights, as for compile')
    .option('--dim <name=size>', 'bind a symbolic dimension, as for compile (repeatable)', collect, [])
    .option('--entry <name>', 'the entry point to analyse (a decoder\'s decode or prefill; default the first)')
    .option('--json', 'print {"entry", "groups": [...]} as one JSON object')
    .action(async (model: string, opts) => setCode(await (await modelCommands()).groupsCommand(model, opts, io)));
  ir.command('run <file>')
    .description('evaluate a .kir graph with the reference interpreter')
    .option('--input <name=file.json>', 'an input tensor (repeatable)', collect, [])
    .option('--random <seed>', 'fill inputs not given with seeded random values')
    .option('--json', 'print {"outputs": {...}} as one JSON object')
    .action(async (file: string, opts) => setCode((await irCommands()).irRun(file, opts, io)));

  addExamples(program);
  return program;
}

/** Each command's --help ends with its examples (the program's own, with the exit codes, are added above). */
function addExamples(command: Command, path = ''): void {
  for (const sub of command.commands) {
    const subPath = path ? `${path} ${sub.name()}` : sub.name();
    const block = examplesBlock(subPath);
    if (block) sub.addHelpText('after', block);
    addExamples(sub, subPath);
  }
}

export async function main(argv: readonly string[], io: Output = defaultOutput): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    if (process.env.KILN_TEST_INTERNAL_ERROR === '1') throw new Error('KILN_TEST_INTERNAL_ERROR=1: a deliberate internal error, for tests');
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (isUserError(e)) {
      // A system error nobody wrapped still gets one line naming its path and what to do.
      io.err(`kiln: ${(systemError(e) as Error).message}`);
      return 1;
    }
    io.err(`kiln: internal error (please report): ${(e as Error)?.stack ?? String(e)}`);
    return 2;
  }
}

// `kiln inspect out | head` closes the pipe early: that ends the listing, it is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const defaultOutput: Output = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  write: (t) => process.stdout.write(t),
};
