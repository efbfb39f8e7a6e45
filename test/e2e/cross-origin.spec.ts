// A hostile page on another loopback port (a second HTTP server started here) tries the Keyport
// port: /rpc, the WebSocket bridge (even with the right token) and the Losant API. Every attempt
// is refused with 403 by the server (its answers as the browser saw them, and its log lines),
// while the real UI on the Keyport origin keeps working over the same bridge.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openView, rpc, serverInfo, serverLog } from './server.ts';

const info = serverInfo();
let evil: Server;
let evilOrigin = '';

test.beforeAll(async () => {
  evil = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>not keyport</title><p>hello</p>');
  });
  evil.listen(0, '127.0.0.1');
  await once(evil, 'listening');
  const a = evil.address();
  evilOrigin = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

test.afterAll(async () => {
  evil.close();
  await once(evil, 'close');
});

test('a page from another origin cannot call /rpc, the bridge or the Losant API: 403 each', async ({ page }) => {
  const target = `http://127.0.0.1:${info.http}`;
  const statuses = new Map<string, number>();
  page.on('response', (r) => {
    if (r.url().startsWith(target)) statuses.set(new URL(r.url()).pathname, r.status());
  });
  await page.goto(evilOrigin);
  // Even a page that somehow learnt the admin token gets nowhere.
  const token = readFileSync(info.adminTokenFile, 'utf8').trim();
  const outcome = await page.evaluate(
    async ({ target, token, appId }) => {
      const simple = (path: string, body: string) =>
        fetch(target + path, { method: 'POST', mode: 'no-cors', body }).then(
          () => 'sent',
          (e: Error) => `failed: ${e.message}`,
        );
      const rpc = await simple('/rpc/app.info', '{}');
      const auth = await simple('/auth/device', '{"deviceId":"x","key":"k","secret":"s"}');
      const keys = await fetch(`${target}/applications/${appId}/keys`, {
        headers: { authorization: `Bearer ${token}` },
      }).then(
        (r) => `read ${r.status}`,
        () => 'blocked',
      );
      const bridge = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`${target.replace('http', 'ws')}/bridge`, ['keyport.bridge', `token.${token}`]);
        ws.onopen = () => resolve('open');
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      });
      return { rpc, auth, keys, bridge };
    },
    { target, token, appId: info.applicationId },
  );
  // The page itself learns nothing: the bridge never opens and the API cannot be read.
  expect(outcome.bridge).toBe('closed 1006');
  expect(outcome.keys).toBe('blocked');
  // What the server answered, as the browser saw it on the wire.
  expect(statuses.get('/rpc/app.info')).toBe(403);
  expect(statuses.get('/auth/device')).toBe(403);
  // And the server's log names each refusal and the page's origin.
  await expect
    .poll(() => {
      const log = serverLog();
      return [
        'POST /rpc/app.info',
        'POST /auth/device',
        `/applications/${info.applicationId}/keys`,
        'GET /bridge',
      ].filter(
        (what) => !log.split('\n').some((l) => l.includes('refused') && l.includes(what) && l.includes(evilOrigin)),
      );
    })
    .toEqual([]);
});

test('the real UI on the Keyport origin still works over the bridge', async ({ page }) => {
  const name = `cross-origin check ${Date.now()}`;
  const device = await rpc<{ id: string }>(info, 'devices.create', { name });
  try {
    await page.goto(info.uiUrl);
    await openView(page, info, '#/devices');
    await expect(page.getByText(name)).toBeVisible();
    await expect(page.getByText(/unauthori[sz]ed/i)).toHaveCount(0);
  } finally {
    // The specs share one server and keys-flow starts from an empty app.
    await rpc(info, 'devices.delete', { id: device.id });
  }
});
