// Synthetic store records for the store benchmark and its load child: devices with two tags and
// (every other one) a last state, keys half tag-scoped, half single-device (issue 17 items 3, 4).
import { newId } from '../../src-main/core/ids.ts';
import { generateKey } from '../../src-main/core/secrets.ts';
import type { AccessKeyRecord, Device } from '../../src-main/core/types.ts';
import { STORE_VERSION, type StoreData } from '../../src-main/store/store.ts';

const KINDS = ['thermostat', 'sensor', 'gateway', 'meter'] as const;

function iso(i: number): string {
  return new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
}

export function benchDevice(i: number): Device {
  const at = iso(i);
  return {
    id: newId(),
    name: `${KINDS[i % 4]} ${i}`,
    description: i % 3 === 0 ? `site ${i % 97}` : '',
    tags: [
      { key: 'type', value: KINDS[i % 4] as string },
      { key: 'floor', value: String(i % 12) },
    ],
    deviceClass: 'standalone',
    creationDate: at,
    lastUpdated: at,
    connectionStatus: { status: 'disconnected', messagesFromClient: i % 50, messagesToClient: 0 },
    ...(i % 2 === 0 ? { lastState: { time: at, data: { temp: 20 + (i % 7), humidity: 40 + (i % 11) } } } : {}),
  };
}

export function benchKey(i: number, deviceId: string): AccessKeyRecord {
  const at = iso(i);
  return {
    id: newId(),
    key: generateKey(),
    name: `${KINDS[i % 4]} key ${i}`,
    description: '',
    status: i % 10 === 0 ? 'inactive' : 'active',
    ...(i % 2 === 0 ? { deviceTags: [{ key: 'type', value: KINDS[i % 4] as string }] } : { deviceIds: [deviceId] }),
    addressFilterType: 'all',
    addresses: [],
    filterType: i % 4 === 0 ? 'whitelist' : 'none',
    pubTopics: i % 4 === 0 ? [`site/${i % 97}/#`] : [],
    subTopics: [],
    creationDate: at,
    lastUpdated: at,
    createdVia: 'api',
    // Nobody connects with these keys; a real verifier would cost an HMAC each.
    secretVerifier: `hmac-sha256:${'0'.repeat(64)}`,
  };
}

/** A document of `size` devices and as many keys. */
export function benchStoreData(size: number): StoreData {
  const devices = Array.from({ length: size }, (_, i) => benchDevice(i));
  return {
    version: STORE_VERSION,
    applicationId: 'b'.repeat(24),
    devices,
    keys: devices.map((d, i) => benchKey(i, d.id)),
  };
}
