// POST /auth/device never waits on bookkeeping (issue 17 item 5): a key's lastUsed is recorded in
// memory at once and written lazily, after the answer; a failed write is logged; a clean shutdown
// still writes it. Real HTTP on port 0; the store's file writes are held or failed at the rename.
import { afterEach, describe, expect, it } from 'vitest';
import { losantApiRoutes } from '../../src-main/server/losant-api/routes.ts';
import { openLowdbStore } from '../../src-main/store/lowdb-store.ts';
import type { Store } from '../../src-main/store/store.ts';
import { makeTempDir, removeTempDir } from '../helpers/fixtures.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

const dirs: string[] = [];
const harnesses: Harness[] = [];
const stores: Store[] = [];
const releases: Array<() => void> = [];

afterEach(async () => {
  for (const release of releases.splice(0)) release(); // a failed case must not leave a write held
  for (const h of harnesses.splice(0)) await h.stop().catch(() => {});
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) await removeTempDir(d);
});

/** A harness whose store file writes pass through `beforeRename` (the test's gate). */
async function start(beforeRename: () => void | Promise<void>, log: (line: string) => void = () => {}) {
  const storeDir = await makeTempDir();
  dirs.push(storeDir);
  const store = await openLowdbStore(storeDir, { beforeCommit: beforeRename, log });
  const h = await startHarness({
    store,
    log,
    routes: (rt) => losantApiRoutes({ ...rt, trustedProxies: ['127.0.0.0/8', '::1/128'] }),
  });
  harnesses.push(h);
  const device = await h.device();
  const { accessKey, secret } = await h.key({ deviceIds: [device.id] });
  const auth = () =>
    fetch(`http://127.0.0.1:${h.rt.ports.http}/auth/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ deviceId: device.id, key: accessKey.key, secret }),
    });
  return { h, storeDir, keyId: accessKey.id, auth };
}

describe('POST /auth/device and the lastUsed write', () => {
  it('answers while the lastUsed write is held, and the clean shutdown still writes it', async () => {
    let hold = false;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    releases.push(() => release());
    const { h, storeDir, keyId, auth } = await start(() => (hold ? held : undefined));
    expect(h.rt.service.store.getKey(keyId)?.lastUsed).toBeUndefined();

    hold = true; // every store write from now on waits at the rename until release()
    // Before issue 17 the handler awaited this very write, so with the write held this never
    // answered (the case then fails on the test timeout).
    const r = await auth();
    expect(r.status, await r.text()).toBe(200);
    const lastUsed = h.rt.service.store.getKey(keyId)?.lastUsed;
    expect(lastUsed).toEqual(expect.any(String));

    release();
    await h.stop();
    harnesses.splice(0);
    const reopened = await openLowdbStore(storeDir);
    stores.push(reopened);
    expect(reopened.getKey(keyId)?.lastUsed).toBe(lastUsed);
  });

  it('a lastUsed write that fails is logged, naming the key, and the answer was already given', async () => {
    let fail = false;
    const lines: string[] = [];
    let logged!: () => void;
    const sawLine = new Promise<void>((r) => (logged = r));
    const { keyId, auth } = await start(
      () => {
        if (fail) throw new Error('injected: no space left on device');
      },
      (line) => {
        lines.push(line);
        if (line.includes('could not record the use')) logged();
      },
    );
    fail = true;
    const r = await auth();
    expect(r.status, await r.text()).toBe(200);
    await sawLine; // the lazy write goes out within LAZY_WRITE_MS and fails
    expect(lines.find((l) => l.includes('could not record the use'))).toContain(keyId);
    expect(lines.join('\n')).toContain('injected: no space left on device');
  });
});
