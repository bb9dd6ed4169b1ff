// Run a compiled artifact directory in headless Chromium exactly as a web page would (the page imports the
// artifact's model.js over HTTP; the runtime fetches manifest, kernels and weights relative to it and runs on
// navigator.gpu), run the same directory in Node through a runtime Session, and compare every output.
// Chromium is the system's (/usr/bin/chromium, or KILN_CHROMIUM); playwright-core drives it and never downloads one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { Session } from '../../runtime/index.js';
import { serveDir } from './static-server.js';

export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags that give headless Chromium a WebGPU adapter on a machine without a GPU. Chromium does not expose CPU
 * Vulkan devices (lavapipe), so the adapter is SwiftShader (Vulkan on the CPU, bundled with Chromium).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Outputs as plain data (what crosses the page boundary). */
export type PlainOutputs = Record<string, { dtype: string; shape: number[]; data: number[] }>;

export interface ArtifactRun {
  /** The adapter the run used ("vendor / architecture / device / description", plus "(fallback)" when so). */
  readonly adapter: string;
  readonly outputs: PlainOutputs;
}

const HARNESS_PAGE = '/__kiln_harness__.html';
// The page's script is plain JS served with the page, so nothing the test runner does to TypeScript reaches it.
const HARNESS_HTML = `<!doctype html><meta charset="utf-8"><title>kiln artifact</title>
<script type="module">
window.kilnRun = async (feeds) => {
  const adapter = await navigator.gpu?.requestAdapter();
  const fallback = adapter?.info?.isFallbackAdapter ?? adapter?.isFallbackAdapter ? ' (fallback)' : '';
  const { load } = await import('./model.js');
  const model = await load();
  try {
    const out = await model.run(feeds);
    const outputs = {};
    for (const [name, o] of Object.entries(out)) outputs[name] = { dtype: o.dtype, shape: [...o.shape], data: Array.from(o.data, Number) };
    return { adapter: model.session.adapterInfo + fallback, outputs };
  } finally {
    model.dispose();
  }
};
window.kilnGenerate = async (ids, options) => {
  const { load } = await import('./model.js');
  const model = await load();
  try {
    return { adapter: model.session.adapterInfo, tokens: await model.generate(ids, options) };
  } finally {
    model.dispose();
  }
};
window.kilnReady = true;
</script>`;

