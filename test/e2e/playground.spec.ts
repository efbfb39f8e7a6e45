// The playground (docs/design.md §12a) in the browser against `keyport serve`: explain a refused
// publish with its reason and chain, replay a real client's refused publish from its decision row
// (inputs filled, then vs now, and what changed after the key is edited), the key matrix, and the
// linter's warning in the create dialog for an all-devices key.
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import mqtt from 'mqtt';
import type { AccessKey, CreatedKey, Device } from '../../src-main/core/types.ts';
import { openView, rpc as rpcCall, serverInfo } from './server.ts';

const info = serverInfo();
const shots = 'test-results/screenshots';
const rpc = <T>(method: string, req: unknown) => rpcCall<T>(info, method, req);

test.describe.configure({ mode: 'serial' });

let page: Page;
let dev: Device;
let created: CreatedKey;
// Unique per run: the server is shared with the other specs.
const topic = `alarms/pg-${Date.now().toString(36)}`;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ acceptDownloads: true });
  await page.goto(info.uiUrl); // the token arrives once in the URL fragment
  dev = await rpc<Device>('devices.create', { name: 'Playground door' });
  created = await rpc<CreatedKey>('keys.create', {
    name: 'Playground key',
    deviceIds: [dev.id],
    filterType: 'whitelist',
    pubTopics: ['sensors/+'],
  });
});

test.afterAll(async () => {
  await page.close();
});

test('explains a refused publish: the reason, the rule and the chain of checks', async () => {
  await openView(page, info, '#/playground');
  await page.getByLabel('Access key').selectOption(created.accessKey.id);
  await page.getByLabel('Device (MQTT client id)').selectOption(dev.id);
  await page.getByLabel('Publish topics').fill(`sensors/t\n${topic}`);
  await page.getByLabel('Subscribe filters').fill('losant/+/state');

  const connect = page.getByTestId('explain-connect');
  await expect(connect).toHaveAttribute('data-reason', 'connect.accepted');
  await expect(connect.locator('[data-check="secret"]')).toHaveAttribute('data-status', 'skipped');

  const refused = page.locator(`[data-testid="explain-topic"][data-topic="${topic}"]`);
  await expect(refused).toHaveAttribute('data-reason', 'topic.not-whitelisted');
  await expect(refused).toContainText('pubTopics whitelist');
  const checks = refused.getByTestId('check');
  await expect(checks).toHaveCount(3);
  await expect(checks.nth(0)).toHaveAttribute('data-status', 'passed');
  await expect(checks.nth(1)).toHaveAttribute('data-status', 'passed');
  await expect(checks.nth(2)).toHaveAttribute('data-status', 'failed');
  await expect(page.getByTestId('explain-summary')).toContainText('1 of 3 packets would be refused');

  // The wildcard subscription lists what it would deliver: the device's own state topic.
  const sub = page.locator('[data-testid="explain-topic"][data-action="subscribe"]');
  await expect(sub.getByTestId('reach-delivered')).toContainText(`losant/${dev.id}/state`);
  await page.screenshot({ path: `${shots}/playground-explain.png`, fullPage: true });
});

test("WebSocket: X-Forwarded-For is read with the running server's trusted proxies, or a what-if list", async () => {
  await page.getByText('WebSocket', { exact: true }).click();
  const trusted = page.getByLabel('Trusted proxies');
  await expect(trusted).toHaveValue('127.0.0.0/8\n::1/128'); // `keyport serve`'s default (app.info)
  await page.getByLabel('X-Forwarded-For').fill('203.0.113.9');
  const connect = page.getByTestId('explain-connect');
  await expect(connect).toContainText('from 203.0.113.9');
  await trusted.fill('10.0.0.0/8');
  await expect(connect).toContainText('from 127.0.0.1');
  await page.getByRole('button', { name: "Use the server's" }).click();
  await expect(connect).toContainText('from 203.0.113.9');
  await page.screenshot({ path: `${shots}/playground-ws.png`, fullPage: true });
});

