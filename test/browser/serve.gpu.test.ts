// The demo page `kiln serve` serves, driven in headless Chromium (WebGPU on SwiftShader): for mnist-8 it shows the
// class and probabilities that Node computes from the same artifact; for a decoder it streams, token by token, the
// greedy tokens Node's session.generate returns (from ids, and from a text prompt through the shipped
// tokenizer.json). Screenshots of both pages go to test-output/.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../compiler/cli/serve-command.js';
import { compileGraph, compileProgram } from '../../compiler/compile.js';
import { writeArtifact } from '../../compiler/emit/write.js';
import { loadTokenizer } from '../../compiler/tokenizer.js';
import { importHf, importOnnx, parseKir, readTensorProtoFile } from '../../ir/index.js';
import { Session } from '../../runtime/index.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';
import { promptIds, tempCheckpoint } from '../import/hf-fixtures.js';
import { launchChromium } from './browser-harness.js';

const TIMEOUT = 180_000;
const SCREENSHOTS = resolve(import.meta.dirname, '../../test-output');

interface Demo {
  readonly page: Page;
  /** The page's console and errors so far, for failure messages. */
  readonly log: string[];
  close(): Promise<void>;
}

/** Serve `dir` as `kiln serve` does, open the demo page in Chromium and wait until the model is loaded. */
async function openDemo(dir: string): Promise<Demo> {
  const server: RunningServer = await startServer(dir, { port: 0 });
  const browser = await launchChromium().catch(async (e: unknown) => {
    await server.close();
    throw e;
  });
  const log: string[] = [];
  const close = async (): Promise<void> => {
    await browser.close();
    await server.close();
  };
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.setViewportSize({ width: 1100, height: 900 });
    page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => log.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    await page.goto(server.url);
    await page.waitForSelector('#status[data-state="ready"], #status[data-state="error"]', { timeout: 120_000 });
    const state = await page.getAttribute('#status', 'data-state');
    if (state !== 'ready') throw new Error(`the page did not load the model: ${await page.textContent('#status')} ${await page.textContent('#error')}`);
    return { page, log, close };
  } catch (e) {
    await close();
    throw new Error(`${(e as Error).message}${log.length ? `\n${log.join('\n')}` : ''}`);
  }
}

/** Wait until `selector`'s data-state is done (or fail with what the page shows). */
async function waitDone(demo: Demo, selector: string): Promise<void> {
  await demo.page.waitForSelector(`${selector}[data-state="done"], ${selector}[data-state="error"]`, { timeout: 120_000 });
  if ((await demo.page.getAttribute(selector, 'data-state')) !== 'done')
    throw new Error(`the page failed: ${await demo.page.textContent('#error')}\n${demo.log.join('\n')}`);
}

