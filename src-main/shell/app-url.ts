// Which URLs are "the app": the built renderer's index.html (file://) or, in development only,
// the electron-vite dev server (ELECTRON_RENDERER_URL). The IPC gateway and the navigation guard
// both ask this one question, so they can never disagree about it.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AppLocation {
  /** Absolute path of out/renderer/index.html. */
  indexHtml: string;
  /** The dev server URL; pass it only in an unpackaged build (a packaged app must not trust an env var). */
  devServerUrl?: string | undefined;
}

export interface AppUrl {
  /** What the window loads. */
  readonly entry: { kind: 'url'; url: string } | { kind: 'file'; path: string };
  /** True only for a URL that belongs to the app (query string and #fragment ignored). */
  isAppUrl(url: string): boolean;
  /** The IPC sender check: a live frame whose URL is the app's. */
  isAppFrame(frame: { readonly url: string } | null): boolean;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

function sameFile(u: URL, file: string): boolean {
  if (u.protocol !== 'file:') return false;
  try {
    return resolve(fileURLToPath(u)) === file;
  } catch {
    return false; // e.g. file://host/share on POSIX
  }
}

export function createAppUrl(loc: AppLocation): AppUrl {
  const indexHtml = resolve(loc.indexHtml);
  const dev = loc.devServerUrl ? parse(loc.devServerUrl) : null;
  if (dev && dev.protocol !== 'http:' && dev.protocol !== 'https:')
    throw new Error(`ELECTRON_RENDERER_URL must be an http(s) URL, got ${JSON.stringify(loc.devServerUrl)}`);
  const isAppUrl = (url: string): boolean => {
    const u = parse(url);
    if (!u) return false;
    // In development the dev server's origin is the app (it serves index.html and the modules).
    if (dev) return u.origin === dev.origin;
    return sameFile(u, indexHtml);
  };
  return {
    entry: dev ? { kind: 'url', url: dev.href } : { kind: 'file', path: indexHtml },
    isAppUrl,
    isAppFrame: (frame) => frame !== null && typeof frame.url === 'string' && isAppUrl(frame.url),
  };
}
