// The headless HTTP server as a browser meets it: the built UI with its CSP, nothing outside the
// UI folder, and a bridge that refuses anyone without the admin token.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
let uiDir: string;
let base: string;

beforeAll(async () => {
  uiDir = await mkdtemp(join(tmpdir(), 'keyport-ui-'));
  await writeFile(join(uiDir, 'index.html'), '<!doctype html><title>Keyport</title>');
  h = await startHarness({ uiDir });
  base = `http://127.0.0.1:${h.rt.ports.http}`;
});

afterAll(async () => {
  await h.stop();
  await rm(uiDir, { recursive: true, force: true });
});

describe('static UI', () => {
  it('serves index.html with a CSP that allows only this origin', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await res.text()).toContain('<title>Keyport</title>');
  });

  it.each([['/..%2fkeyport.json'], ['/%2e%2e/admin-token'], ['/%E0%A4%A'], ['/nope.js']])(
    'answers 404 for %s',
    async (path) => {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain(h.rt.adminToken);
    },
  );

  it('says how to build the UI when it is missing', async () => {
    const empty = await startHarness({ uiDir: join(uiDir, 'missing') });
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
  function connect(token: string): Promise<{ ws: WebSocket; opened: boolean; status?: number }> {
    const ws = new WebSocket(`ws://127.0.0.1:${h.rt.ports.http}/bridge?token=${token}`);
    return new Promise((resolve) => {
      ws.once('open', () => resolve({ ws, opened: true }));
      ws.once('unexpected-response', (_req, res) => resolve({ ws, opened: false, status: res.statusCode }));
      ws.once('error', () => resolve({ ws, opened: false }));
    });
  }

  it('refuses a wrong token with 401', async () => {
    const r = await connect('0'.repeat(48));
    expect(r.opened).toBe(false);
    expect(r.status).toBe(401);
  });

  it('answers contract calls with the admin token', async () => {
    const r = await connect(h.rt.adminToken);
    expect(r.opened).toBe(true);
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
});
