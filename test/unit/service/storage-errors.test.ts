// A change the disk refuses crosses every transport as the 'storage' error (HTTP 507), with a
// message naming the file and the cause, and the change is not made: no key whose secret nobody
// has, no duplicate on retry.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src-main/service/dispatch.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { JOURNAL_FILE, openLowdbStore } from '../../../src-main/store/lowdb-store.ts';
import type { Store } from '../../../src-main/store/store.ts';
import { makeTempDir, removeTempDir, TEST_PEPPER } from '../../helpers/fixtures.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

type Call = (method: string, req: unknown) => ReturnType<typeof dispatch>;

async function setup(): Promise<{ dir: string; store: Store; fail: (on: boolean) => void; call: Call }> {
  const dir = await makeTempDir();
  let failing = false;
  const store = await openLowdbStore(dir, {
    log: () => {},
    beforeCommit: () => {
      if (failing) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  });
  cleanup.push(async () => {
    await store.close().catch(() => undefined);
    await removeTempDir(dir);
  });
  const service = new KeyportService({ store, pepper: TEST_PEPPER });
  const ctx = { service, dataDir: dir, listeners: () => null };
  const call: Call = (method, req) => dispatch(ctx, method, req);
  return { dir, store, fail: (on) => void (failing = on), call };
}

describe('storage errors', () => {
  it('keys.create on a full disk: code storage, a message naming the file, and no key made', async () => {
    const s = await setup();
    s.fail(true);
    const reply = await s.call('keys.create', { name: 'will not fit' });
    expect(reply).toEqual({
      ok: false,
      error: {
        code: 'storage',
        message: `disk full writing ${join(s.dir, JOURNAL_FILE)} (ENOSPC); the change was not saved`,
      },
    });
    expect(s.store.listKeys()).toEqual([]);
    s.fail(false);
    const retry = await s.call('keys.create', { name: 'will not fit' });
    expect(retry.ok).toBe(true);
    expect(s.store.listKeys()).toHaveLength(1); // the retry made one key, not a duplicate
  });

  it('devices.update on a full disk leaves the device as it was', async () => {
    const s = await setup();
    const created = await s.call('devices.create', { name: 'before' });
    if (!created.ok) throw new Error(created.error.message);
    const id = (created.result as { id: string }).id;
    s.fail(true);
    const reply = await s.call('devices.update', { id, patch: { name: 'after' } });
    expect(reply.ok === false && reply.error.code).toBe('storage');
    expect(s.store.getDevice(id)?.name).toBe('before');
  });
});
