// A tiny static HTTP server for browser tests: serves one folder on 127.0.0.1 (a secure context, so the page has
// navigator.gpu and crypto.subtle), plus extra in-memory pages (the test harness page) at fixed paths.
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  /** The served folder's URL, ending in '/'. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serve `dir` (and `pages`, path -> HTML) until close(); every response is uncached. */
export async function serveDir(dir: string, pages: Readonly<Record<string, string>> = {}): Promise<StaticServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const send = (status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'GET only');
    const page = pages[path];
    if (page !== undefined) return send(200, page, TYPES['.html']);
    const file = resolve(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return send(403, 'outside the served folder');
    readFile(file).then(
      (bytes) => send(200, bytes, TYPES[extname(file)] ?? 'application/octet-stream'),
      () => send(404, `no ${path}`),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
