// The Broker view's Cluster card (docs/design.md §12b): the desktop app's `--cluster`. A user types a
// Redis URL with its password and a node id; it is stored in the data directory's settings.json for
// the next start, shown back with the password masked (the page never holds the password once
// saved), a bad URL is refused naming why, and "Leave at next start" removes it again.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { openView, serverInfo } from './server.ts';

const info = serverInfo();
const PASSWORD = 'e2e-redis-secret';
const settings = () => JSON.parse(readFileSync(join(info.dataDir, 'settings.json'), 'utf8')) as { cluster?: unknown };

test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await page.goto(info.uiUrl); // picks up the admin token from the fragment
});

test.afterAll(async () => {
  await page.close();
});

test('join at next start: stored for the next start, shown masked; a bad URL is refused; leave removes it', async () => {
  await openView(page, info, '#/broker');
  const card = page.getByTestId('cluster-card');
  await expect(card.getByTestId('cluster-running')).toHaveText('Running alone (not a cluster node).');

  await card.getByTestId('cluster-url').fill('http://10.0.0.9:6379');
  await card.getByTestId('cluster-save').click();
  await expect(card.getByRole('alert')).toContainText('scheme must be redis://');
  expect(settings().cluster).toBeUndefined();

  await card.getByTestId('cluster-url').fill(`redis://:${PASSWORD}@10.0.0.9:6379`);
  await card.getByTestId('cluster-node-id').fill('desk-e2e');
  await card.getByTestId('cluster-save').click();
  await expect(card.getByTestId('cluster-stored')).toContainText('node desk-e2e of redis://:***@10.0.0.9:6379');
  await expect(card.getByRole('status')).toHaveText('Stored: joins this cluster at the next start.');
  await expect(card.getByTestId('cluster-url')).toHaveValue('');
  expect(await page.content()).not.toContain(PASSWORD);
  expect(settings().cluster).toEqual({ url: `redis://:${PASSWORD}@10.0.0.9:6379`, nodeId: 'desk-e2e' });
  await card.screenshot({ path: 'test-results/screenshots/broker-cluster-card.png' });

  await card.getByTestId('cluster-leave').click();
  await expect(card.getByTestId('cluster-stored')).toContainText('At the next start: alone.');
  expect(settings().cluster).toBeUndefined();
});
