// The Messages view and readable decisions (issue 15 items 1 and 2), in Debian chromium at
// 900×600: a message published by mosquitto_pub (credentials from a key made through the API)
// shows its payload and the broker's decision; a CONNECT refused for its address, over WebSocket
// with an X-Forwarded-For chain from the trusted proxy (loopback, the server's default), opens to
// its whole rule and every hop, none of it clipped. Screenshots in test-results/screenshots/.
import { execFile } from 'node:child_process';
import { expect, test, type Locator, type Page } from '@playwright/test';
import mqtt from 'mqtt';
import { openView, rpc as rpcCall, serverInfo } from './server.ts';

const info = serverInfo();
const shots = 'test-results/screenshots';
const rpc = <T>(method: string, req: unknown) => rpcCall<T>(info, method, req);

interface Created {
  accessKey: { id: string; key: string };
  secret: string;
}

function mosquittoPub(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    // 10 s: a publish on loopback takes milliseconds; the kill only ends a hung client.
    const child = execFile('/usr/bin/mosquitto_pub', args, { timeout: 10_000, killSignal: 'SIGKILL' }, (err) => {
      if (err && typeof (err as { code?: unknown }).code === 'string') return reject(new Error(err.message));
      resolve(child.exitCode);
    });
  });
}

/** The element shows all of its text: nothing cut off to the right, inside the window. */
async function expectUnclipped(el: Locator, page: Page): Promise<void> {
  await expect(el).toBeVisible();
  const m = await el.evaluate((n) => ({ sw: n.scrollWidth, cw: n.clientWidth }));
  expect(m.sw).toBeLessThanOrEqual(m.cw);
  const box = await el.boundingBox();
  const vw = page.viewportSize()!.width;
  expect(box).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(vw);
  const text = await el.evaluate((n) => n.textContent ?? '');
  expect(text).not.toMatch(/…$/);
}

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  await page.goto(info.uiUrl); // picks up the admin token from the fragment
});

test.afterAll(async () => {
  await page.close();
});

test('a message published with mosquitto_pub appears with its payload and decision', async () => {
  const device = await rpc<{ id: string }>('devices.create', { name: 'Messages e2e thermostat' });
  const k = await rpc<Created>('keys.create', { name: 'messages-e2e', deviceIds: [device.id], filterType: 'all' });
  await openView(page, info, '#/broker');
  // At 900×600 the sidebar is folded behind the Menu button (below 1000 px): the view is found there.
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('link', { name: 'Messages', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Messages', exact: true })).toBeVisible();
  await expect(page.getByTestId('message-bound')).toContainText('Watching #');
  await expect(page.getByTestId('message-bound')).toContainText('keeps the newest 500');

  const topic = `losant/${device.id}/state`;
  const code = await mosquittoPub([
    ...['-h', '127.0.0.1', '-p', String(info.mqtt), '-i', device.id],
    ...['-u', k.accessKey.key, '-P', k.secret, '-q', '1'],
    ...['-t', topic, '-m', '{"data":{"temp":21.5,"note":"<b>not markup</b>"}}'],
  ]);
  expect(code).toBe(0);

  const row = page.locator(`[data-testid="message-row"][data-topic="${topic}"]`).first();
  await expect(row).toBeVisible();
  await expect(row.getByTestId('message-decision')).toContainText('publish.allowed');
  await expect(row).toContainText('Messages e2e thermostat');
  await expect(row).toContainText('QoS 1');
  await row.getByRole('button', { name: 'Show payload' }).click();
  const payload = row.getByTestId('message-payload-text');
  await expect(payload).toHaveAttribute('data-mode', 'pretty');
  await expect(payload).toContainText('"temp": 21.5');
  await expect(payload).toContainText('<b>not markup</b>'); // shown as text, never as HTML
  await expect(row.locator('b')).toHaveCount(0);
  await expect(row.getByTestId('message-rule')).toBeVisible();
  await row.getByRole('button', { name: 'Hex' }).click();
  await expect(payload).toHaveAttribute('data-mode', 'hex');
  await expect(payload).toContainText('7b 22 64 61 74 61');

  // Search narrows to it; another topic does not match.
  await page.getByRole('searchbox', { name: 'Search topic and payload' }).fill('21.5');
  await expect(row).toBeVisible();
  await page.getByRole('searchbox', { name: 'Search topic and payload' }).fill('no-such-text-anywhere');
  await expect(page.getByTestId('message-row')).toHaveCount(0);
  await page.getByRole('searchbox', { name: 'Search topic and payload' }).fill('');
  await row.getByRole('button', { name: 'Show payload' }).click(); // the row was redrawn: closed again
  await expect(row.getByTestId('message-payload-text')).toContainText('"temp": 21.5');
  await page.screenshot({ path: `${shots}/messages-900x600.png`, fullPage: true });

  // The device page lists it too.
  await openView(page, info, `#/devices/${device.id}`);
  await expect(page.getByTestId('device-messages').getByTestId('message-row').first()).toBeVisible();
});

test('a refused CONNECT through a proxy shows its whole rule and X-Forwarded-For chain at 900×600', async () => {
  const device = await rpc<{ id: string }>('devices.create', { name: 'Behind the proxy' });
  const k = await rpc<Created>('keys.create', {
    name: 'office-only',
    deviceIds: [device.id],
    addressFilterType: 'whitelist',
    addresses: ['10.20.0.0/16'],
  });
  const chain = '203.0.113.7, 198.51.100.23, 192.0.2.200';
  const refused = await new Promise<number>((resolve, reject) => {
    const c = mqtt.connect(`ws://127.0.0.1:${info.ws}/mqtt`, {
      clientId: device.id,
      username: k.accessKey.key,
      password: k.secret,
      reconnectPeriod: 0,
      wsOptions: { headers: { 'x-forwarded-for': chain } },
    });
    c.on('connect', () => reject(new Error('connected, but the address is not in the whitelist')));
    c.on('error', (err: Error & { code?: unknown }) => {
      c.end(true);
      resolve(typeof err.code === 'number' ? err.code : -1);
    });
  });
  expect(refused).toBe(5);
  const [event] = await rpc<Array<{ seq: number; rule: string; sourceAddress: string }>>('decisions.list', {
    deviceId: device.id,
    reason: 'address.denied',
  });
  expect(event).toBeDefined();

  await openView(page, info, '#/decisions');
  const row = page.locator('[data-testid="decision-row"][data-reason="address.denied"]').first();
  await expect(row).toBeVisible();
  await row.getByTestId('decision-open').click();
  const details = page.getByTestId('decision-details').first();
  await expect(details).toBeVisible();
  const rule = details.getByTestId('decision-rule-full');
  await expect(rule).toHaveText(event!.rule);
  await expectUnclipped(rule, page);
  await expect(details.getByTestId('decision-setting')).toContainText('Connection Restrictions');
  await expect(details.getByTestId('decision-source')).toHaveText(event!.sourceAddress);
  const hops = details.getByTestId('decision-xff').locator('li');
  await expect(hops).toHaveText(['203.0.113.7', '198.51.100.23', '192.0.2.200']);
  for (let i = 0; i < 3; i++) await expectUnclipped(hops.nth(i), page);
  await expect(details.getByRole('link', { name: 'office-only' })).toHaveAttribute('href', `#/keys/${k.accessKey.id}`);
  await expect(details.getByRole('link', { name: 'Behind the proxy' })).toHaveAttribute(
    'href',
    `#/devices/${device.id}`,
  );
  await details.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/decision-details-900x600.png` });
});
