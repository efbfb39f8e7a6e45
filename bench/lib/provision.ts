// Devices and single-device keys made through the service, in batches whose store writes
// coalesce (each create is visible at once; one file write covers a whole batch).
import type { KeyportService } from '../../src-main/service/service.ts';
import type { ConnectFields } from './mqtt-wire.ts';

export interface DeviceCreds {
  deviceId: string;
  keyId: string;
  key: string;
  secret: string;
}

export async function provision(
  service: KeyportService,
  count: number,
  keyInput: (deviceId: string, i: number) => Record<string, unknown> = (id) => ({ deviceIds: [id] }),
  batch = 500,
): Promise<DeviceCreds[]> {
  const out: DeviceCreds[] = [];
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const devices = await Promise.all(
      Array.from({ length: n }, (_, j) => service.devices.create({ name: `bench device ${i + j}` })),
    );
    const keys = await Promise.all(
      devices.map((d, j) =>
        service.keys.create({ name: `bench key ${i + j}`, createdVia: 'api', ...keyInput(d.id, i + j) }),
      ),
    );
    devices.forEach((d, j) => {
      const k = keys[j];
      if (k) out.push({ deviceId: d.id, keyId: k.accessKey.id, key: k.accessKey.key, secret: k.secret });
    });
  }
  return out;
}

export const asConnect = (c: DeviceCreds): ConnectFields => ({
  clientId: c.deviceId,
  username: c.key,
  password: c.secret,
});

/** The state report both publish benches send: 82 bytes of Losant state. */
export const STATE_PAYLOAD = JSON.stringify({
  data: { temperature: 21.5, humidity: 40.25, status: 'running', counter: 123456 },
});

/**
 * A publisher and a subscriber, each its own device with a single-device key allowed `bench/#`,
 * plus the subscriber's credentials under a second key that covers both devices (it reads the
 * publisher's state topic).
 */
export async function provisionPubSub(
  service: KeyportService,
): Promise<{ pub: DeviceCreds; sub: DeviceCreds; subState: ConnectFields }> {
  const [pub, sub] = await provision(service, 2, (id) => ({
    deviceIds: [id],
    filterType: 'whitelist',
    pubTopics: ['bench/#'],
    subTopics: ['bench/#'],
  }));
  if (!pub || !sub) throw new Error('publish: provisioning failed');
  const both = await service.keys.create({
    name: 'bench subscriber (publisher and itself)',
    deviceIds: [sub.deviceId, pub.deviceId],
    filterType: 'whitelist',
    pubTopics: ['bench/#'],
    subTopics: ['bench/#'],
  });
  return { pub, sub, subState: { ...asConnect(sub), username: both.accessKey.key, password: both.secret } };
}
