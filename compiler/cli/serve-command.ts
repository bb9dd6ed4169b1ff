// `kiln serve <artifact>`: a static HTTP server for the demo page (examples/demo/) and one artifact folder, so a
// browser can load the artifact's model.js and run it on navigator.gpu. The page lives at `/`, the artifact under
// `/artifact/`, and the tokenizer library (for decoders that ship tokenizer.json) at `/vendor/tokenizers.mjs`.
// It binds 127.0.0.1 by default: a loopback origin is a secure context, which WebGPU requires. Nothing here
// interprets a request beyond mapping its path into one of those folders; `..` segments are refused outright and a
// path that resolves (symbolic links included) outside its folder is refused too.
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { UsageError } from './errors.js';
import { readManifestFile } from './files.js';
import type { Output } from './ir-commands.js';

/** Content types by extension; anything else is application/octet-stream. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wgsl': 'text/wgsl; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.bin': 'application/octet-stream',
  '.npy': 'application/octet-stream',
  '.pb': 'application/octet-stream',
};

export const ARTIFACT_ROUTE = '/artifact/';
export const TOKENIZER_ROUTE = '/vendor/tokenizers.mjs';

/** examples/demo/ of this kiln: next to the sources (compiler/cli/) or to the build (dist/compiler/cli/). */
export function demoDir(): string {
  for (const up of ['../..', '../../..']) {
    const dir = resolve(import.meta.dirname, up, 'examples/demo');
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new UsageError(`the demo page (examples/demo/index.html) is not part of this kiln installation (looked next to ${import.meta.dirname})`);
}

/** The browser (ES module) build of @huggingface/tokenizers, which the page imports to tokenize text prompts. */
function tokenizerModule(): string | undefined {
  try {
    // Resolved as Node would require it (dist/tokenizers.cjs); the ES module build sits beside it.
    const file = createRequire(import.meta.url).resolve('@huggingface/tokenizers');
    const mjs = extname(file) === '.mjs' ? file : join(dirname(file), 'tokenizers.mjs');
    return existsSync(mjs) ? mjs : undefined;
  } catch {
    return undefined;
  }
}

export interface ServeOptions {
  /** 0: any free port (the URL says which). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** The page's folder (default examples/demo/). */
  readonly pageDir?: string;
}

export interface RunningServer {
  /** The served model's name (from its manifest). */
  readonly model: string;
  /** The page's URL, ending in '/'. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A folder's real path, so that symbolic links inside it cannot lead out of it unnoticed. */
const realRoot = (dir: string): string => realpathSync(resolve(dir));

/**
 * The file `rel` (a decoded URL path below a route, without its leading '/') names inside `root`, or a status to
 * answer instead: 403 for `..` segments, NUL bytes and anything that resolves outside `root`, 404 for no file.
 */
export function resolveInside(root: string, rel: string): string | 403 | 404 {
  if (rel.includes('\0') || rel.split(/[\\/]/).some((segment) => segment === '..')) return 403;
  const path = resolve(root, rel === '' ? '.' : rel);
  if (path !== root && !path.startsWith(root + sep)) return 403;
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return 404;
  }
  if (real !== root && !real.startsWith(root + sep)) return 403;
  try {
    const st = statSync(real);
    if (st.isDirectory()) {
      const index = join(real, 'index.html');
      return existsSync(index) ? index : 404;
    }
    return st.isFile() ? real : 404;
  } catch {
    return 404;
  }
}

/** Serve the demo page and the artifact in `artifactDir` until close(). */
export async function startServer(artifactDir: string, options: ServeOptions = {}): Promise<RunningServer> {
  // Refuse a folder that is not an artifact before listening (the page would only fail to load it).
  const manifest = readManifestFile(artifactDir);
  const artifact = realRoot(artifactDir);
  const page = realRoot(options.pageDir ?? demoDir());
  const tokenizers = tokenizerModule();
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${port}: expected an integer in 0..65535 (0: any free port)`);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : `${body}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(405, 'only GET and HEAD');
    }
    // The path as sent, not as URL parsing would normalise it: a request that spells out '..' is refused, not
    // quietly resolved to some other file.
    const target = req.url ?? '/';
    if (!target.startsWith('/')) return send(400, 'malformed URL');
    let path: string;
    try {
      path = decodeURIComponent(target.replace(/[?#].*$/s, ''));
    } catch {
      return send(400, 'malformed URL');
    }
    if (path.includes('\0') || path.split(/[\\/]/).includes('..')) return send(403, `${JSON.stringify(path)}: outside the served folders`);
    let file: string | 403 | 404;
    if (path === TOKENIZER_ROUTE) file = tokenizers ?? 404;
    else if (path === ARTIFACT_ROUTE.slice(0, -1)) {
      res.writeHead(301, { location: ARTIFACT_ROUTE });
      return void res.end();
    } else if (path.startsWith(ARTIFACT_ROUTE)) file = resolveInside(artifact, path.slice(ARTIFACT_ROUTE.length));
    else file = resolveInside(page, path.slice(1));
    if (file === 403) return send(403, `${JSON.stringify(path)}: outside the served folders`);
    if (file === 404) return send(404, `${JSON.stringify(path)}: not found`);
    const found = file;
    let bytes: number;
    try {
      bytes = statSync(found).size;
    } catch {
      return send(404, `${JSON.stringify(path)}: not found`);
    }
    res.writeHead(200, {
      'content-type': MIME_TYPES[extname(found).toLowerCase()] ?? 'application/octet-stream',
      'content-length': bytes,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(found)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') fail(new UsageError(`port ${port} on ${host} is in use: choose another with --port (0 picks a free one)`));
      else if (e.code === 'EACCES') fail(new UsageError(`no permission to listen on port ${port} on ${host}: choose a port above 1023 with --port`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') fail(new UsageError(`--host ${host}: not an address of this machine`));
      else fail(e);
    });
    server.listen(port, host, () => ok());
  });
  const bound = (server.address() as AddressInfo).port;
  // A wildcard address is reached through loopback on this machine (and only loopback is a secure context).
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    model: manifest.model.name,
    url: `http://${shown}:${bound}/`,
    port: bound,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export interface ServeCommandOptions {
  port?: string;
  host?: string;
}

/** Parse --port: an integer in 0..65535. */
export function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(n) || n > 65535) throw new UsageError(`--port ${text}: expected an integer in 0..65535 (0: any free port)`);
  return n;
}

/**
 * `kiln serve`: start the server, print its URL, and run until SIGINT or SIGTERM (or until `stop` resolves, for
 * callers that are not a terminal); then close it and return 0.
 */
export async function serveCommand(dir: string, opts: ServeCommandOptions, io: Output, stop?: Promise<unknown>): Promise<number> {
  const port = parsePort(opts.port ?? '8080');
  const host = opts.host ?? '127.0.0.1';
  const server = await startServer(dir, { port, host });
  io.out(`serving ${server.model} (${dir}) at ${server.url}`);
  if (!['127.0.0.1', 'localhost', '::1'].includes(host))
    io.err(`note: listening on ${host}: other machines can fetch the artifact, and browsers only offer WebGPU to secure contexts (localhost or https)`);
  io.err('press Ctrl+C to stop');
  let onSignal: () => void = () => {};
  const signalled = new Promise<void>((ok) => {
    onSignal = () => ok();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    await Promise.race(stop ? [signalled, stop] : [signalled]);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server.close();
  }
  io.err('stopped');
  return 0;
}

/** Add `kiln serve <artifact> [--port N] [--host H]` to `program`. */
export function registerServe(program: Command, io: Output, setCode: (code: number) => void): void {
  program
    .command('serve <artifact>')
    .description('serve a demo page that runs the artifact in the browser (WebGPU): a prompt box for decoders, a drawing canvas for image classifiers, file inputs otherwise')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on (browsers give WebGPU only to localhost or https pages)', '127.0.0.1')
    .action(async (dir: string, opts: ServeCommandOptions) => setCode(await serveCommand(dir, opts, io)));
}
