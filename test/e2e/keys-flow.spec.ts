// The path a new user walks: a device with a tag, a tag-restricted key, the secret seen once and
// saved, a real MQTT client (mosquitto) using the saved file, the decision appearing live, the key
// switched off and the device dropped with key.inactive, and the keys list filtered by query.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { parseSecrets } from '../../src-main/core/export-formats.ts';
import { openView, rpc as rpcCall, serverInfo } from './server.ts';

const info = serverInfo();
const shots = 'test-results/screenshots';

const open = (page: Page, hash: string) => openView(page, info, hash);
const rpc = <T>(method: string, req: unknown) => rpcCall<T>(info, method, req);

function run(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return once(child, 'exit').then(([code]) => ({ code: code as number | null, stderr }));
}

test.describe.configure({ mode: 'serial' });

let page: Page;
let deviceId = '';
let keyId = '';
let secret = '';
let saved: { key: string; secret: string; deviceId?: string } = { key: '', secret: '' };
let subscriber: ChildProcess | undefined;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ acceptDownloads: true });
  // The token arrives once in the URL fragment; the page keeps it for the tab.
  await page.goto(info.uiUrl);
});

test.afterAll(async () => {
  if (subscriber && subscriber.exitCode === null) subscriber.kill();
  await page.close();
});

test('the empty app tells a new user what to do', async () => {
  await open(page, '#/devices');
  await expect(page.getByText('Create your first device')).toBeVisible();
  await open(page, '#/keys');
  await expect(page.getByText('Create your first key')).toBeVisible();
});

