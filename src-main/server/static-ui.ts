// Serves the built Svelte UI (out/renderer) on the HTTP port in headless mode.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Route } from './http-server.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

export function defaultUiDir(): string {
  return resolve(import.meta.dirname, '../../out/renderer');
}

export function staticUi(dir = defaultUiDir()): Route {
  const root = resolve(dir);
  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return false; // not a file name we could have: 404
    }
    const file = normalize(join(root, decoded));
    if (!file.startsWith(root + sep)) return false;
    if (!existsSync(file)) {
      if (path !== '/index.html') return false;
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(
        'The Keyport UI has not been built yet. Run `npm run build` (or `npm install`, which builds it) and reload.\n',
      );
      return true;
    }
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': path === '/index.html' ? 'no-store' : 'public, max-age=3600',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
