// Runs the Store contract against both implementations, plus the memory store's own options
// and the document validator's messages.
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import { openLowdbStore } from '../../../src-main/store/lowdb-store.ts';
import { StoreRecordError } from '../../../src-main/store/store.ts';
import { validateStoreData } from '../../../src-main/store/validate-data.ts';
import { makeDevice, makeKeyRecord, makeTempDir, removeTempDir } from '../../helpers/fixtures.ts';
import { runStoreContract } from './store-contract.ts';

runStoreContract('memory', async () => ({ store: createMemoryStore() }));

runStoreContract(
  'lowdb',
  async () => {
    const dir = await makeTempDir();
    const store = await openLowdbStore(dir);
    return {
      store,
      reopen: async () => {
        await store.close();
        return openLowdbStore(dir);
      },
      cleanup: () => removeTempDir(dir),
    };
  },
  { persistent: true },
);

describe('createMemoryStore(init)', () => {
  it('starts from the given data and applicationId', () => {
    const device = makeDevice();
    const key = makeKeyRecord();
    const store = createMemoryStore({ applicationId: 'a'.repeat(24), devices: [device], keys: [key] });
    expect(store.applicationId).toBe('a'.repeat(24));
    expect(store.getDevice(device.id)).toEqual(device);
    expect(store.getKeyByKey(key.key)).toEqual(key);
    device.name = 'changed';
    expect(store.getDevice(device.id)?.name).toBe('Test device');
  });

  it('makes a fresh applicationId per store', () => {
    expect(createMemoryStore().applicationId).not.toBe(createMemoryStore().applicationId);
  });

  it('refuses invalid initial data', () => {
    const key = makeKeyRecord();
    expect(() => createMemoryStore({ keys: [key, makeKeyRecord({ key: key.key })] })).toThrow(StoreRecordError);
    expect(() => createMemoryStore({ applicationId: 'nope' })).toThrow('applicationId: must be 24 lowercase hex');
  });
});

describe('validateStoreData', () => {
  const base = () => ({ version: 1, applicationId: 'b'.repeat(24), devices: [makeDevice()], keys: [makeKeyRecord()] });

  it('accepts a valid document', () => {
    expect(validateStoreData(base())).toBeNull();
  });

  it('accepts key tag items with both sides (files written before issue 14), a key only or a value only', () => {
    const keys = [
      makeKeyRecord({ deviceTags: [{ key: 'type', value: 'thermostat' }] }),
      makeKeyRecord({ deviceTags: [{ key: 'type' }, { value: '2' }] }),
    ];
    expect(validateStoreData({ ...base(), keys })).toBeNull();
  });

  it('refuses a file with an own __proto__ property (as JSON.parse makes it), naming where', () => {
    const text = JSON.stringify(base()).replace('"status":', '"__proto__":{"status":"inactive"},"status":');
    expect(validateStoreData(JSON.parse(text))).toContain(
      'keys[0].__proto__: the property name "__proto__" is not allowed',
    );
    expect(validateStoreData(JSON.parse('{"constructor": {}}'))).toContain('constructor: the property name');
  });

  it.each([
    ['not an object', () => [], 'top level: must be an object'],
    ['no version', () => ({ ...base(), version: undefined }), 'version: missing (this Keyport reads version 1)'],
    ['version 7', () => ({ ...base(), version: 7 }), 'version: unsupported version 7 (this Keyport reads version 1)'],
    [
      'bad device id',
      () => ({ ...base(), devices: [makeDevice({ id: 'ABC' })] }),
      'devices[0].id: must be 24 lowercase hex characters',
    ],
    [
      'bad key status',
      () => ({
        ...base(),
        keys: [makeKeyRecord(), makeKeyRecord(), makeKeyRecord(), { ...makeKeyRecord(), status: 'on' }],
      }),
      'keys[3].status: must be "active" or "inactive"',
    ],
    [
      'bad filterType',
      () => ({ ...base(), keys: [{ ...makeKeyRecord(), filterType: 'some' }] }),
      'keys[0].filterType: must be one of "none", "all", "whitelist", "blacklist"',
    ],
    [
      'bad tag',
      () => ({ ...base(), devices: [{ ...makeDevice(), tags: [{ key: 'a' }] }] }),
      'devices[0].tags[0].value: must be a string',
    ],
    [
      'key tag item with neither side',
      () => ({ ...base(), keys: [makeKeyRecord({ deviceTags: [{}] })] }),
      'keys[0].deviceTags[0]: must have a key, a value or both',
    ],
    [
      'key tag item with an empty key',
      () => ({ ...base(), keys: [makeKeyRecord({ deviceTags: [{ key: '' }] })] }),
      'keys[0].deviceTags[0].key: must not be empty',
    ],
    [
      'an attribute with an unknown data type',
      () => ({ ...base(), devices: [makeDevice({ attributes: [{ name: 't', dataType: 'int' as never }] })] }),
      'devices[0].attributes[0].dataType: must be one of "number", "string", "boolean", "gps", "blob"',
    ],
    [
      'a device class Keyport does not know',
      () => ({ ...base(), devices: [{ ...makeDevice(), deviceClass: 'router' }] }),
      'devices[0].deviceClass: must be one of "standalone", "gateway", "peripheral", "floating", "edgeCompute", "embedded", "system"',
    ],
    [
      'bad date',
      () => ({ ...base(), keys: [{ ...makeKeyRecord(), lastUsed: 'yesterday' }] }),
      'keys[0].lastUsed: must be an ISO 8601 date string',
    ],
    [
      'missing verifier',
      () => ({ ...base(), keys: [{ ...makeKeyRecord(), secretVerifier: undefined }] }),
      'keys[0].secretVerifier: must be a string',
    ],
    [
      'plaintext secret',
      () => ({ ...base(), keys: [{ ...makeKeyRecord(), secret: 'c'.repeat(64) }] }),
      'keys[0] has a plaintext secret field; Keyport never stores secrets',
    ],
    [
      'duplicate device id',
      () => {
        const d = makeDevice();
        return { ...base(), devices: [d, makeDevice(), { ...d }] };
      },
      `devices[2].id: duplicate id`,
    ],
    [
      'duplicate key string',
      () => {
        const k = makeKeyRecord();
        return { ...base(), keys: [k, makeKeyRecord({ key: k.key })] };
      },
      'keys[1].key: duplicate key',
    ],
  ])('%s', (_label, make, expected) => {
    expect(validateStoreData(make())).toContain(expected);
  });
});
