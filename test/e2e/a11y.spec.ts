// axe-core on every view and dialog: no serious or critical violation anywhere (issue 15 item 7).
// Each test opens one view or dialog with some data in it (its own devices and keys, a scenario
// run, a decision row expanded) and prints every serious/critical violation readably on failure.
// Only adds its own data to its worker's server.
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { openView, rpc as rpcCall, serverInfo } from './server.ts';

const info = serverInfo();
const rpc = <T>(method: string, req: unknown) => rpcCall<T>(info, method, req);

// Not serial: a view that fails does not hide the others' findings (a failed test restarts the
// worker, and beforeAll makes fresh data for the rest).

let page: Page;
let deviceId = '';
let keyId = '';

/** Run axe on the page (or one dialog) and fail with a readable list of serious/critical nodes. */
async function expectNoSeriousViolations(what: string, include?: string): Promise<void> {
  // Legacy mode: axe.run in the page itself. The default runs axe per frame, then opens a blank
  // page, injects axe into it again and runs finishRun there, which is what cross-origin iframes
  // need; the UI has no iframes, and that second page cost about as much as the audit (about 2 s
  // of 4 per view on a busy 2-core machine, issue 10).
  let builder = new AxeBuilder({ page }).setLegacyMode(process.env.A11Y_DEFAULT !== '1');
  if (include) builder = builder.include(include);
  const result = await builder.analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} (${v.nodes.length})\n` +
        v.nodes
          .map((n) => `    ${n.target.join(' ')}\n      ${n.failureSummary?.replace(/\n/g, '\n      ')}`)
          .join('\n'),
    )
    .join('\n');
  expect(bad.length, `axe serious/critical violations on ${what}:\n${text}`).toBe(0);
}

test.beforeAll(async ({ browser }) => {
  const context = await browser.newContext(); // AxeBuilder needs a page from an explicit context
  page = await context.newPage();
  await page.goto(info.uiUrl); // picks up the admin token from the fragment
  const d = await rpc<{ id: string }>('devices.create', {
    name: 'a11y sensor',
    tags: [{ key: 'a11y', value: 'yes' }],
  });
  deviceId = d.id;
  const k = await rpc<{ accessKey: { id: string } }>('keys.create', { name: 'a11y key', deviceIds: [d.id] });
  keyId = k.accessKey.id;
});

test.afterAll(async () => {
  await page.context().close();
});

for (const [hash, heading] of [
  ['#/broker', 'Broker'],
  ['#/devices', 'Devices'],
  ['#/keys', 'Access Keys'],
  ['#/messages', 'Messages'],
  ['#/playground', 'Playground'],
] as const) {
  test(`view ${hash}`, async () => {
    await openView(page, info, hash);
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
    await expectNoSeriousViolations(hash);
  });
}

test('device page', async () => {
  await openView(page, info, `#/devices/${deviceId}`);
  await expect(page.getByRole('heading', { name: 'a11y sensor' })).toBeVisible();
  await expectNoSeriousViolations('the device page');
});

test('key page', async () => {
  await openView(page, info, `#/keys/${keyId}`);
  await expect(page.getByRole('heading', { name: 'a11y key' })).toBeVisible();
  await expectNoSeriousViolations('the key page');
});

test('simulator with a scenario run', async () => {
  await openView(page, info, '#/simulator');
  await page.getByTestId('scenario-run-inactive-key').click();
  await expect(page.locator('[data-testid="sim-card"][data-reason="key.inactive"]').first()).toBeVisible({
    timeout: 20_000, // the simulated device connects and is refused over real MQTT
  });
  await expectNoSeriousViolations('the simulator with a scenario');
});

test('decisions with an expanded row', async () => {
  await openView(page, info, '#/decisions');
  await expect(page.getByRole('heading', { name: 'Decisions', exact: true })).toBeVisible();
  // The list is live: a decision arriving after the click would become first(). Name the row by
  // its own label (its sequence number) and check that one.
  const label = await page.getByTestId('decision-open').first().getAttribute('aria-label');
  const opener = page.getByRole('button', { name: label ?? '', exact: true });
  await opener.click();
  await expect(opener).toHaveAttribute('aria-expanded', 'true');
  await expectNoSeriousViolations('the decisions with an expanded row');
});

test('dialog: device create', async () => {
  await openView(page, info, '#/devices');
  await page.getByRole('button', { name: 'Add Device' }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await expectNoSeriousViolations('the device create dialog');
  await page.keyboard.press('Escape');
});

test('dialogs: key create, then the secret dialog', async () => {
  await openView(page, info, '#/keys');
  await page.getByRole('button', { name: 'Add Access Key' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Name/).fill('a11y created key');
  await dialog.getByLabel('Allow only the following devices to connect…').check();
  await dialog.getByRole('button', { name: '+ Add tag' }).click();
  await dialog.getByLabel('Tag 1 key').fill('a11y');
  await dialog.getByLabel('Tag 1 value').fill('yes');
  await expectNoSeriousViolations('the key create dialog');
  await dialog.getByRole('button', { name: 'Create Access Key' }).click();
  const secret = page.getByRole('dialog', { name: 'Access key created' });
  await expect(secret).toBeVisible();
  await expectNoSeriousViolations('the secret dialog');
  await page.getByTestId('secret-ack').check();
  await page.getByTestId('secret-close').click();
});

test('dialog: delete confirm', async () => {
  await openView(page, info, `#/keys/${keyId}`);
  await page.getByRole('button', { name: 'Delete Access Key' }).click();
  await expect(page.getByRole('dialog', { name: 'Delete access key?' })).toBeVisible();
  await expectNoSeriousViolations('the delete confirm dialog');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
});

test('dialog: fleet', async () => {
  await openView(page, info, '#/simulator');
  await page.getByRole('button', { name: 'Create fleet' }).first().click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await expectNoSeriousViolations('the fleet dialog');
  await page.keyboard.press('Escape');
  await rpc('simulator.clearScenario', { name: 'inactive-key' });
});