function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe.runIf(haveShared())('kiln serve: mnist-8 demo page', () => {
  const model = haveShared() ? join(sharedDir()!, 'models/mnist-8') : '';
  let dir = '';
  let demo: Demo | undefined;
  beforeAll(() => {
    const { graph } = importOnnx(join(model, 'model.onnx'));
    dir = join(mkdtempSync(join(tmpdir(), 'kiln-serve-mnist-')), 'artifact');
    writeArtifact(dir, compileGraph(graph, { source: 'model.onnx' }));
  }, TIMEOUT);
  afterAll(() => demo?.close());

  it('shows the class and probabilities Node computes for test_data_set_0, and a screenshot', async () => {
    const input = readTensorProtoFile(join(model, 'reference/test_data_set_0/input_0.pb'));
    const pixels = Array.from(input.data as ArrayLike<number>, Number);
    const session = await Session.load(dir);
    let logits: number[];
    try {
      const out = await session.run({ [session.inputs[0]!.name]: pixels });
      logits = Array.from(Object.values(out)[0]!.data as ArrayLike<number>, Number);
    } finally {
      session.dispose();
    }
    const probs = softmax(logits);
    const best = probs.indexOf(Math.max(...probs));
    expect(best).toBe(0); // the reference image is a 0

    demo = await openDemo(dir);
    const { page } = demo;
    expect(await page.getAttribute('body', 'data-mode')).toBe('classifier');
    await page.click('#input-json-box summary');
    await page.fill('#input-json', JSON.stringify(pixels));
    await page.click('#load-input');
    await waitDone(demo, '#result');

    const shownClass = Number(await page.textContent('#predicted-class'));
    // Each row: class, probability, bar (no text).
    const cells = await page.locator('#probs tbody td').allTextContents();
    const shown = Array.from({ length: cells.length / 3 }, (_, r) => [Number(cells[3 * r]), Number(cells[3 * r + 1])] as const);
    console.log(`mnist-8 in the demo page: class ${shownClass}; probabilities ${shown.map(([, p]) => p).join(', ')}`);
    expect(shownClass).toBe(best);
    expect(shown.map(([c]) => c)).toEqual(probs.map((_, c) => c));
    shown.forEach(([, p], c) => expect(Math.abs(p - probs[c]!), `class ${c}: page ${p}, node ${probs[c]}`).toBeLessThanOrEqual(1e-4));
    expect(await page.textContent('#prob-note')).toContain('softmax');

    await page.click('#input-json-box summary'); // folded again: the screenshot shows the digit, not 784 numbers
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'serve-mnist.png'), fullPage: true });
  }, TIMEOUT);

  it('classifies what is drawn on the canvas with the pointer', async () => {
    const { page } = demo!;
    await page.click('#clear');
    const box = (await page.locator('#draw').boundingBox())!;
    // A vertical stroke: a 1.
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.07 * i));
    await page.mouse.up();
    await waitDone(demo!, '#result');
    expect(await page.locator('#probs tbody tr').count()).toBe(10);
    const shownClass = Number(await page.textContent('#predicted-class'));
    console.log(`mnist-8 in the demo page: a drawn vertical stroke reads as ${shownClass}`);
    expect(shownClass).toBe(1);
  }, TIMEOUT);
});

describe('kiln serve: decoder demo page', () => {
  const ckpt = tempCheckpoint('llama', 'tiny');
  const STEPS = 12;
  let dir = '';
  let prompt: number[] = [];
  let demo: Demo | undefined;
  beforeAll(() => {
    const model = importHf(ckpt.configPath, { weights: ckpt.weightsPath, maxSeq: 32, chunk: 8 });
    prompt = promptIds(10, model.generation!.vocabSize);
    expect(ckpt.tokenizerPath).toBeDefined();
    dir = join(mkdtempSync(join(tmpdir(), 'kiln-serve-gen-')), 'artifact');
    writeArtifact(
      dir,
      compileProgram({ name: 'llama', entries: model.entries, generation: model.generation!, tokenizer: new Uint8Array(readFileSync(ckpt.tokenizerPath!)) }),
    );
  }, TIMEOUT);
  afterAll(() => demo?.close());

  /** Node's greedy tokens for `ids`, as `kiln generate` produces them. */
  async function nodeTokens(ids: readonly number[]): Promise<number[]> {
    const session = await Session.load(dir);
    try {
      return await session.generate(ids, { maxNewTokens: STEPS });
    } finally {
      session.dispose();
    }
  }

  /** Generate in the page; the tokens it shows, and how many times new tokens appeared (streaming: once each). */
  async function generateInPage(page: Page): Promise<{ tokens: number[]; appearances: number }> {
    await page.fill('#max-new-tokens', String(STEPS));
    // Counts the times tokens appear: a callback per batch of DOM changes, so one per token only when they stream.
    await page.evaluate(`(() => {
      window.tokenObserver?.disconnect();
      window.appearances = 0;
      window.tokenObserver = new MutationObserver((records) => {
        if (records.some((r) => r.addedNodes.length > 0)) window.appearances++;
      });
      window.tokenObserver.observe(document.getElementById('gen-tokens'), { childList: true });
    })()`);
    await page.click('#generate');
    await waitDone(demo!, '#generation');
    const tokens = (await page.locator('#gen-tokens span').allTextContents()).map(Number);
    const appearances = Number(await page.evaluate('window.appearances'));
    return { tokens, appearances };
  }

  it('streams the greedy tokens Node generates from prompt ids, with tokens/s, and a screenshot', async () => {
    const want = await nodeTokens(prompt);
    expect(want.length).toBeGreaterThan(1);
    demo = await openDemo(dir);
    const { page } = demo;
    expect(await page.getAttribute('body', 'data-mode')).toBe('decoder');
    await page.check('input[name="prompt-kind"][value="ids"]');
    await page.fill('#prompt-ids', prompt.join(', '));
    const { tokens, appearances } = await generateInPage(page);
    console.log(`decoder in the demo page: ${tokens.join(' ')} (${appearances} updates); ${await page.textContent('#gen-stats')}`);
    expect(tokens).toEqual(want);
    // Each token was shown as it came, not all at the end.
    expect(appearances).toBe(tokens.length);
    expect(await page.textContent('#gen-stats')).toMatch(/\d+ new .* [\d.]+ tokens\/s/);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'serve-decoder.png'), fullPage: true });
  }, TIMEOUT);

  it('tokenizes a text prompt as kiln generate --prompt does, and shows the same tokens and text', async () => {
    const tokenizer = await loadTokenizer(join(dir, 'tokenizer.json'));
    const text = 'hello the world';
    const ids = tokenizer.encode(text);
    const want = await nodeTokens(ids);
    const { page } = demo!;
    await page.check('input[name="prompt-kind"][value="text"]');
    await page.fill('#prompt-text', text);
    const { tokens } = await generateInPage(page);
    expect((await page.locator('#gen-prompt span').allTextContents()).map(Number)).toEqual(ids);
    expect(tokens).toEqual(want);
    expect(await page.textContent('#gen-text')).toBe(tokenizer.decode(want));
    await page.screenshot({ path: join(SCREENSHOTS, 'serve-decoder-text.png'), fullPage: true });
  }, TIMEOUT);
});

