// Fault tests start `keyport serve` on a data directory prepared here: a store file with devices
// and one device-scoped key each, and the pepper their verifiers were made with. Faster and
// independent of the CLI (a CLI call per device would be most of the run).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import type { AccessKeyRecord, Device } from '../../src-main/core/types.ts';
import { makeDevice, makeKeyWithSecret, TEST_PEPPER } from '../helpers/fixtures.ts';

export interface SeededDevice {
  device: Device;
  key: AccessKeyRecord;
  secret: string;
}

/** `keys: false`: devices only (a store of some size for write tests). */
export async function seedDataDir(dir: string, count: number, opts: { keys?: boolean } = {}): Promise<SeededDevice[]> {
  const seeded = Array.from({ length: count }, (_, i) => {
    const device = makeDevice({ name: `fault device ${i}` });
    const { record, secret } = makeKeyWithSecret({ deviceIds: [device.id] }, undefined, TEST_PEPPER);
    return { device, key: record, secret };
  });
  const data = {
    version: 1,
    applicationId: 'f'.repeat(24),
    devices: seeded.map((s) => s.device),
    keys: opts.keys === false ? [] : seeded.map((s) => s.key),
  };
  await writeFile(join(dir, 'keyport.json'), JSON.stringify(data), { mode: 0o600 });
  await writeFile(join(dir, 'pepper.key'), TEST_PEPPER, { mode: 0o600 });
  return seeded;
}

export function mqttOptions(s: SeededDevice): IClientOptions {
  return { clientId: s.device.id, username: s.key.key, password: s.secret };
}

/** A store file as the fault tests read it. */
export interface StoredFile {
  devices: Array<{ id: string; name: string; lastState?: { data: Record<string, unknown> } }>;
  keys: Array<{ id: string; name?: string }>;
}
