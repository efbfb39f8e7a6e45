// Screenshots of Decisions, Simulator and Access Keys at 900×600 from a built Keyport checkout,
// for before/after comparisons (issue 15): starts `keyport serve` there on port 0 with a temp data
// dir, adds a device, a key and the inactive-key scenario, and saves <out>/<prefix>-<view>.png.
// Usage: node scripts/screenshots-900.mjs <checkout dir> <prefix> [out dir]
//   e.g. node scripts/screenshots-900.mjs /work/wt/before before test-results/screenshots
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from '@playwright/test';

const [checkout, prefix, outArg] = process.argv.slice(2);
if (!checkout || !prefix) {
  console.error('usage: node scripts/screenshots-900.mjs <checkout dir> <prefix> [out dir]');
  process.exit(2);
}
const out = resolve(outArg ?? 'test-results/screenshots');
mkdirSync(out, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'keyport-shots-'));
const args = ['bin/keyport.mjs', 'serve', '--json', '--data', dataDir];
for (const p of ['--mqtt-port', '--ws-port', '--tls-port', '--http-port']) args.push(p, '0');
const child = spawn(process.execPath, args, { cwd: checkout, stdio: ['ignore', 'pipe', 'inherit'] });

const info = await new Promise((ok, fail) => {
  let json = '';
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    json += line;
    try {
      ok(JSON.parse(json));
      rl.close();
    } catch {
      // the ready document spans several lines
    }
  });
  child.once('exit', (code) => fail(new Error(`keyport serve exited with ${code}`)));
});

const token = readFileSync(info.adminTokenFile, 'utf8').trim();
/**
 * @param {string} method
 * @param {unknown} req
 */
async function rpc(method, req) {
  const res = await fetch(`http://127.0.0.1:${info.http}/rpc/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(req),
  });
  const reply = /** @type {{ ok: boolean; result: unknown; error?: { message: string } }} */ (await res.json());
  if (!reply.ok) throw new Error(`${method}: ${reply.error?.message}`);
  return reply.result;
}

try {
  const d = /** @type {{ id: string }} */ (
    await rpc('devices.create', { name: 'Greenhouse sensor', tags: [{ key: 'site', value: 'greenhouse' }] })
  );
  await rpc('keys.create', { name: 'greenhouse key', description: 'The greenhouse sensors', deviceIds: [d.id] });
  await rpc('simulator.runScenario', { name: 'inactive-key' });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  await page.goto(info.uiUrl);
  const base = info.uiUrl.replace(/#.*$/, '');
  // The scenario's refused connect reaches the decision feed once the simulated device has tried.
  await page.goto(`${base}#/decisions`);
  await page.locator('[data-testid="decision-row"][data-result="denied"]').first().waitFor();
  for (const view of ['decisions', 'simulator', 'keys']) {
    await page.goto(`${base}#/${view}`);
    await page.locator('main h1, main h2').first().waitFor();
    if (view === 'simulator') await page.locator('[data-testid="sim-card"]').first().waitFor();
    if (view === 'keys') await page.locator('[data-testid="key-row"]').first().waitFor();
    const path = join(out, `${prefix}-${view}.png`);
    await page.screenshot({ path });
    console.log(path);
  }
  await browser.close();
} finally {
  child.kill();
}
