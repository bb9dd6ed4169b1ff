// `kiln serve`: the static server behind the demo page (routes, content types, refusing paths outside its two
// folders, port handling, stopping on SIGINT), and the page's DOM-free logic in examples/demo/lib.js. The page
// itself runs in Chromium in test/browser/serve.gpu.test.ts.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/compile.js';
import { writeArtifact } from '../../compiler/emit/write.js';
import { type RunningServer, registerServe, resolveInside, serveCommand, startServer } from '../../compiler/cli/serve-command.js';
import { parseKir } from '../../ir/index.js';

const REPO = resolve(import.meta.dirname, '../..');

const GRAPH = `graph @serve_small(%x: f32[2,3]) {
  const %c: f32[3] = [1, 2, 3]
  %a = Add(%x, %c)
  %r = Relu(%a)
  return %r
}`;

function artifact(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'kiln-serve-')), 'artifact');
  writeArtifact(dir, compileGraph(parseKir(GRAPH, 'serve-small.kir'), { source: 'serve-small.kir' }));
  return dir;
}

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request with the path sent exactly as given (fetch would normalise '..' away before sending). */
function raw(url: string, path: string, method = 'GET'): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: hostname, port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('kiln serve: the server', () => {
  const dir = artifact();
  let server: RunningServer;
  beforeAll(async () => {
    // A link inside the artifact folder to a file outside it must not serve that file.
    const outside = join(mkdtempSync(join(tmpdir(), 'kiln-serve-outside-')), 'secret.txt');
    writeFileSync(outside, 'secret');
    symlinkSync(outside, join(dir, 'link.txt'));
    mkdirSync(join(dir, 'sub'));
    server = await startServer(dir, { port: 0 });
  });
  afterAll(() => server.close());

  it('listens on 127.0.0.1 on a free port for port 0, and names the model', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.port).toBeGreaterThan(0);
    expect(server.model).toBe('serve_small');
  });

  it('serves the demo page at / and the artifact under /artifact/, with their content types', async () => {
    const index = await raw(server.url, '/');
    expect(index.status).toBe(200);
    expect(index.type).toBe('text/html; charset=utf-8');
    expect(index.body).toBe(readFileSync(join(REPO, 'examples/demo/index.html'), 'utf8'));
    expect((await raw(server.url, '/index.html')).body).toBe(index.body);
    expect((await raw(server.url, '/demo.js')).type).toBe('text/javascript; charset=utf-8');
    expect((await raw(server.url, '/lib.js')).type).toBe('text/javascript; charset=utf-8');
    expect((await raw(server.url, '/demo.css')).type).toBe('text/css; charset=utf-8');
    const manifest = await raw(server.url, '/artifact/manifest.json');
    expect(manifest.type).toBe('application/json; charset=utf-8');
    expect(manifest.headers['cache-control']).toBe('no-store');
    const m = JSON.parse(manifest.body) as { model: { name: string }; kernels: { file: string }[] };
    expect(m.model.name).toBe('serve_small');
    const modelJs = await raw(server.url, '/artifact/model.js');
    expect(modelJs.type).toBe('text/javascript; charset=utf-8');
    expect(modelJs.body).toBe(readFileSync(join(dir, 'model.js'), 'utf8'));
    expect((await raw(server.url, '/artifact/runtime.js')).status).toBe(200);
    const kernel = await raw(server.url, `/artifact/${m.kernels[0]!.file}`);
    expect([kernel.status, kernel.type]).toEqual([200, 'text/wgsl; charset=utf-8']);
    expect(kernel.headers['content-length']).toBe(String(Buffer.byteLength(kernel.body)));
    const redirect = await raw(server.url, '/artifact');
    expect([redirect.status, redirect.headers.location]).toEqual([301, '/artifact/']);
  });

  it('serves the tokenizer library as an ES module for text prompts', async () => {
    const lib = await raw(server.url, '/vendor/tokenizers.mjs');
    expect([lib.status, lib.type]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(lib.body).toMatch(/export\s*\{[^}]*\bTokenizer\b/);
  });

  it.each([
    '/../package.json',
    '/..%2fpackage.json',
    '/%2e%2e/package.json',
    '/artifact/../../package.json',
    '/artifact/%2e%2e/%2e%2e/package.json',
    '/artifact/..%5c..%5cpackage.json',
    '/artifact/sub/../manifest.json',
    '/artifact/link.txt',
    '/artifact/%00manifest.json',
  ])('refuses %s (outside the served folders)', async (path) => {
    const r = await raw(server.url, path);
    expect(r.status, r.body.slice(0, 200)).toBe(403);
    expect(r.body).not.toContain('secret');
    expect(r.body).not.toContain('"name": "kiln"');
  });

  it('answers 404 for what is not there, 405 for other methods, and headers alone for HEAD', async () => {
    expect((await raw(server.url, '/nope.js')).status).toBe(404);
    expect((await raw(server.url, '/artifact/nope.bin')).status).toBe(404);
    expect((await raw(server.url, '/artifact/sub/')).status).toBe(404);
    expect((await raw(server.url, '/%zz')).status).toBe(400);
    const post = await raw(server.url, '/', 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    const head = await raw(server.url, '/demo.js', 'HEAD');
    expect([head.status, head.type, head.body]).toEqual([200, 'text/javascript; charset=utf-8', '']);
    expect(Number(head.headers['content-length'])).toBe(readFileSync(join(REPO, 'examples/demo/demo.js')).length);
  });

  it('refuses a folder that is not an artifact, a port in use and a bad port, before serving anything', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kiln-serve-empty-'));
    await expect(startServer(empty, { port: 0 })).rejects.toThrow(/manifest\.json.*is .* a kiln artifact folder/);
    await expect(startServer(dir, { port: server.port })).rejects.toThrow(`port ${server.port} on 127.0.0.1 is in use: choose another with --port`);
    await expect(startServer(dir, { port: 70000 })).rejects.toThrow('--port 70000: expected an integer in 0..65535');
  });
});

