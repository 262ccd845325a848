/**
 * A static file server for a built site, with the headers that make the page cross-origin isolated
 * (COOP same-origin + COEP require-corp: SharedArrayBuffer, hence WebAssembly threads). node:http is
 * enough for static files (no extra dependency for a dev server); `isolation: false` serves the same
 * files without them, to see the single-thread path.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as path from 'node:path';
import { FileError } from '../errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm', // streaming compile needs it
  '.onnx': 'application/octet-stream', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.webp': 'image/webp', '.gif': 'image/gif', '.svg': 'image/svg+xml', '.txt': 'text/plain; charset=utf-8',
};

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export interface SiteServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function serveSite(root: string, o: { port?: number; host?: string; isolation?: boolean } = {}): Promise<SiteServer> {
  const dir = path.resolve(root);
  try {
    await fs.access(path.join(dir, 'index.html'));
  } catch {
    throw new FileError(root, "has no index.html: build a site first with 'vitopt web <model> -o <dir>'");
  }
  const isolation = o.isolation ?? true;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const headers: Record<string, string> = { 'Cache-Control': 'no-cache', ...(isolation ? ISOLATION_HEADERS : {}) };
      let rel: string;
      try {
        rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      } catch {
        res.writeHead(400, headers).end('bad request');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
        return;
      }
      const file = path.join(dir, path.normalize(rel.endsWith('/') ? rel + 'index.html' : rel));
      // Never serve outside the site (path traversal), nor dot-files.
      if (!file.startsWith(dir + path.sep) || path.basename(file).startsWith('.')) {
        res.writeHead(404, headers).end('not found');
        return;
      }
      let size: number;
      try {
        const st = await fs.stat(file);
        if (!st.isFile()) throw new Error('not a file');
        size = st.size;
      } catch {
        res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': String(size) });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    })();
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE'
      ? new FileError(`--port ${o.port}`, 'is already in use') : e));
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
