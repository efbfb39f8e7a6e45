// A fake Electron release for the `npm start` tests: a loopback HTTP server (port 0) standing in
// for ELECTRON_MIRROR, serving a zip named the way @electron/get asks for it
// (electron-v<version>-<platform>-<arch>.zip under <mirror>/v<version>/) and its SHASUMS256.txt,
// and a throw-away copy of node_modules/electron to install into, so the real one is never touched.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeZip } from './zip.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const REAL_ELECTRON_DIR = join(ROOT, 'node_modules', 'electron');
export const ELECTRON_VERSION: string = JSON.parse(
  readFileSync(join(REAL_ELECTRON_DIR, 'package.json'), 'utf8'),
).version;
/** The file name @electron/get builds: artifactName-version-platform-arch.zip (artifact-utils.js). */
export const ZIP_NAME = `electron-v${ELECTRON_VERSION}-${process.platform}-${process.arch}.zip`;

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/**
 * The stand-in `electron`: a Node script that records what electron-vite launched it with
 * (arguments, working directory, the dev-server URL and whether that server answers with the
 * renderer's page) into $KEYPORT_STANDIN_RECORD, then exits 0 as a closed window would.
 */
export function standInZip(version = ELECTRON_VERSION): Buffer {
  const script = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
(async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(process.cwd(), 'package.json'), 'utf8'));
  const rec = {
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    main: pkg.main,
    mainExists: fs.existsSync(path.resolve(process.cwd(), pkg.main)),
    mainMtimeMs: fs.existsSync(path.resolve(process.cwd(), pkg.main)) ? fs.statSync(path.resolve(process.cwd(), pkg.main)).mtimeMs : null,
    rendererUrl: process.env.ELECTRON_RENDERER_URL ?? null,
    nodeEnvElectronVite: process.env.NODE_ENV_ELECTRON_VITE ?? null,
    renderer: null,
  };
  if (rec.rendererUrl) {
    const res = await fetch(rec.rendererUrl);
    const html = await res.text();
    rec.renderer = { status: res.status, hasAppRoot: html.includes('<div id="app">') };
  }
  fs.writeFileSync(process.env.KEYPORT_STANDIN_RECORD, JSON.stringify(rec));
})().catch((e) => { fs.writeFileSync(process.env.KEYPORT_STANDIN_RECORD, JSON.stringify({ error: String(e) })); process.exit(3); });
`;
  return makeZip([
    { name: 'electron', data: script, mode: 0o755 },
    { name: 'version', data: version },
    { name: 'LICENSE', data: 'stand-in for tests\n' },
  ]);
}

export interface FakeMirror {
  /** Base URL to use as ELECTRON_MIRROR (ends with '/'). */
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves `files` (path under the mirror root → body); anything else is a 404. */
export async function startFakeMirror(files: Record<string, Buffer | string>): Promise<FakeMirror> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\//, '');
    requests.push(path);
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not here\n');
      return;
    }
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': buf.length });
    res.end(buf);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on: bound to learn a free number, then closed again. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A scratch copy of the electron package (its package.json, checksums.json, install.js…, not
 * its node_modules) to install into, and a scratch download cache.
 */
export function scratchElectron(): { base: string; dir: string; cache: string } {
  const base = mkdtempSync(join(tmpdir(), 'keyport-electron-'));
  const dir = join(base, 'electron');
  cpSync(REAL_ELECTRON_DIR, dir, {
    recursive: true,
    filter: (src) =>
      !src.startsWith(join(REAL_ELECTRON_DIR, 'node_modules')) &&
      !src.startsWith(join(REAL_ELECTRON_DIR, 'dist')) &&
      src !== join(REAL_ELECTRON_DIR, 'path.txt'),
  });
  return { base, dir, cache: join(base, 'cache') };
}
