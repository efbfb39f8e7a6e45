/// <reference lib="dom" />
// At 900×600 every view is usable: the sidebar collapses to a toggle, tables wrap, and no view
// scrolls sideways (document.scrollingElement.scrollWidth <= clientWidth). Screenshots of
// Decisions, Simulator and Access Keys at 900×600 go to test-results/screenshots/after-*.png.
// Only adds its own data to its worker's server.
import { expect, test, type Page } from '@playwright/test';
import mqtt from 'mqtt';
import { openView, rpc as rpcCall, serverInfo } from './server.ts';

const info = serverInfo();
const rpc = <T>(method: string, req: unknown) => rpcCall<T>(info, method, req);
const shots = 'test-results/screenshots';

let page: Page;
let deviceId = '';
let keyId = '';

// Not serial: one view that overflows does not hide the others' results (a failed test restarts
// the worker, and beforeAll makes fresh data for the rest).

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  await page.goto(info.uiUrl); // picks up the admin token from the fragment
  const d = await rpc<{ id: string }>('devices.create', {
    name: 'layout sensor with a rather long name for a narrow window',
    tags: [{ key: 'layout', value: 'narrow-window-check' }],
  });
  deviceId = d.id;
  const k = await rpc<{ accessKey: { id: string } }>('keys.create', {
    name: 'layout key with a long descriptive name',
    deviceTags: [{ key: 'layout', value: 'narrow-window-check' }],
  });
  keyId = k.accessKey.id;
  // A refused connect, so the Decisions view has a denied row with a long rule.
  await rpc('simulator.runScenario', { name: 'inactive-key' });
});

test.afterAll(async () => {
  await rpc('simulator.clearScenario', { name: 'inactive-key' });
  await page.close();
});

async function overflow(): Promise<{ scrollWidth: number; clientWidth: number; scrollers: string[] }> {
  return page.evaluate(() => {
    const el = document.scrollingElement!;
    // Tables wrap rather than scroll sideways inside their own box.
    const scrollers = [...document.querySelectorAll('main *')]
      .filter((e) => e.scrollWidth > e.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(e).overflowX))
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} (${e.scrollWidth - e.clientWidth} px)`);
    return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, scrollers };
  });
}

test('the sidebar collapses to a toggle below 1000 px and opens on demand', async () => {
  await openView(page, info, '#/broker');
  const toggle = page.getByRole('button', { name: 'Menu' });
  await expect(toggle).toBeVisible();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByRole('link', { name: 'Decisions', exact: true })).toBeHidden();
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await page.getByRole('link', { name: 'Decisions', exact: true }).click();
  await expect(page).toHaveURL(/#\/decisions$/);
  // Choosing a view closes the menu again.
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await page.setViewportSize({ width: 1280, height: 800 });
  await expect(toggle).toBeHidden();
  await expect(page.getByRole('link', { name: 'Decisions', exact: true })).toBeVisible();
  await page.setViewportSize({ width: 900, height: 600 });
});

for (const hash of [
  '#/broker',
  '#/devices',
  '#/device',
  '#/keys',
  '#/key',
  '#/simulator',
  '#/messages',
  '#/decisions',
  '#/playground',
]) {
  test(`no horizontal overflow at 900×600: ${hash}`, async () => {
    const target = hash === '#/device' ? `#/devices/${deviceId}` : hash === '#/key' ? `#/keys/${keyId}` : hash;
    await openView(page, info, target);
    await expect(page.locator('main h1, main h2').first()).toBeVisible();
    if (hash === '#/decisions') {
      await expect(page.locator('[data-testid="decision-row"][data-result="denied"]').first()).toBeVisible();
      await page.getByTestId('decision-open').first().click();
    }
    if (hash === '#/simulator') {
      await expect(page.locator('[data-testid="sim-card"][data-reason="key.inactive"]').first()).toBeVisible({
        timeout: 20_000, // the scenario's device connects over real MQTT and is refused
      });
    }
    const o = await overflow();
    expect(o.scrollWidth, `${hash} is ${o.scrollWidth - o.clientWidth} px wider than the window`).toBeLessThanOrEqual(
      o.clientWidth,
    );
    expect(o.scrollers, `boxes in ${hash} that scroll sideways`).toEqual([]);
    if (hash === '#/decisions' || hash === '#/simulator' || hash === '#/keys') {
      await page.screenshot({ path: `${shots}/after-${hash.slice(2)}.png` });
    }
  });
}

// The narrow table hides its Topic column (the topic moves under the rule). Its hidden cells must
// not lay the topic out in a zero-wide cell: that made every PUBLISH row ~490 px tall, so at
// 1280×800 (a content box under 980 px) only two decisions fitted on the screen.
for (const [width, height] of [
  [1280, 800],
  [900, 600],
] as const) {
  test(`a PUBLISH row with a long topic stays one row high at ${width}×${height}`, async ({ browser }) => {
    const d = await rpc<{ id: string }>('devices.create', { name: `layout publisher ${width}` });
    const k = await rpc<{ accessKey: { key: string }; secret: string }>('keys.create', { deviceIds: [d.id] });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${info.mqtt}`, {
      clientId: d.id,
      username: k.accessKey.key,
      password: k.secret,
      reconnectPeriod: 0,
    });
    await c.publishAsync(`losant/${d.id}/state`, JSON.stringify({ data: { temp: 21.5 } }), { qos: 1 });
    await c.endAsync();
    const p = await browser.newPage({ viewport: { width, height } });
    await p.goto(info.uiUrl);
    await openView(p, info, `#/decisions/${d.id}`);
    const row = p.locator('[data-testid="decision-row"]', { hasText: 'publish.allowed' }).first();
    await expect(row).toBeVisible();
    const box = await row.boundingBox();
    // Two lines of rule and two of topic at most; the broken layout gave ~490 px.
    expect(box!.height, 'the PUBLISH row height').toBeLessThan(120);
    await p.close();
  });
}
