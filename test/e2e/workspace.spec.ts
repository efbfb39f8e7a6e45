// A clean, honest workspace (issue 15): a page opened without the admin token (or with a wrong one)
// says what is missing and how to get the link; simulator-made devices and keys are hidden by
// default behind "Show simulator items"; a scenario's Clear leaves no device or key behind; the
// device page lists the keys that admit the device; the fleet hint names what a fleet will make;
// headless has no "Save credentials" button. Shares the e2e server; compares only its own data.
import { expect, test, type Page } from '@playwright/test';
import { openView, rpc as rpcCall, serverInfo } from './server.ts';

const info = serverInfo();
const base = info.uiUrl.replace(/#.*$/, '');
const rpc = <T>(method: string, req: unknown) => rpcCall<T>(info, method, req);
const ids = (xs: { id: string }[]) => xs.map((x) => x.id).sort();

test.describe.configure({ mode: 'serial' });

test('without the token the first screen says what is missing and how to get the link', async ({ browser }) => {
  const page = await browser.newPage();
  await page.goto(`${base}#/devices`);
  const needed = page.getByTestId('token-needed');
  await expect(needed.getByRole('heading', { name: 'This page needs the admin token' })).toBeVisible();
  await expect(needed).toContainText('This link has no admin token');
  await expect(needed).toContainText('npx keyport ui-url');
  await expect(needed).toContainText('npm run serve');
  await expect(page.getByText('Lost the connection')).toHaveCount(0);
  await expect(page.getByText('Could not load data')).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Devices', exact: true })).toHaveCount(0);
  await page.screenshot({ path: 'test-results/screenshots/workspace-no-token.png' });
  await page.close();
});

test('with a wrong token it says the token was refused (no reconnect banner)', async ({ browser }) => {
  const page = await browser.newPage();
  await page.goto(`${base}#token=${'0'.repeat(48)}`);
  const needed = page.getByTestId('token-needed');
  await expect(needed).toContainText('The server refused the token in this link');
  await expect(page.getByText('Lost the connection')).toHaveCount(0);
  await expect(page.getByText('Could not load data')).toHaveCount(0);
  await page.close();
});

let page: Page;

test.describe('with the token', () => {
  test.beforeAll(async ({ browser }) => {
    page = await browser.newPage();
    await page.goto(info.uiUrl);
  });
  test.afterAll(async () => {
    await page.close();
  });

  test("a scenario's devices and keys are hidden by default, and its Clear leaves nothing behind", async () => {
    const devicesBefore = ids(await rpc<{ id: string }[]>('devices.list', {}));
    const keysBefore = ids(await rpc<{ id: string }[]>('keys.list', {}));
    await openView(page, info, '#/simulator');
    const tile = page.locator('[data-testid="scenario"][data-scenario="gateway"]');
    await page.getByTestId('scenario-run-gateway').click();
    await expect(page.locator('[data-testid="sim-card"][data-sim-name="Gateway: gateway"]')).toBeVisible();
    // Headless: no button that can only fail; the card says why.
    const simCard = page.locator('[data-testid="sim-card"][data-sim-name="Gateway: gateway"]');
    await expect(simCard.getByRole('button', { name: 'Save credentials' })).toHaveCount(0);
    await expect(simCard.getByTestId('no-save-credentials')).toContainText('no system keychain');
    const made = (await rpc<{ id: string; name: string }[]>('devices.list', {})).filter(
      (d) => !devicesBefore.includes(d.id),
    );
    expect(made.map((d) => d.name).sort()).toEqual([
      'Gateway: another gateway',
      'Gateway: gateway',
      'Gateway: peripheral 1',
      'Gateway: peripheral 2',
      'Gateway: peripheral of another gateway',
    ]);

    await openView(page, info, '#/devices');
    await expect(page.getByRole('heading', { name: 'Devices', exact: true })).toBeVisible();
    const toggle = page.getByTestId('show-sim-items');
    await expect(toggle).not.toBeChecked();
    // The sidebar counts what the list shows: the user's own devices.
    const all = await rpc<{ id: string; tags: { key: string }[] }[]>('devices.list', {});
    const own = all.filter((d) => !d.tags.some((t) => t.key === 'keyport-sim')).length;
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Devices/ })).toHaveText(
      own ? `Devices ${own}` : 'Devices',
    );
    for (const d of made)
      await expect(page.locator(`[data-testid="device-row"][data-device-id="${d.id}"]`)).toHaveCount(0);
    await toggle.check();
    for (const d of made)
      await expect(page.locator(`[data-testid="device-row"][data-device-id="${d.id}"]`)).toHaveCount(1);
    await toggle.uncheck();
    await expect(page.locator(`[data-testid="device-row"][data-device-id="${made[0]!.id}"]`)).toHaveCount(0);

    const simKey = (await rpc<{ id: string }[]>('keys.list', {})).find((k) => !keysBefore.includes(k.id))!;
    await openView(page, info, '#/keys');
    await expect(page.getByTestId('show-sim-items')).not.toBeChecked();
    await expect(page.locator(`[data-testid="key-row"][data-key-id="${simKey.id}"]`)).toHaveCount(0);
    await page.getByTestId('show-sim-items').check();
    await expect(page.locator(`[data-testid="key-row"][data-key-id="${simKey.id}"]`)).toHaveCount(1);
    await page.getByTestId('show-sim-items').uncheck();

    await openView(page, info, '#/simulator');
    await tile.getByRole('button', { name: /^Clear/ }).click();
    await expect(page.locator('[data-testid="sim-card"][data-sim-name="Gateway: gateway"]')).toHaveCount(0);
    await expect.poll(async () => ids(await rpc<{ id: string }[]>('devices.list', {}))).toEqual(devicesBefore);
    expect(ids(await rpc<{ id: string }[]>('keys.list', {}))).toEqual(keysBefore);
  });

  test('the device page lists the keys that admit the device, and why', async () => {
    const d = await rpc<{ id: string }>('devices.create', {
      name: 'covered device',
      tags: [{ key: 'room', value: 'lab' }],
    });
    const byId = await rpc<{ accessKey: { id: string } }>('keys.create', { name: 'by id', deviceIds: [d.id] });
    const byTag = await rpc<{ accessKey: { id: string } }>('keys.create', {
      name: 'by tag',
      deviceTags: [{ key: 'room', value: 'lab' }],
    });
    await openView(page, info, `#/devices/${d.id}`);
    const card = page.getByTestId('device-keys');
    await expect(card.locator(`[data-key-id="${byId.accessKey.id}"]`)).toContainText('lists this device’s id');
    await expect(card.locator(`[data-key-id="${byTag.accessKey.id}"]`)).toContainText('tag room=lab');
    await card.getByRole('link', { name: 'by tag' }).click();
    await expect(page).toHaveURL(new RegExp(`#/keys/${byTag.accessKey.id}$`));
  });

  test('the lists with the switch, at 900×600 (screenshots)', async () => {
    await page.setViewportSize({ width: 900, height: 600 });
    await rpc('simulator.runScenario', { name: 'inactive-key' });
    for (const [hash, name] of [
      ['#/devices', 'workspace-devices-900'],
      ['#/keys', 'workspace-keys-900'],
    ] as const) {
      await openView(page, info, hash);
      await expect(page.getByTestId('show-sim-items')).toBeVisible();
      await page.screenshot({ path: `test-results/screenshots/${name}.png` });
    }
    await rpc('simulator.clearScenario', { name: 'inactive-key' });
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  test('the fleet dialog promises the names a fleet makes', async () => {
    await openView(page, info, '#/simulator');
    await page.getByRole('button', { name: 'Create fleet' }).first().click();
    await page.locator('#fl-count').fill('10');
    await page.locator('#fl-prefix').fill('bench-');
    await expect(page.getByTestId('fleet-names-hint')).toHaveText('Devices are named bench-01, bench-02, … bench-10');
  });
});
