// The Broker view's "Losant limits" switch (issue 14, docs/design.md §7a): toggling it stores the
// mode in <data>/settings.json and the page shows it after a reload, and a burst of 31 messages on
// one topic from a real mqtt.js client is limited (limit.topic-rate) only while it is on. Then the
// "Rate limit" demo scenario runs from the Simulator view. The shared server starts with
// `--limits off`; this spec leaves it off again for the specs after it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import mqtt, { type MqttClient } from 'mqtt';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import { openView, rpc as rpcCall, serverInfo } from './server.ts';

const info = serverInfo();
const rpc = <T>(method: string, req: unknown) => rpcCall<T>(info, method, req);
const settings = () => JSON.parse(readFileSync(join(info.dataDir, 'settings.json'), 'utf8')) as { limits?: string };

test.describe.configure({ mode: 'serial' });

let page: Page;
const clients: MqttClient[] = [];

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await page.goto(info.uiUrl); // picks up the admin token from the fragment
});

test.afterAll(async () => {
  for (const c of clients) c.end(true);
  await rpc('broker.setLimits', { mode: 'off' }); // the later specs publish fast
  await page.close();
});

/** A device with its own single-device key, connected with mqtt.js over TCP. */
async function connectedDevice(name: string): Promise<{ id: string; c: MqttClient }> {
  const d = await rpc<Device>('devices.create', { name });
  const k = await rpc<{ accessKey: AccessKey; secret: string }>('keys.create', { deviceIds: [d.id] });
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${info.mqtt}`, {
    clientId: d.id,
    username: k.accessKey.key,
    password: k.secret,
    reconnectPeriod: 0,
  });
  clients.push(c);
  return { id: d.id, c };
}

/** 31 QoS 1 state reports, each acknowledged before the next; stops early when the broker closes. */
async function burst(c: MqttClient, id: string): Promise<void> {
  const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
  for (let i = 0; i < 31 && c.connected; i++) {
    const acked = c.publishAsync(`losant/${id}/state`, JSON.stringify({ data: { n: i } }), { qos: 1 });
    // The 31st is never acknowledged when limits are on: the broker closes the connection instead.
    await Promise.race([acked, closed]);
  }
}

const decisions = (deviceId: string, reason: string) =>
  rpc<DecisionEvent[]>('decisions.list', { deviceId, reason, limit: 10 });

test('the switch starts off (serve --limits off): a 31-message burst on one topic is not limited', async () => {
  await openView(page, info, '#/broker');
  const sw = page.getByTestId('limits-switch');
  await expect(sw).not.toBeChecked();
  expect(settings().limits).toBe('off');
  const { id, c } = await connectedDevice('E2E limits off');
  await burst(c, id);
  expect(c.connected).toBe(true);
  expect(await decisions(id, 'limit.topic-rate')).toHaveLength(0);
  c.end(true);
});

test('switched on: stored in settings.json, still on after a reload, and the 31st message closes with limit.topic-rate', async () => {
  await openView(page, info, '#/broker');
  const sw = page.getByTestId('limits-switch');
  await sw.click();
  await expect(sw).toBeChecked();
  await expect.poll(() => settings().limits).toBe('losant'); // the switch resolves once the file is written
  await page.reload();
  await expect(page.getByTestId('limits-switch')).toBeChecked();
  await expect(page.getByText(/30 messages per 15 s per topic/)).toBeVisible();

  const { id, c } = await connectedDevice('E2E limits on');
  await burst(c, id);
  expect(c.connected).toBe(false);
  const [d] = await decisions(id, 'limit.topic-rate');
  expect(d).toMatchObject({ action: 'publish', result: 'denied' });
  expect(d?.rule).toContain('31 messages in 15 s');
  // The ban shows on the limits card (broker.status event).
  await expect(page.getByRole('list', { name: 'Banned devices' })).toContainText('E2E limits on');
});

test('the Rate limit scenario from the Simulator view: throttled, banned, and accepted again after the 30 s ban', async () => {
  // This server runs on the real clock (the injected clock exists only in integration tests):
  // the ban lasts 30 real seconds, so this test gets 90 s in all.
  test.setTimeout(90_000);
  await openView(page, info, '#/simulator');
  const tile = page.locator('[data-testid="scenario"][data-scenario="rate-limit"]');
  await expect(tile.getByTestId('scenario-needs-rate-limit')).toHaveCount(0);
  await page.getByTestId('scenario-run-rate-limit').click();
  const rows = tile.getByTestId('scenario-expected');
  await expect(rows).toHaveCount(4);
  // 20 s: connect, the burst after a 2 s pause, the ~1 s back-off into the ban.
  for (const i of [0, 1, 2]) await expect(rows.nth(i)).toHaveAttribute('data-met', 'true', { timeout: 20_000 });
  await expect(rows.nth(1)).toContainText('limit.topic-rate');
  await expect(rows.nth(2)).toContainText('limit.banned');
  // Not ticked by the first connect: "accepted again" counts only after the ban.
  await expect(rows.nth(3)).toHaveAttribute('data-met', 'false');
  // 45 s: the 30 s ban, checked once a second, then the connect.
  await expect(rows.nth(3)).toHaveAttribute('data-met', 'true', { timeout: 45_000 });
  await tile.screenshot({ path: 'test-results/screenshots/scenario-rate-limit.png' });
});

test('switched off: stored, and the Rate limit card says it needs limits mode', async () => {
  await openView(page, info, '#/broker');
  const sw = page.getByTestId('limits-switch');
  await sw.click();
  await expect(sw).not.toBeChecked();
  await expect.poll(() => settings().limits).toBe('off');
  await page.reload();
  await expect(page.getByTestId('limits-switch')).not.toBeChecked();

  const { id, c } = await connectedDevice('E2E limits off again');
  await burst(c, id);
  expect(c.connected).toBe(true);
  expect(await decisions(id, 'limit.topic-rate')).toHaveLength(0);

  await openView(page, info, '#/simulator');
  await expect(page.getByTestId('scenario-needs-rate-limit')).toContainText('Needs Losant limits mode');
  await expect(page.getByTestId('scenario-run-rate-limit')).toBeDisabled();
  await page
    .locator('[data-testid="scenario"][data-scenario="rate-limit"]')
    .screenshot({ path: 'test-results/screenshots/scenario-rate-limit-needs-limits.png' });
});