/** Launch the system Chromium with a fresh profile; close() also removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'kiln-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
    return {
      context,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`cannot start Chromium at ${CHROMIUM} (install it: apt-get install chromium): ${(e as Error).message}`);
  }
}

const plainFeeds = (feeds: Readonly<Record<string, ArrayLike<number | bigint>>>): Record<string, number[]> =>
  Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Array.from(v, Number)]));

/** Serve `dir`, open the harness page, and evaluate `fn(arg)` in it (errors carry the page's console log). */
async function inArtifactPage<A, R>(dir: string, fn: (arg: A) => Promise<R>, arg: A): Promise<R> {
  const server = await serveDir(dir, { [HARNESS_PAGE]: HARNESS_HTML });
  const browser = await launchChromium();
  const log: string[] = [];
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => log.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    await page.goto(new URL(HARNESS_PAGE.slice(1), server.url).href);
    await page.waitForFunction(() => (globalThis as { kilnReady?: boolean }).kilnReady === true);
    try {
      return (await page.evaluate(fn as never, arg as never)) as R;
    } catch (e) {
      throw new Error(`the artifact failed in Chromium: ${(e as Error).message}${log.length ? `\n${log.join('\n')}` : ''}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

/** Serve `dir`, open a page that imports its model.js, run it on `feeds` and return the outputs. */
export function runArtifactInBrowser(dir: string, feeds: Readonly<Record<string, ArrayLike<number | bigint>>>): Promise<ArtifactRun> {
  const run = (f: Record<string, number[]>): Promise<ArtifactRun> => (globalThis as unknown as { kilnRun(f: unknown): Promise<ArtifactRun> }).kilnRun(f);
  return inArtifactPage(dir, run, plainFeeds(feeds));
}

export interface GenerateRun {
  readonly adapter: string;
  readonly tokens: number[];
}

/** Serve a decoder artifact, and generate from `ids` in the page through model.js's generate(). */
export function generateInBrowser(dir: string, ids: readonly number[], options: Record<string, number | boolean>): Promise<GenerateRun> {
  const gen = (a: { ids: number[]; options: Record<string, number | boolean> }): Promise<GenerateRun> =>
    (globalThis as unknown as { kilnGenerate(i: number[], o: unknown): Promise<GenerateRun> }).kilnGenerate(a.ids, a.options);
  return inArtifactPage(dir, gen, { ids: [...ids], options });
}

/** Run `dir` in Node through a runtime Session on its own device. */
export async function runArtifactInNode(dir: string, feeds: Readonly<Record<string, ArrayLike<number | bigint>>>): Promise<ArtifactRun> {
  const session = await Session.load(dir);
  try {
    const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Array.from(v, Number)])));
    const outputs: PlainOutputs = {};
    for (const [name, o] of Object.entries(out)) outputs[name] = { dtype: o.dtype, shape: [...o.shape], data: Array.from(o.data, Number) };
    return { adapter: session.adapterInfo, outputs };
  } finally {
    session.dispose();
  }
}

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

/** Problems where `got` differs from `want` beyond |got - want| <= atol + rtol*|want| (NaN equals NaN), and the max abs diff. */
export function compareOutputs(got: PlainOutputs, want: PlainOutputs, tol: Tolerance): { problems: string[]; maxAbsDiff: number } {
  const problems: string[] = [];
  let maxAbsDiff = 0;
  for (const [name, w] of Object.entries(want)) {
    const g = got[name];
    if (!g) {
      problems.push(`output ${name} is missing`);
      continue;
    }
    if (g.dtype !== w.dtype || g.shape.join() !== w.shape.join()) {
      problems.push(`output ${name}: ${g.dtype}[${g.shape}] vs ${w.dtype}[${w.shape}]`);
      continue;
    }
    w.data.forEach((y, i) => {
      const x = g.data[i]!;
      if (Number.isNaN(x) && Number.isNaN(y)) return;
      const d = x === y ? 0 : Math.abs(x - y);
      if (Number.isFinite(d)) maxAbsDiff = Math.max(maxAbsDiff, d);
      if (!(d <= tol.atol + tol.rtol * Math.abs(y))) problems.push(`output ${name}[${i}]: ${x} vs ${y}`);
    });
  }
  for (const name of Object.keys(got)) if (!(name in want)) problems.push(`unexpected output ${name}`);
  return { problems, maxAbsDiff };
}

export interface BrowserCheck {
  readonly browser: ArtifactRun;
  readonly node: ArtifactRun;
  readonly maxAbsDiff: number;
}

/**
 * Run the artifact directory `dir` in headless Chromium and in Node on the same feeds; throw unless every output
 * agrees within `tol` (default rtol 1e-5, atol 1e-6: the same WGSL on two adapters differs only in rounding).
 */
export async function checkArtifactInBrowser(
  dir: string,
  feeds: Readonly<Record<string, ArrayLike<number | bigint>>>,
  tol: Tolerance = { rtol: 1e-5, atol: 1e-6 },
): Promise<BrowserCheck> {
  const browser = await runArtifactInBrowser(dir, feeds);
  const node = await runArtifactInNode(dir, feeds);
  const { problems, maxAbsDiff } = compareOutputs(browser.outputs, node.outputs, tol);
  if (problems.length)
    throw new Error(
      `${dir}: Chromium (${browser.adapter}) and Node (${node.adapter}) disagree beyond rtol ${tol.rtol}, atol ${tol.atol}:\n${problems.slice(0, 20).join('\n')}${problems.length > 20 ? `\n... (${problems.length} in all)` : ''}`,
    );
  return { browser, node, maxAbsDiff };
}
