// The Simulator view: demo scenarios run from their buttons and show their expected outcomes next
// to what the broker actually decided; a simulated device added through the dialog with a newly
// generated single-device key connects, reports, and sends one report on demand.
// Runs after keys-flow.spec.ts on the same server and only adds its own data.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { openView, rpc as rpcCall, serverInfo } from './server.ts';

const info = serverInfo();
const shots = 'test-results/screenshots';

const open = (page: Page, hash: string) => openView(page, info, hash);
const rpc = <T>(method: string, req: unknown) => rpcCall<T>(info, method, req);

function card(page: Page, name: string): Locator {
  return page.locator(`[data-testid="sim-card"][data-sim-name="${name}"]`);
}

async function runScenario(page: Page, name: string): Promise<Locator> {
  const tile = page.locator(`[data-testid="scenario"][data-scenario="${name}"]`);
  await page.getByTestId(`scenario-run-${name}`).click();
  const expected = tile.getByTestId('scenario-expected');
  await expect(expected.first()).toBeVisible();
  // Every expected outcome gets its ✓ once the broker has decided.
  await expect(tile.locator('[data-testid="scenario-expected"][data-met="false"]')).toHaveCount(0, { timeout: 20_000 });
  expect(await expected.count()).toBeGreaterThan(0);
  return tile;
}

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await page.goto(info.uiUrl); // picks up the admin token from the fragment
});

test.afterAll(async () => {
  await page.close();
});

test('the Simulator view is in the navigation', async () => {
  await open(page, '#/broker');
  await page.getByRole('link', { name: 'Simulator', exact: true }).click();
  await expect(page).toHaveURL(/#\/simulator$/);
  await expect(page.getByRole('heading', { name: 'Simulator', exact: true })).toBeVisible();
  await expect(page.getByTestId('scenario-run-inactive-key')).toBeVisible();
});

test('inactive-key scenario: the device is refused with key.inactive', async () => {
  const tile = await runScenario(page, 'inactive-key');
  await expect(page.locator('[data-testid="sim-card"][data-reason="key.inactive"]').first()).toBeVisible();
  await expect(tile.locator('[data-testid="scenario-expected"][data-met="true"]').first()).toContainText('✓');
});

test('tag-scope scenario: the tagged device connects, the other is out of scope', async () => {
  await runScenario(page, 'tag-scope');
  await expect(card(page, 'Tag scope: lamp')).toHaveAttribute('data-reason', 'device.out-of-scope');
  // The thermostat got in first; its card's log keeps the broker's connect.accepted (its later
  // reconnect, after losing the tag, is refused in turn).
  const thermostat = card(page, 'Tag scope: thermostat');
  await thermostat.getByRole('button', { name: /^Log/ }).click();
  await expect(thermostat.getByTestId('sim-log').locator('li[data-reason="connect.accepted"]').first()).toBeVisible();
  await expect(
    page.locator('[data-testid="sim-card"][data-scenario="tag-scope"][data-reason="device.out-of-scope"]').first(),
  ).toBeVisible();
  await page.screenshot({ path: `${shots}/simulator-scenarios.png`, fullPage: true });
});

test('add a simulated device with a generated key: it connects, reports, and sends one report on demand', async () => {
  const device = await rpc<{ id: string }>('devices.create', {
    name: 'E2E simulated thermostat',
    tags: [{ key: 'e2e', value: 'simulator' }],
  });
  await open(page, '#/simulator');
  await page.getByRole('button', { name: 'Add simulated device' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add simulated device' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Device', { exact: true }).selectOption(device.id);
  await dialog.getByLabel(/^Display name/).fill('E2E thermostat');
  await expect(dialog.getByLabel('Generate a new single-device key')).toBeChecked();
  // A long interval: the first report goes out on connect, the next one only when asked for.
  await dialog.getByLabel('Report interval in seconds').fill('600');
  await dialog.getByRole('button', { name: 'Add and start' }).click();
  await expect(dialog).toBeHidden();

  const c = card(page, 'E2E thermostat');
  // 15 s each: a new key, an MQTT connect and the first report through the headless server,
  // then the UI's batched update; about 1 s idle, more on a 2-core machine running other suites.
  await expect(c).toHaveAttribute('data-status', 'connected', { timeout: 15_000 });
  await expect(c).toHaveAttribute('data-reason', /^(connect\.accepted|publish\.allowed|state\.stored)$/);
  const reports = c.getByTestId('sim-reports');
  const count = async () => Number(await reports.getAttribute('data-count'));
  await expect.poll(count, { timeout: 15_000 }).toBeGreaterThan(0);
  await expect(c.getByTestId('sim-attributes')).toContainText('temperature');

  const before = await count();
  await c.getByRole('button', { name: 'Send one report' }).click();
  await expect.poll(count).toBe(before + 1);
  await expect(c).toHaveAttribute('data-status', 'connected');

  await c.getByRole('button', { name: /^Log/ }).click();
  await expect(c.getByTestId('sim-log').locator('li[data-ok="true"]').first()).toBeVisible();
  await page.screenshot({ path: `${shots}/simulator.png`, fullPage: true });
});