test('replays a real client’s refused publish from its decision row, then shows what changed', async () => {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${info.mqtt}`, {
    clientId: dev.id,
    username: created.accessKey.key,
    password: created.secret,
    reconnectPeriod: 0,
  });
  const gone = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.publish(topic, 'x', { qos: 0 });
  await gone; // a refused PUBLISH disconnects the client

  await openView(page, info, '#/decisions');
  const row = page.locator('[data-testid="decision-row"][data-action="publish"]', { hasText: topic });
  await expect(row).toHaveAttribute('data-reason', 'topic.not-whitelisted');
  await row.getByRole('button', { name: 'Replay in playground' }).click();

  await expect(page).toHaveURL(/#\/playground$/);
  await expect(page.getByLabel('Access key')).toHaveValue(created.accessKey.id);
  await expect(page.getByLabel('Device (MQTT client id)')).toHaveValue(dev.id);
  await expect(page.getByRole('radio', { name: 'TCP' })).toBeChecked();
  await expect(page.getByLabel('Source address')).toHaveValue('127.0.0.1');
  await expect(page.getByLabel('Publish topics')).toHaveValue(topic);
  const banner = page.getByTestId('replay-banner');
  await expect(banner).toHaveAttribute('data-changed', 'false');
  await expect(banner).toContainText('Unchanged');

  // The key as it is now: allow the topic elsewhere (the API), and the replay says so.
  await rpc<AccessKey>('keys.update', { id: created.accessKey.id, patch: { pubTopics: ['sensors/+', 'alarms/#'] } });
  await expect(banner).toHaveAttribute('data-changed', 'true');
  await expect(banner).toContainText('refused then, allowed now');
  await page.screenshot({ path: `${shots}/playground-replay.png`, fullPage: true });
});

test('the matrix shows the key against every device, and exports CSV', async () => {
  await page.getByRole('tab', { name: 'Matrix' }).click();
  await page.getByLabel('Access key').selectOption(created.accessKey.id);
  const table = page.getByTestId('key-matrix');
  const own = table.locator('tr', { hasText: 'Playground door' });
  await expect(own.locator('td').first()).toHaveAttribute('data-allowed', 'true');
  await expect(table.locator('thead')).toContainText('publish "alarms/#"');
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const csv = readFileSync((await (await download).path())!, 'utf8');
  expect(csv.split('\n')[0]).toContain('connect');
  expect(csv).toContain(dev.id);
  await page.screenshot({ path: `${shots}/playground-matrix.png`, fullPage: true });
});

test('the create dialog warns about an all-devices key as the user picks it', async () => {
  await openView(page, info, '#/keys');
  await page.getByRole('button', { name: 'Add Access Key' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Allow all devices to connect using this access key').check();
  const lint = dialog.getByTestId('lint-findings');
  await expect(lint.locator('[data-code="key.all-devices"]')).toContainText('admits every device');
  // …and it would share the playground device with the playground key.
  await expect(lint.locator('[data-code="devices.shared-key"]')).toContainText(created.accessKey.id);
  await expect(dialog.getByTestId('lint-count')).toContainText('2 warnings from the key linter');
  await page.screenshot({ path: `${shots}/key-create-lint.png` });
  await dialog.getByLabel('Allow only the following devices to connect…').check();
  await expect(dialog.locator('[data-code="key.all-devices"]')).toHaveCount(0);
  await expect(dialog.getByTestId('lint-count')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

test('the key page lists the linter findings, and the edit form warns about an edit as it is made', async () => {
  await openView(page, info, `#/keys/${created.accessKey.id}`);
  const stored = page.getByRole('region', { name: 'Key linter' });
  const editing = page.getByRole('region', { name: 'With these changes' });
  // Used by the client above, one device, a whitelist (other specs' keys may share the device).
  await expect(page.getByRole('heading', { name: 'Playground key' })).toBeVisible();
  await expect(stored.locator('[data-code^="topics."]')).toHaveCount(0);
  await expect(stored.locator('[data-code="key.never-used"]')).toHaveCount(0);
  await page.getByRole('radio', { name: /^All topics/ }).check();
  await expect(editing.locator('[data-code="topics.filter-all"]')).toContainText('every custom topic');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(editing).toHaveCount(0);
  // A second active key for the same device: the stored key's page says so.
  const twin = await rpc<CreatedKey>('keys.create', { name: 'Twin', deviceIds: [dev.id] });
  await expect(stored.locator('[data-code="devices.shared-key"]')).toContainText(twin.accessKey.id);
  await page.screenshot({ path: `${shots}/key-detail-lint.png`, fullPage: true });
  await rpc('keys.delete', { id: twin.accessKey.id });
});
