// The Store contract: one suite, run against every implementation (store.test.ts).
// Modelled on MQTT.js test/node/abstract_store.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { StoreClosedError, StoreRecordError } from '../../../src-main/store/store.ts';
import type { Store } from '../../../src-main/store/store.ts';
import { makeDevice, makeKeyRecord } from '../../helpers/fixtures.ts';

const FIXTURE_LATER = '2026-03-01T12:00:00.000Z';

export interface StoreUnderTest {
  store: Store;
  /** Closes `store` and opens the same data again (persistent implementations only). */
  reopen?: () => Promise<Store>;
  cleanup?: () => Promise<void>;
}

export interface ContractOptions {
  /** The store keeps data across close/reopen; makeStore must then return `reopen`. */
  persistent?: boolean;
}

export function runStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: ContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];

    async function setup(): Promise<StoreUnderTest> {
      const made = await makeStore();
      cleanups.push(async () => {
        await made.store.close();
        await made.cleanup?.();
      });
      return made;
    }

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0)) await cleanup();
    });

    it('starts empty with a 24-hex applicationId that does not change', async () => {
      const { store } = await setup();
      expect(store.listDevices()).toEqual([]);
      expect(store.listKeys()).toEqual([]);
      expect(store.applicationId).toMatch(/^[0-9a-f]{24}$/);
      await store.putDevice(makeDevice());
      expect(store.applicationId).toBe(store.applicationId);
    });

    it('puts, gets, lists, replaces and deletes devices', async () => {
      const { store } = await setup();
      const a = makeDevice({ name: 'a', tags: [{ key: 'floor', value: '1' }] });
      const b = makeDevice({ name: 'b', deviceClass: 'gateway' });
      await store.putDevice(a);
      await store.putDevice(b);
      expect(store.getDevice(a.id)).toEqual(a);
      expect(store.listDevices().map((d) => d.id)).toEqual([a.id, b.id]);

      await store.putDevice({ ...a, name: 'a2' });
      expect(store.getDevice(a.id)?.name).toBe('a2');
      expect(store.listDevices().map((d) => d.name)).toEqual(['a2', 'b']);

      expect(await store.deleteDevice(a.id)).toBe(true);
      expect(store.getDevice(a.id)).toBeUndefined();
      expect(await store.deleteDevice(a.id)).toBe(false);
      expect(store.listDevices()).toEqual([b]);
    });

    it('puts, gets, lists and deletes keys, keeping getKeyByKey in step', async () => {
      const { store } = await setup();
      const k1 = makeKeyRecord({ name: 'one' });
      const k2 = makeKeyRecord({ deviceIds: [makeDevice().id] });
      await store.putKey(k1);
      await store.putKey(k2);
      expect(store.getKey(k1.id)).toEqual(k1);
      expect(store.getKeyByKey(k1.key)).toEqual(k1);
      expect(store.getKeyByKey(k2.key)).toEqual(k2);
      expect(store.listKeys().map((k) => k.id)).toEqual([k1.id, k2.id]);

      expect(await store.deleteKey(k1.id)).toBe(true);
      expect(store.getKey(k1.id)).toBeUndefined();
      expect(store.getKeyByKey(k1.key)).toBeUndefined();
      expect(await store.deleteKey(k1.id)).toBe(false);
      expect(store.listKeys()).toEqual([k2]);
      expect(store.getKeyByKey('no-such-key')).toBeUndefined();
    });

    it('getKeyByKey returns the new record after a put that keeps the key string', async () => {
      const { store } = await setup();
      const k = makeKeyRecord();
      await store.putKey(k);
      await store.putKey({ ...k, status: 'inactive', lastUsed: '2026-02-01T00:00:00.000Z' });
      expect(store.getKeyByKey(k.key)?.status).toBe('inactive');
      expect(store.getKeyByKey(k.key)).toBe(store.getKey(k.id));
    });

    it('a replace that changes the key string moves the index entry', async () => {
      const { store } = await setup();
      const k = makeKeyRecord();
      await store.putKey(k);
      const moved = { ...k, key: makeKeyRecord().key };
      await store.putKey(moved);
      expect(store.getKeyByKey(k.key)).toBeUndefined();
      expect(store.getKeyByKey(moved.key)?.id).toBe(k.id);
      expect(store.listKeys()).toHaveLength(1);
    });

    it('refuses a key string already used by another key, and changes nothing', async () => {
      const { store } = await setup();
      const k1 = makeKeyRecord();
      await store.putKey(k1);
      const clash = makeKeyRecord({ key: k1.key });
      await expect(store.putKey(clash)).rejects.toBeInstanceOf(StoreRecordError);
      expect(store.getKey(clash.id)).toBeUndefined();
      expect(store.getKeyByKey(k1.key)?.id).toBe(k1.id);
    });

    it('refuses invalid records (a secret field, a bad enum, a bad id) and changes nothing', async () => {
      const { store } = await setup();
      const withSecret = { ...makeKeyRecord(), secret: 'a'.repeat(64) };
      await expect(store.putKey(withSecret)).rejects.toThrow(/plaintext secret field/);
      const badStatus = { ...makeKeyRecord(), status: 'enabled' } as unknown as ReturnType<typeof makeKeyRecord>;
      await expect(store.putKey(badStatus)).rejects.toThrow('key.status: must be "active" or "inactive"');
      await expect(store.putDevice(makeDevice({ id: 'XYZ' }))).rejects.toThrow('device.id: must be 24 lowercase hex');
      expect(store.listKeys()).toEqual([]);
      expect(store.listDevices()).toEqual([]);
    });

    it('isolates stored records from the caller: clone on put, frozen on read', async () => {
      const { store } = await setup();
      const device = makeDevice({ tags: [{ key: 'a', value: '1' }] });
      const key = makeKeyRecord({ pubTopics: ['x'] });
      await store.putDevice(device);
      await store.putKey(key);
      device.name = 'changed';
      device.tags[0]!.value = 'changed';
      key.pubTopics.push('y');
      key.status = 'inactive';
      expect(store.getDevice(device.id)?.name).toBe('Test device');
      expect(store.getDevice(device.id)?.tags).toEqual([{ key: 'a', value: '1' }]);
      expect(store.getKey(key.id)?.pubTopics).toEqual(['x']);
      expect(store.getKeyByKey(key.key)?.status).toBe('active');

      const read = store.getKey(key.id)!;
      expect(Object.isFrozen(read)).toBe(true);
      expect(Object.isFrozen(read.pubTopics)).toBe(true);
      expect(() => {
        read.status = 'inactive';
      }).toThrow(TypeError);
      const list = store.listKeys();
      list.pop();
      expect(store.listKeys()).toHaveLength(1);
    });

    it('putLastState replaces only the last state, reusing the rest of the record', async () => {
      const { store } = await setup();
      const d = makeDevice({ tags: [{ key: 'floor', value: '1' }] });
      await store.putDevice(d);
      const before = store.getDevice(d.id);
      const data = { t: 21.5, pos: { x: 1 } };
      const durable = store.putLastState(d.id, { time: FIXTURE_LATER, data });
      expect(durable).toBeInstanceOf(Promise);
      const after = store.getDevice(d.id);
      expect(after).toEqual({ ...d, lastState: { time: FIXTURE_LATER, data: { t: 21.5, pos: { x: 1 } } } });
      expect(after?.tags).toBe(before?.tags);
      expect(Object.isFrozen(after) && Object.isFrozen(after?.lastState?.data)).toBe(true);
      expect(Object.isFrozen(after?.lastState?.data.pos)).toBe(true);
      expect([...store.devicesTagged({ key: 'floor', value: '1' })]).toEqual([d.id]);
      await durable;
    });

    it('putLastState: false for an unknown device; refuses an unfit state, changing nothing', async () => {
      const { store } = await setup();
      const d = makeDevice();
      await store.putDevice(d);
      expect(store.putLastState('0123456789abcdef01234567', { time: FIXTURE_LATER, data: {} })).toBe(false);
      expect(() => store.putLastState(d.id, { time: 'yesterday-ish', data: {} })).toThrow(
        /device\.lastState\.time: must be an ISO 8601 date string/,
      );
      const bad = JSON.parse('{"a": {"__proto__": {"x": 1}}}') as Record<string, never>;
      expect(() => store.putLastState(d.id, { time: FIXTURE_LATER, data: bad })).toThrow(StoreRecordError);
      expect(() => store.putLastState(d.id, { time: FIXTURE_LATER, data: bad })).toThrow(
        /device\.lastState\.data\.a\.__proto__/,
      );
      expect(store.getDevice(d.id)).toEqual(d);
      await store.close();
      expect(() => store.putLastState(d.id, { time: FIXTURE_LATER, data: {} })).toThrow(StoreClosedError);
    });

    it('putLastUsed replaces only lastUsed, keeping getKeyByKey in step; false for an unknown key', async () => {
      const { store } = await setup();
      const k = makeKeyRecord({ deviceTags: [{ key: 'site', value: 'lab' }] });
      await store.putKey(k);
      const before = store.getKey(k.id);
      const durable = store.putLastUsed(k.id, FIXTURE_LATER);
      expect(durable).toBeInstanceOf(Promise);
      const after = store.getKey(k.id);
      expect(after).toEqual({ ...k, lastUsed: FIXTURE_LATER });
      expect(after?.deviceTags).toBe(before?.deviceTags);
      expect(Object.isFrozen(after)).toBe(true);
      expect(store.getKeyByKey(k.key)).toBe(after);
      expect(store.putLastUsed('0123456789abcdef01234567', FIXTURE_LATER)).toBe(false);
      await durable;
    });

    it('putLastUsed refuses an unfit timestamp, changing nothing; refused after close', async () => {
      const { store } = await setup();
      const k = makeKeyRecord();
      await store.putKey(k);
      expect(() => store.putLastUsed(k.id, 'last tuesday')).toThrow(StoreRecordError);
      expect(() => store.putLastUsed(k.id, 'last tuesday')).toThrow(/key\.lastUsed/);
      expect(store.getKey(k.id)).toEqual(k);
      await store.close();
      expect(() => store.putLastUsed(k.id, FIXTURE_LATER)).toThrow(StoreClosedError);
    });

    it('a put is visible to reads as soon as it is called', async () => {
      const { store } = await setup();
      const key = makeKeyRecord();
      const pending = store.putKey(key);
      expect(store.getKeyByKey(key.key)?.id).toBe(key.id);
      await pending;
    });

    it('many concurrent puts are all visible', async () => {
      const { store } = await setup();
      const keys = Array.from({ length: 300 }, () => makeKeyRecord());
      const devices = Array.from({ length: 100 }, () => makeDevice());
      await Promise.all([...keys.map((k) => store.putKey(k)), ...devices.map((d) => store.putDevice(d))]);
      expect(store.listKeys()).toHaveLength(300);
      expect(store.listDevices()).toHaveLength(100);
      for (const k of keys) expect(store.getKeyByKey(k.key)?.id).toBe(k.id);
    });

    it('flush resolves; writes after close are refused', async () => {
      const { store } = await setup();
      void store.putDevice(makeDevice());
      await store.flush();
      await store.flush();
      await store.close();
      await expect(store.putDevice(makeDevice())).rejects.toBeInstanceOf(StoreClosedError);
      await expect(store.deleteKey('0'.repeat(24))).rejects.toBeInstanceOf(StoreClosedError);
    });

    // Only registered for persistent stores (a skipped test would show up in every run's totals).
    if (!options.persistent) return;
    it('after reopen, everything acknowledged is there', async () => {
      const made = await setup();
      if (!made.reopen) throw new Error('a persistent store under test must provide reopen()');
      const { store } = made;
      const gone = makeKeyRecord();
      const kept = makeKeyRecord({ deviceTags: [{ key: 'site', value: 'lab' }], lastUsed: FIXTURE_LATER });
      const device = makeDevice({
        deviceClass: 'peripheral',
        gatewayId: makeDevice().id,
        connectionStatus: { status: 'disconnected', messagesFromClient: 3, messagesToClient: 1 },
        lastState: { time: FIXTURE_LATER, data: { temp: 21.5, on: true, nested: { a: 1 } } },
      });
      await store.putKey(gone);
      await store.putKey(kept);
      await store.putDevice(device);
      await store.deleteKey(gone.id);
      const applicationId = store.applicationId;

      const reopened = await made.reopen();
      cleanups.push(() => reopened.close());
      expect(reopened.applicationId).toBe(applicationId);
      expect(reopened.listKeys()).toEqual([kept]);
      expect(reopened.getKeyByKey(kept.key)).toEqual(kept);
      expect(reopened.getKeyByKey(gone.key)).toBeUndefined();
      expect(reopened.getDevice(device.id)).toEqual(device);
    });

    it('a lastUsed put by putLastUsed is there after reopen', async () => {
      const made = await setup();
      const k = makeKeyRecord();
      await made.store.putKey(k);
      await made.store.putLastUsed(k.id, FIXTURE_LATER);
      const reopened = await made.reopen!();
      cleanups.push(() => reopened.close());
      expect(reopened.getKey(k.id)).toEqual({ ...k, lastUsed: FIXTURE_LATER });
      expect(reopened.getKeyByKey(k.key)?.lastUsed).toBe(FIXTURE_LATER);
    });
  });
}
