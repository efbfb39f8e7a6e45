// Serves the built Svelte UI (out/renderer) on the HTTP port in headless mode, with
// @fastify/static: it resolves paths inside the UI folder only (traversal, directories,
// malformed escapes and dotfiles are its job), and anything it cannot serve is a 404.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { HttpError } from './http-errors.ts';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

export function defaultUiDir(): string {
  return resolve(import.meta.dirname, '../../out/renderer');
}

function securityHeaders(reply: FastifyReply, isIndex: boolean): void {
  reply.header('content-security-policy', CSP);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cache-control', isIndex ? 'no-store' : 'public, max-age=3600');
}

/** The UI routes: `/` (index.html, or a 503 saying how to build it) and every file under the UI folder. */
export function staticUi(dir = defaultUiDir()): (app: FastifyInstance) => Promise<void> {
  const root = resolve(dir);
  return async (app) => {
    await app.register(async (ui) => {
      // Inside the UI folder a refusal (a `..` that survived decoding, a directory) names no
      // file we serve: 404, like any other missing file. Other failures go to the server's mapper.
      ui.setErrorHandler((err, _req, reply) => {
        const status = (err as { statusCode?: number }).statusCode;
        if (typeof status === 'number' && status >= 400 && status < 500) return reply.callNotFound();
        throw err;
      });
      await ui.register(fastifyStatic, {
        root,
        prefix: '/',
        index: false,
        redirect: false,
        list: false,
        dotfiles: 'deny',
        cacheControl: false,
        etag: true,
        decorateReply: true,
        setHeaders: (reply, path) => securityHeaders(reply, path.endsWith('index.html')),
      });
      ui.get('/', async (_req, reply) => {
        if (!existsSync(resolve(root, 'index.html'))) {
          throw new HttpError(
            503,
            'ServiceUnavailable',
            'The Keyport UI has not been built yet. Run `npm run build` (or `npm install`, which builds it) and reload.',
          );
        }
        securityHeaders(reply, true);
        return reply.sendFile('index.html');
      });
    });
  };
}
