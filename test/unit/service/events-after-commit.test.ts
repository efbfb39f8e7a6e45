// Issue 11 item 5: an event listener can never fail or undo a committed change, and events go out
// only after the change is committed.
import { describe, expect, it } from 'vitest';
import type { AccessKeyRecord } from '../../../src-main/core/types.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import type { Store } from '../../../src-main/store/store.ts';

function serviceWithLog(store: Store = createMemoryStore()) {
  const lines: string[] = [];
  const service = new KeyportService({ store, pepper: Buffer.alloc(32, 9), log: (l) => lines.push(l) });
  return { service, lines };
}

describe('a listener that throws', () => {
  it("on 'key.created': keys.create still returns the key and its secret, the key is stored, the error is logged", async () => {
    const { service, lines } = serviceWithLog();
    const seenAfter: string[] = [];
    service.events.on('key.created', () => {
      throw new Error('listener exploded');
    });
    service.events.on('key.created', (k) => seenAfter.push(k.id));
    const created = await service.keys.create({ name: 'porch' });
    expect(created.secret.length).toBeGreaterThan(10);
    expect(service.store.getKey(created.accessKey.id)?.name).toBe('porch');
    expect(service.keys.get(created.accessKey.id).key).toBe(created.accessKey.key);
    expect(seenAfter).toEqual([created.accessKey.id]); // the next listener still ran
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"key.created"');
    expect(lines[0]).toContain('listener exploded');
    expect(lines.join('\n')).not.toContain(created.secret);
  });

  it('cannot fail device and key updates or deletes, nor an MQTT state report', async () => {
    const { service, lines } = serviceWithLog();
    const boom = () => {
      throw new Error('boom');
    };
    const d = await service.devices.create({ name: 'd' });
    const { accessKey } = await service.keys.create({ name: 'k' });
    for (const e of ['device.updated', 'device.deleted', 'key.updated', 'key.deleted', 'device.state'] as const)
      service.events.on(e, boom);
    service.events.on('device.status', boom);
    expect((await service.devices.update(d.id, { name: 'e' })).name).toBe('e');
    expect(service.telemetry.acceptReport(d.id, JSON.stringify({ data: { t: 1 } })).stored).toBe(true);
    expect(service.store.getDevice(d.id)?.lastState?.data).toEqual({ t: 1 });
    expect((await service.keys.update(accessKey.id, { name: 'l' })).name).toBe('l');
    await service.keys.remove(accessKey.id);
    expect(service.store.getKey(accessKey.id)).toBeUndefined();
    await service.devices.remove(d.id);
    expect(service.store.getDevice(d.id)).toBeUndefined();
    const failed = lines.map((l) => /"([^"]+)"/.exec(l)?.[1]);
    expect(failed).toEqual([
      'device.updated',
      'device.state',
      'device.status',
      'key.updated',
      'key.deleted',
      'device.deleted',
    ]);
  });

  it('in the decision feed does not stop the decision being recorded', () => {
    const { service, lines } = serviceWithLog();
    service.feed.events.on('decision', () => {
      throw new Error('feed listener broke');
    });
    const e = service.feed.record({
      transport: 'tcp',
      action: 'connect',
      result: 'denied',
      reason: 'key.unknown',
      rule: 'r',
    });
    expect(service.feed.list().map((x) => x.seq)).toEqual([e.seq]);
    expect(lines[0]).toContain('feed listener broke');
  });
});

describe('events go out after commit', () => {
  it('key.created waits for the store put to resolve, and a refused put sends none', async () => {
    const inner = createMemoryStore();
    let release: (() => void) | undefined;
    let refuse = false;
    const store: Store = Object.create(inner) as Store;
    store.putKey = async (k: AccessKeyRecord) => {
      if (refuse) throw new Error('disk full');
      await new Promise<void>((r) => (release = r));
      await inner.putKey(k);
    };
    const { service } = serviceWithLog(store);
    const events: string[] = [];
    service.events.on('key.created', (k) => events.push(k.id));
    const pending = service.keys.create({ name: 'slow' });
    await new Promise((r) => setImmediate(r));
    expect(release).toBeDefined();
    expect(events).toEqual([]); // not before the put resolved
    release?.();
    const { accessKey } = await pending;
    expect(events).toEqual([accessKey.id]);
    refuse = true;
    await expect(service.keys.create({ name: 'refused' })).rejects.toThrow('disk full');
    expect(events).toEqual([accessKey.id]);
  });
});
