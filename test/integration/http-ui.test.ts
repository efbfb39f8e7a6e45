// The headless HTTP server as a browser meets it: the built UI with its CSP, nothing outside the
// UI folder (checked with raw bytes on a socket, so no client-side URL parser can normalise the
// path first), and a bridge that refuses anyone without the admin token.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as connectSocket } from 'node:net';
import WebSocket from 'ws';
import { rawRequest } from '../helpers/raw-http.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
let top: string;
let uiDir: string;
let base: string;
const SECRET_NEXT_DOOR = 'secret-next-to-the-ui-folder';

beforeAll(async () => {
  top = await mkdtemp(join(tmpdir(), 'keyport-ui-'));
  uiDir = join(top, 'ui');
  await mkdir(join(uiDir, 'assets'), { recursive: true });
  await writeFile(join(uiDir, 'index.html'), '<!doctype html><title>Keyport</title>');
  await writeFile(join(uiDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(top, 'keyport.json'), SECRET_NEXT_DOOR);
  h = await startHarness({ uiDir });
  base = `http://127.0.0.1:${h.rt.ports.http}`;
});

afterAll(async () => {
  await h.stop();
  await rm(top, { recursive: true, force: true });
});

describe('static UI', () => {
  it('serves index.html with a CSP that allows only this origin', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toContain('<title>Keyport</title>');
  });

  it('serves files under the UI folder with the same headers', async () => {
    const res = await fetch(`${base}/assets/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await res.text()).toBe('console.log(1)');
  });

  it.each([['/..%2fkeyport.json'], ['/%E0%A4%A'], ['/nope.js'], ['/assets'], ['/assets/']])(
    'answers 404 in Losant shape for %s',
    async (path) => {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(404);
      const body = (await res.json()) as { type: string; message: string };
      expect(body.type).toBe('NotFound');
      expect(JSON.stringify(body)).not.toContain(h.rt.adminToken);
    },
  );

  // fetch() would turn /%2e%2e/x into /x before sending; these go out byte for byte.
  it.each([
    ['/%2e%2e/keyport.json'],
    ['/%2E%2E/keyport.json'],
    ['/../keyport.json'],
    ['/assets/../../keyport.json'],
    ['/..%2fkeyport.json'],
    ['/%2e%2e%2fkeyport.json'],
    ['/assets/%2e%2e/%2e%2e/keyport.json'],
    ['/..%5ckeyport.json'],
  ])('never serves a file outside the UI folder: raw %s', async (path) => {
    const r = await rawRequest(h.rt.ports.http, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${h.rt.ports.http}\r\n\r\n`);
    expect(r.status, r.text).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.text).not.toContain(SECRET_NEXT_DOOR);
  });

  it('the raw request path is really sent as written (so the traversal test above can fail)', async () => {
    const path = '/assets/%2e%2e/index.html';
    // fetch() normalises the dots away and gets index.html…
    expect((await fetch(`${base}${path}`)).status).toBe(200);
    // …while the raw request reaches the server with them, and is refused.
    const r = await rawRequest(h.rt.ports.http, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${h.rt.ports.http}\r\n\r\n`);
    expect(r.status, r.text).toBe(404);
    expect(r.text).not.toContain('<title>Keyport</title>');
  });

  it('says how to build the UI when it is missing', async () => {
    const empty = await startHarness({ uiDir: join(top, 'missing') });
    try {
      const res = await fetch(`http://127.0.0.1:${empty.rt.ports.http}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain('npm run build');
    } finally {
      await empty.stop();
    }
  });
});

describe('UI bridge', () => {
  function connect(
    protocols: string[],
    opts: { path?: string; headers?: Record<string, string> } = {},
  ): Promise<{ ws: WebSocket; opened: boolean; status?: number }> {
    const ws = new WebSocket(`ws://127.0.0.1:${h.rt.ports.http}${opts.path ?? '/bridge'}`, protocols, {
      ...(opts.headers ? { headers: opts.headers } : {}),
    });
    return new Promise((resolve) => {
      ws.once('open', () => resolve({ ws, opened: true }));
      ws.once('unexpected-response', (_req, res) => resolve({ ws, opened: false, status: res.statusCode }));
      ws.once('error', () => resolve({ ws, opened: false }));
    });
  }

  it('refuses a wrong token with 401', async () => {
    const r = await connect(['keyport.bridge', `token.${'0'.repeat(48)}`]);
    expect(r.opened).toBe(false);
    expect(r.status).toBe(401);
  });

  it('refuses the admin token in the URL (where it lands in logs and history) with 401', async () => {
    const r = await connect(['keyport.bridge'], { path: `/bridge?token=${h.rt.adminToken}` });
    expect(r.opened).toBe(false);
    expect(r.status).toBe(401);
  });

  it('answers contract calls with the admin token as a subprotocol, naming only keyport.bridge back', async () => {
    const r = await connect(['keyport.bridge', `token.${h.rt.adminToken}`]);
    expect(r.opened).toBe(true);
    expect(r.ws.protocol).toBe('keyport.bridge');
    const reply = new Promise<unknown>((resolve) =>
      r.ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { id?: number; reply?: unknown };
        if (m.id === 1) resolve(m.reply);
      }),
    );
    r.ws.send(JSON.stringify({ id: 1, method: 'app.info', req: {} }));
    expect(await reply).toMatchObject({ ok: true, result: { applicationId: h.rt.service.applicationId } });
    r.ws.close();
  });

  it('takes the admin token in an Authorization header too (non-browser clients)', async () => {
    const r = await connect([], { headers: { authorization: `Bearer ${h.rt.adminToken}` } });
    expect(r.opened).toBe(true);
    r.ws.close();
  });

  it('refuses a page from another origin with 403 even with the right token', async () => {
    const r = await connect(['keyport.bridge', `token.${h.rt.adminToken}`], {
      headers: { origin: 'http://evil.example' },
    });
    expect(r.opened).toBe(false);
    expect(r.status).toBe(403);
  });

  it('shutdown drops a bridge client that never answers the close handshake (no 30 s wait)', async () => {
    const own = await startHarness({ uiDir });
    const port = own.rt.ports.http;
    const sock = connectSocket(port, '127.0.0.1');
    const upgraded = new Promise<string>((resolve) => {
      let got = '';
      sock.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes('\r\n\r\n')) resolve(got);
      });
    });
    sock.write(
      `GET /bridge HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
        `Sec-WebSocket-Protocol: keyport.bridge, token.${own.rt.adminToken}\r\n\r\n`,
    );
    expect(await upgraded).toMatch(/^HTTP\/1\.1 101/);
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => {});
    // This socket reads nothing and never answers a close frame; stop() must not wait for it
    // (the test's default 20 s timeout is below ws's 30 s close timeout, so waiting would fail).
    await own.stop();
    await closed;
  });
});