describe('resolveInside', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-serve-root-'));
  writeFileSync(join(root, 'a.txt'), 'a');
  it('maps paths into the root and refuses the rest', () => {
    expect(resolveInside(root, 'a.txt')).toBe(join(root, 'a.txt'));
    expect(resolveInside(root, '')).toBe(404);
    expect(resolveInside(root, '../a.txt')).toBe(403);
    expect(resolveInside(root, 'x/../../a.txt')).toBe(403);
    expect(resolveInside(root, '/etc/passwd')).toBe(403);
    expect(resolveInside(root, 'b.txt')).toBe(404);
  });
});

describe('kiln serve: the command', () => {
  it('registers serve <artifact> with --port and --host, and rejects a bad port', async () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(t), write: (t: string) => lines.push(t) };
    const program = new Command('kiln').exitOverride().configureOutput({ writeOut: (s) => lines.push(s), writeErr: (s) => lines.push(s) });
    registerServe(program, io, () => {});
    const serve = program.commands.find((c) => c.name() === 'serve')!;
    expect(serve.options.map((o) => o.long)).toEqual(['--port', '--host']);
    expect(serve.options.map((o) => o.defaultValue)).toEqual(['8080', '127.0.0.1']);
    await expect(program.parseAsync(['serve', artifact(), '--port', 'http'], { from: 'user' })).rejects.toThrow('--port http: expected an integer in 0..65535');
  });

  it('prints the URL, serves until told to stop, then closes the port', async () => {
    const lines: string[] = [];
    const io = { out: (t: string) => lines.push(t), err: (t: string) => lines.push(`err: ${t}`), write: (t: string) => lines.push(t) };
    let stop!: () => void;
    const stopped = new Promise<void>((ok) => (stop = ok));
    const code = serveCommand(artifact(), { port: '0', host: '127.0.0.1' }, io, stopped);
    await expect.poll(() => lines.length).toBeGreaterThan(0);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(lines[0]!)![1]!;
    expect(lines[0]).toMatch(/^serving serve_small \(.*\) at http:\/\/127\.0\.0\.1:\d+\/$/);
    expect((await fetch(url)).status).toBe(200);
    stop();
    expect(await code).toBe(0);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('stops cleanly on SIGINT (exit status 0)', async () => {
    const dir = artifact();
    const script = `import { serveCommand } from ${JSON.stringify(pathToFileURL(join(REPO, 'compiler/cli/serve-command.ts')).href)};
const io = { out: (t) => console.log(t), err: (t) => console.error(t), write: (t) => process.stdout.write(t) };
process.exitCode = await serveCommand(${JSON.stringify(dir)}, { port: '0' }, io);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    await expect.poll(() => /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout)?.[0], { timeout: 20_000 }).toBeTruthy();
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout)![0];
    expect((await fetch(`${url}artifact/manifest.json`)).status).toBe(200);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(0);
    expect(stderr).toContain('stopped');
  }, 30_000);
});

// ---- the page's logic (examples/demo/lib.js, plain JS for the browser) ----

interface DemoLib {
  decideMode(m: unknown): { kind: string; height?: number; width?: number; layout?: string; classes?: number };
  parseIds(t: string): number[];
  probabilities(v: number[]): { probs: number[]; softmax: boolean };
  argmax(v: number[]): number;
  parseNpy(b: ArrayBuffer): { shape: number[]; data: number[] };
  valuesFromJson(t: string): number[];
  valuesFromFile(name: string, b: ArrayBuffer, expected?: number): number[];
  drawingToInput(ink: ArrayLike<number>, sw: number, sh: number, h: number, w: number, o?: { scale?: number }): number[];
  tokenizerJsonFilledIn(j: unknown): Record<string, unknown>;
  rate(n: number, ms: number): string;
  preview(v: ArrayLike<number>, limit?: number): string;
}

const lib = (): Promise<DemoLib> => import(pathToFileURL(join(REPO, 'examples/demo/lib.js')).href) as Promise<DemoLib>;

const io = (name: string, dtype: string, shape: number[]) => ({ name, dtype, shape, region: { buffer: 0, offset: 0, bytes: 4 } });
const manifestWith = (inputs: unknown[], outputs: unknown[], extra: Record<string, unknown> = {}) => ({ entryPoints: { run: { inputs, outputs, dispatches: [] } }, ...extra });

/** A version 1.0 .npy file of `data` with dtype `descr`. */
function npy(descr: string, shape: number[], data: ArrayBufferView): ArrayBuffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const bytes = new Uint8Array(10 + header.length + data.byteLength);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return bytes.buffer;
}

describe('the demo page logic', () => {
  it('picks the page from the manifest', async () => {
    const { decideMode } = await lib();
    expect(decideMode({ ...manifestWith([], []), generation: { vocabSize: 64 }, tokenizer: 'tokenizer.json' })).toMatchObject({ kind: 'decoder', tokenizer: 'tokenizer.json' });
    expect(decideMode(manifestWith([io('Input3', 'f32', [1, 1, 28, 28])], [io('out', 'f32', [1, 10])]))).toMatchObject({ kind: 'classifier', height: 28, width: 28, layout: 'nchw', classes: 10 });
    expect(decideMode(manifestWith([io('x', 'f32', [1, 32, 24, 1])], [io('p', 'f32', [10])]))).toMatchObject({ kind: 'classifier', height: 32, width: 24, layout: 'nhwc' });
    for (const m of [
      manifestWith([io('x', 'f32', [1, 3, 28, 28])], [io('out', 'f32', [1, 10])]), // colour
      manifestWith([io('x', 'i32', [1, 1, 28, 28])], [io('out', 'f32', [1, 10])]), // not f32
      manifestWith([io('x', 'f32', [2, 1, 28, 28])], [io('out', 'f32', [2, 10])]), // a batch
      manifestWith([io('x', 'f32', [1, 1, 28, 28])], [io('out', 'f32', [1, 1])]), // one score
      manifestWith([io('x', 'f32', [1, 1, 28, 28])], [io('out', 'f32', [1, 28, 28])]), // an image out
      manifestWith([io('x', 'f32', [1, 1, 28, 28]), io('y', 'f32', [1])], [io('out', 'f32', [1, 10])]), // two inputs
      manifestWith([io('x', 'f32', [2, 3])], [io('r', 'f32', [2, 3])]),
    ])
      expect(decideMode(m).kind).toBe('generic');
  });

  it('reads prompts as ids, and scores as probabilities', async () => {
    const { parseIds, probabilities, argmax } = await lib();
    expect(parseIds(' 1, 2 3,4 ')).toEqual([1, 2, 3, 4]);
    expect(() => parseIds('')).toThrow('the prompt is empty');
    expect(() => parseIds('1, -2')).toThrow("'-2' is not a token id");
    const logits = [2, 1, 0.5, -3];
    const { probs, softmax } = probabilities(logits);
    expect(softmax).toBe(true);
    const z = logits.map(Math.exp).reduce((a, b) => a + b);
    probs.forEach((p, i) => expect(p).toBeCloseTo(Math.exp(logits[i]!) / z, 12));
    expect(probabilities([0.1, 0.7, 0.2])).toEqual({ probs: [0.1, 0.7, 0.2], softmax: false });
    expect(probabilities([1000, 0]).probs[0]).toBe(1);
    expect(argmax([0.1, 0.7, 0.7, 0.2])).toBe(1);
  });

  it('reads inputs from .npy and .json files', async () => {
    const { parseNpy, valuesFromJson, valuesFromFile } = await lib();
    expect(parseNpy(npy('<f4', [2, 2], new Float32Array([1.5, -2, 3, 4])))).toEqual({ shape: [2, 2], data: [1.5, -2, 3, 4] });
    expect(parseNpy(npy('<i8', [3], new BigInt64Array([1n, -2n, 3n]))).data).toEqual([1, -2, 3]);
    expect(parseNpy(npy('|u1', [], new Uint8Array([7, 0, 0, 0])))).toEqual({ shape: [], data: [7] });
    expect(() => parseNpy(npy('>f4', [1], new Float32Array([1])))).toThrow("dtype '>f4' is not supported");
    expect(() => parseNpy(new TextEncoder().encode('[1, 2]').buffer)).toThrow('not a .npy file');
    expect(valuesFromJson('[[1, 2], [3, "NaN"]]')).toEqual([1, 2, 3, NaN]);
    expect(valuesFromJson('{"dtype": "f32", "shape": [2], "data": [5, 6]}')).toEqual([5, 6]);
    expect(() => valuesFromJson('[1, "x"]')).toThrow('"x" is not a number');
    expect(() => valuesFromJson('{')).toThrow('not valid JSON');
    expect(valuesFromFile('a.NPY', npy('<f8', [2], new Float64Array([1, 2])), 2)).toEqual([1, 2]);
    expect(() => valuesFromFile('a.json', new TextEncoder().encode('[1, 2, 3]').buffer, 2)).toThrow('a.json holds 3 values; the input needs 2');
  });

  it('turns a drawing into a centred, scaled input', async () => {
    const { drawingToInput } = await lib();
    expect(drawingToInput(new Float32Array(100 * 100), 100, 100, 28, 28)).toEqual(new Array(784).fill(0));
    // A filled square in a corner of the canvas becomes a centred square 20 pixels wide.
    const ink = new Float32Array(100 * 100);
    for (let y = 5; y < 25; y++) for (let x = 10; x < 30; x++) ink[y * 100 + x] = 1;
    const out = drawingToInput(ink, 100, 100, 28, 28, { scale: 255 });
    const at = (y: number, x: number) => out[y * 28 + x]!;
    expect(at(14, 14)).toBe(255);
    expect(at(4, 4)).toBe(255);
    expect(at(23, 23)).toBe(255);
    expect(at(3, 14)).toBe(0);
    expect(at(14, 24)).toBe(0);
    expect(out.filter((v) => v === 255).length).toBe(400);
  });

  it('fills in the optional parts of a tokenizer.json, and formats rates and previews', async () => {
    const { tokenizerJsonFilledIn, rate, preview } = await lib();
    expect(tokenizerJsonFilledIn({ model: { vocab: {} } })).toEqual({ model: { vocab: {} }, normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [] });
    expect(() => tokenizerJsonFilledIn([])).toThrow('not a JSON object');
    expect(rate(10, 2000)).toBe('5.00');
    expect(rate(0, 100)).toBe('–');
    expect(preview([1, 2.123456789, 3], 2)).toBe('[1, 2.12346, … (3 values)]');
  });
});