describe('kiln serve: the page for any other model', () => {
  const GRAPH = `graph @serve_generic(%x: f32[2,3], %y: f32[3]) {
  const %c: f32[3] = [1, 2, 3]
  %a = Add(%x, %y)
  %b = Mul(%a, %c)
  %e = Tanh(%b)
  return %e, %b
}`;

  /** A version 1.0 .npy file of float32 values. */
  function npyF32(shape: number[], values: number[]): Buffer {
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    header += `${' '.repeat(63 - ((10 + header.length) % 64))}\n`;
    const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
    return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(new Float32Array(values).buffer)]);
  }

  it('takes one input from a .npy file and one as JSON, and shows the outputs Node computes', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kiln-serve-generic-')), 'artifact');
    writeArtifact(dir, compileGraph(parseKir(GRAPH, 'serve-generic.kir'), { source: 'serve-generic.kir' }));
    const x = [1, -2, 3, 0.5, 5, -6];
    const y = [0.5, -1, 0.25];
    const session = await Session.load(dir);
    let want: Record<string, number[]>;
    try {
      const out = await session.run({ x, y });
      want = Object.fromEntries(Object.entries(out).map(([k, o]) => [k, Array.from(o.data as ArrayLike<number>, Number)]));
    } finally {
      session.dispose();
    }
    const demo = await openDemo(dir);
    try {
      const { page } = demo;
      expect(await page.getAttribute('body', 'data-mode')).toBe('generic');
      await page.setInputFiles('[data-input="x"] input[type="file"]', { name: 'x.npy', mimeType: 'application/octet-stream', buffer: npyF32([2, 3], x) });
      await expect.poll(() => page.textContent('[data-input="x"] .stats')).toContain('x.npy: 6 values');
      await page.fill('textarea[data-input="y"]', JSON.stringify(y));
      await page.click('#run');
      await waitDone(demo, '#generic-result');
      for (const [name, values] of Object.entries(want)) {
        const text = await page.textContent(`[data-output="${name}"] pre`);
        const shown = JSON.parse(text!) as number[];
        expect(shown.length, name).toBe(values.length);
        // Shown at 6 significant digits.
        shown.forEach((v, i) => expect(Math.abs(v - values[i]!), `${name}[${i}]: page ${v}, node ${values[i]}`).toBeLessThanOrEqual(5e-6 * Math.abs(values[i]!) + 1e-12));
        expect(await page.textContent(`[data-output="${name}"] .label`)).toBe(`${name}: f32[2, 3]`);
      }
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, 'serve-generic.png'), fullPage: true });
    } finally {
      await demo.close();
    }
  }, TIMEOUT);
});