test('create a device with a tag', async () => {
  await open(page, '#/devices');
  await page.getByRole('button', { name: 'Add Device' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Greenhouse sensor');
  await dialog.getByRole('button', { name: 'Add tag' }).click();
  await dialog.getByLabel('Tag key').fill('site');
  await dialog.getByLabel('Tag value').fill('greenhouse');
  await dialog.getByRole('button', { name: 'Create Device' }).click();
  await expect(page).toHaveURL(/#\/devices\/[0-9a-f]{24}$/);
  deviceId = /#\/devices\/([0-9a-f]{24})/.exec(page.url())?.[1] ?? '';
  await expect(page.getByRole('heading', { name: 'Greenhouse sensor' })).toBeVisible();
  await page.screenshot({ path: `${shots}/device-detail-new.png`, fullPage: true });
  const device = await rpc<{ tags: { key: string; value: string }[] }>('devices.get', { id: deviceId });
  expect(device.tags).toEqual([{ key: 'site', value: 'greenhouse' }]);
});

test('the "matches N devices now" preview is inclusive: ANY one tag row, a blank side meaning any', async () => {
  await open(page, '#/keys');
  await page.getByRole('button', { name: 'Add Access Key' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Allow only the following devices to connect…').check();
  const preview = dialog.getByRole('status');
  // A row that matches nothing, then a key-only row (site=*) that matches the greenhouse sensor.
  await dialog.getByRole('button', { name: '+ Add tag' }).click();
  await dialog.getByLabel('Tag 1 key').fill('site');
  await dialog.getByLabel('Tag 1 value').fill('nowhere');
  await expect(preview).toHaveText('No existing device matches yet.');
  await dialog.getByRole('button', { name: '+ Add tag' }).click();
  await dialog.getByLabel('Tag 2 key').fill('site');
  await expect(preview).toHaveText('Matches 1 device now: Greenhouse sensor');
  // A value-only row (*=greenhouse) alone matches it too.
  await dialog.getByLabel('Tag 2 key').fill('');
  await dialog.getByLabel('Tag 2 value').fill('greenhouse');
  await expect(preview).toHaveText('Matches 1 device now: Greenhouse sensor');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
});

test('create a tag-restricted key, see the secret once, save it, close only after ticking the box', async () => {
  await open(page, '#/keys');
  await page.getByRole('button', { name: 'Add Access Key' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Name/).fill('greenhouse key');
  await dialog.getByLabel('Allow only the following devices to connect…').check();
  await dialog.getByRole('button', { name: '+ Add tag' }).click();
  await dialog.getByLabel('Tag 1 key').fill('site');
  await dialog.getByLabel('Tag 1 value').fill('greenhouse');
  await page.screenshot({ path: `${shots}/key-create-form.png`, fullPage: true });
  await dialog.getByRole('button', { name: 'Create Access Key' }).click();

  const secretDialog = page.getByRole('dialog', { name: 'Access key created' });
  await expect(secretDialog).toBeVisible();
  secret = (await page.getByTestId('secret-value').textContent())?.trim() ?? '';
  const key = (await page.getByTestId('secret-key').textContent())?.trim() ?? '';
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  expect(key).toMatch(/^[0-9a-f-]{36}$/);
  await page.screenshot({ path: `${shots}/secret-dialog.png` });

  // Escape does not close it, and neither does the button before the box is ticked.
  await page.keyboard.press('Escape');
  await expect(secretDialog).toBeVisible();
  await expect(page.getByTestId('secret-close')).toBeDisabled();

  await page.getByTestId('secret-format').selectOption('env');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('secret-save').click()]);
  const file = 'test-results/e2e-greenhouse-key.env';
  await download.saveAs(file);
  saved = parseSecrets(readFileSync(file, 'utf8'));
  expect(saved.key).toBe(key);
  expect(saved.secret).toBe(secret);

  await page.getByTestId('secret-ack').check();
  await expect(page.getByTestId('secret-close')).toBeEnabled();
  await page.getByTestId('secret-close').click();
  await expect(secretDialog).toBeHidden();

  const keys = await rpc<{ id: string; key: string; deviceTags?: unknown }[]>('keys.list', {});
  const created = keys.find((k) => k.key === key);
  expect(created?.deviceTags).toEqual([{ key: 'site', value: 'greenhouse' }]);
  keyId = created?.id ?? '';
});

test('the secret is not shown again anywhere', async () => {
  for (const hash of ['#/keys', `#/keys/${keyId}`, `#/devices/${deviceId}`, '#/decisions', '#/broker']) {
    await open(page, hash);
    await expect(page.locator('main')).toBeVisible();
    await page.waitForLoadState('networkidle');
    expect(await page.content()).not.toContain(secret);
  }
  await open(page, `#/keys/${keyId}`);
  await page.screenshot({ path: `${shots}/key-detail.png`, fullPage: true });
});

test('mosquitto with the saved file connects, and the accepted decision appears live', async () => {
  await open(page, '#/decisions');
  await expect(page.getByRole('heading', { name: 'Decisions', exact: true })).toBeVisible();
  // A tag-scoped key does not name the device, so the device id comes from the device itself.
  const common = ['-h', '127.0.0.1', '-p', String(info.mqtt), '-i', deviceId, '-u', saved.key, '-P', saved.secret];
  const pub = await run('mosquitto_pub', [...common, '-t', `losant/${deviceId}/state`, '-m', '{"data":{"temp":21.5}}']);
  expect(pub.code, pub.stderr).toBe(0);
  const accepted = page.locator('[data-testid="decision-row"][data-reason="connect.accepted"]');
  await expect(accepted.first()).toBeVisible();
  await expect(page.locator('[data-testid="decision-row"][data-reason="publish.allowed"]').first()).toBeVisible();
  await page.screenshot({ path: `${shots}/decisions.png`, fullPage: true });

  // Stay connected for the next step.
  subscriber = spawn('mosquitto_sub', [...common, '-t', `losant/${deviceId}/command`], { stdio: 'ignore' });
  await expect(page.locator('[data-testid="decision-row"][data-reason="subscribe.granted"]').first()).toBeVisible();
  await open(page, '#/broker');
  await expect(page.getByTestId('client-row').filter({ hasText: 'Greenhouse sensor' })).toBeVisible();
  await page.screenshot({ path: `${shots}/broker.png`, fullPage: true });
});

test('switching the key off drops the connected device with key.inactive', async () => {
  expect(subscriber?.exitCode).toBeNull();
  const exited = once(subscriber!, 'exit');
  await open(page, '#/keys');
  const row = page.locator(`[data-testid="key-row"][data-key-id="${keyId}"]`);
  await row.getByTestId('key-status-switch').click();
  await expect(row.getByTestId('key-status-switch')).toHaveAttribute('aria-checked', 'false');
  await exited; // mosquitto_sub sees the broker close the connection
  await open(page, '#/decisions');
  await expect(page.locator('[data-testid="decision-row"][data-reason="key.inactive"]').first()).toBeVisible();
  const again = await run('mosquitto_pub', [
    '-h',
    '127.0.0.1',
    '-p',
    String(info.mqtt),
    '-i',
    deviceId,
    '-u',
    saved.key,
    '-P',
    saved.secret,
    '-t',
    'x',
    '-m',
    'y',
  ]);
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain('not authorised');
});

test('filter keys with the filter bar and with a JSON query', async () => {
  await rpc('keys.create', {
    name: 'office only',
    addressFilterType: 'whitelist',
    addresses: ['10.0.0.0/8'],
    createdVia: 'keys-page',
  });
  await open(page, '#/keys');
  await expect(page.getByTestId('key-row')).toHaveCount(2);
  await page.getByLabel('Name contains').fill('GREENHOUSE');
  await expect(page.getByTestId('key-row')).toHaveCount(1);
  await expect(page.getByTestId('key-row')).toHaveAttribute('data-key-id', keyId);
  await page.getByLabel('Name contains').fill('');
  await expect(page.getByTestId('key-row')).toHaveCount(2);

  await page.getByRole('button', { name: 'JSON query' }).click();
  const box = page.getByLabel('Advanced query (JSON)');
  await box.fill('{"addressFilterType": "whitelist"}');
  await page.getByRole('button', { name: 'Apply query' }).click();
  await expect(page.getByTestId('key-row')).toHaveCount(1);
  await expect(page.getByTestId('key-row')).toContainText('office only');
  await box.fill('{"name": {"$regex": "x"}}');
  await page.getByRole('button', { name: 'Apply query' }).click();
  await expect(page.getByText('query.name: unknown operator "$regex"')).toBeVisible();
  await page.screenshot({ path: `${shots}/keys-json-query.png`, fullPage: true });
  await box.fill('{"deviceTags": {"site": "greenhouse"}}');
  await page.getByRole('button', { name: 'Apply query' }).click();
  await expect(page.getByTestId('key-row')).toHaveCount(1);
  await expect(page.getByTestId('key-row')).toHaveAttribute('data-key-id', keyId);
});

test('screenshots of every view', async () => {
  for (const [name, hash] of [
    ['broker-final', '#/broker'],
    ['devices', '#/devices'],
    ['device-detail', `#/devices/${deviceId}`],
    ['keys', '#/keys'],
    ['decisions-final', '#/decisions'],
  ] as const) {
    await open(page, hash);
    await expect(page.locator('main h1').first()).toBeVisible();
    await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  }
});
