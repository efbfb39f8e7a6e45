// Removing what the simulator made (docs/design.md §7): a scenario's Clear deletes its simulations, devices
// and keys; removing one simulation deletes the single-device simulator key it ran on and, for a
// scenario device, the device. Found both from what this process recorded and from the marks in
// the store (core/sim-marks.ts), so devices left by an earlier run of the server go too. Nothing
// the user made is touched: user devices cannot carry the mark, and only `createdVia: simulator`
// keys are deleted.
import { isReservedTagKey, simMarkOf } from '../core/sim-marks.ts';
import type { AccessKeyRecord, Device } from '../core/types.ts';
import type { SimulatedDevice } from './simulated-device.ts';
import type { SimulatorBackend } from './simulator-backend.ts';

export interface Made {
  deviceIds: Set<string>;
  keyIds: Set<string>;
}

export interface Removed {
  sims: number;
  devices: number;
  keys: number;
}

/** Devices and keys each scenario made in this process. */
export class MadeRecords {
  readonly #by = new Map<string, Made>();

  record(scenario: string, r: { deviceId?: string; keyId?: string }): void {
    let m = this.#by.get(scenario);
    if (!m) this.#by.set(scenario, (m = { deviceIds: new Set(), keyIds: new Set() }));
    if (r.deviceId !== undefined) m.deviceIds.add(r.deviceId);
    if (r.keyId !== undefined) m.keyIds.add(r.keyId);
  }

  take(scenario: string): Made {
    const m = this.#by.get(scenario) ?? { deviceIds: new Set(), keyIds: new Set() };
    this.#by.delete(scenario);
    return m;
  }
}

const simKeyOf = (k: AccessKeyRecord | undefined): k is AccessKeyRecord => k?.createdVia === 'simulator';

/**
 * What a scenario's Clear deletes besides `recorded`: devices marked `scenario:NAME`, and simulator
 * keys named after the scenario that serve only those devices or only reserved-tag devices.
 */
export function scenarioLeftovers(
  store: SimulatorBackend['store'],
  scenario: string,
  title: string,
  recorded: Made,
): Made {
  const deviceIds = new Set(recorded.deviceIds);
  for (const d of store.listDevices()) if (simMarkOf(d) === `scenario:${scenario}`) deviceIds.add(d.id);
  const keyIds = new Set(recorded.keyIds);
  for (const k of store.listKeys()) {
    if (!simKeyOf(k) || !(k.name ?? '').startsWith(`Simulator: ${title}: `)) continue;
    const ids = k.deviceIds ?? [];
    const tags = k.deviceTags ?? [];
    const onlyMade = ids.every((id) => deviceIds.has(id));
    const onlyReserved = tags.every((t) => t.key !== undefined && isReservedTagKey(t.key));
    if (ids.length + tags.length > 0 && onlyMade && onlyReserved) keyIds.add(k.id);
  }
  return { deviceIds, keyIds };
}

/**
 * Deletes keys, then devices (peripherals before the gateways they are bound to). Ones already gone
 * are skipped; a device that cannot go (a gateway a user's peripheral is bound to) is kept and named.
 */
export async function deleteMade(
  backend: SimulatorBackend,
  made: Made,
): Promise<{ devices: number; keys: number; kept: string[] }> {
  let keys = 0;
  let devices = 0;
  const kept: string[] = [];
  const keyIds = new Set(backend.store.listKeys().map((k) => k.id));
  for (const id of made.keyIds) {
    if (!keyIds.has(id)) continue;
    await backend.keys.remove(id);
    keys++;
  }
  const present = [...made.deviceIds]
    .map((id) => backend.store.getDevice(id))
    .filter((d): d is Device => d !== undefined)
    .sort((a, b) => rank(a) - rank(b));
  for (const d of present) {
    try {
      await backend.devices.remove(d.id);
      devices++;
    } catch (err) {
      kept.push(`${d.name} (${d.id}): ${(err as Error).message}`);
    }
  }
  return { devices, keys, kept };
}

const rank = (d: Device): number => (d.deviceClass === 'peripheral' ? 0 : 1);

/**
 * What removing one simulation deletes: the single-device simulator key it ran on (when no other
 * simulation uses it) and its device when a scenario made it (when no other simulation runs on it).
 */
export function ownedBy(sim: SimulatedDevice, others: SimulatedDevice[], store: SimulatorBackend['store']): Made {
  const made: Made = { deviceIds: new Set(), keyIds: new Set() };
  const key = store.getKeyByKey(sim.config.credentials.key);
  const single = key?.deviceIds?.length === 1 && key.deviceIds[0] === sim.deviceId && !key.deviceTags?.length;
  if (simKeyOf(key) && single && !others.some((o) => o.config.credentials.key === key.key)) made.keyIds.add(key.id);
  const device = store.getDevice(sim.deviceId);
  if (device && simMarkOf(device)?.startsWith('scenario:') && !others.some((o) => o.deviceId === sim.deviceId))
    made.deviceIds.add(device.id);
  return made;
}
