// The devices and keys of `keyport simulate --fleet` (docs/design.md §7): made through the target's
// API, one new single-device key each, and removed at the end unless --keep. With --shard I/S
// only this shard's numbers are made, named as in the whole fleet (`Fleet device 0251` of 1000),
// so shards on several machines never make the same device and one creator per shard never races
// another on a record.
import { fleetDeviceName } from '../core/fleet-names.ts';
import { declaredAttributes } from '../simulator/generators.ts';
import type { SimConfig } from '../simulator/types.ts';
import type { Plan } from './simulate-plan.ts';
import type { SimTarget } from './simulate-target.ts';

export type Say = (human: string, json: Record<string, unknown>) => void;
/** Devices and keys this run made (removed at the end unless --keep). */
export type Made = { deviceIds: string[]; keyIds: string[] };
/** One device to simulate; `n` is its number in the whole fleet (1 for a single device). */
export type Planned = { config: SimConfig; keyId?: string; n: number };

/**
 * Makes the fleet's devices and one key for each, through the target's API, 50 at a time; stops
 * between batches once `stopping()` says so (what was made is in `made`, for removal).
 */
export async function provisionFleet(
  plan: Plan,
  target: SimTarget,
  say: Say,
  made: Made,
  stopping: () => boolean = () => false,
): Promise<Planned[]> {
  const f = plan.fleet!;
  const api = target.api!;
  const configs: Planned[] = [];
  const { first, size } = f.range;
  const attributes = declaredAttributes(plan.behaviour);
  for (let i = 0; i < f.count && !stopping(); i += 50) {
    const batch = Array.from({ length: Math.min(50, f.count - i) }, (_, j) => first + i + j);
    const out = await Promise.all(
      batch.map(async (n) => {
        const name = fleetDeviceName(f.prefix, n, size);
        const device = await api.call('devices.create', {
          name,
          ...(f.tags.length ? { tags: f.tags } : {}),
          ...(attributes?.length ? { attributes } : {}),
        });
        made.deviceIds.push(device.id);
        const k = await api.call('keys.create', {
          deviceIds: [device.id],
          name: `Simulator: ${name}`,
          createdVia: 'simulator',
        });
        made.keyIds.push(k.accessKey.id);
        return {
          config: {
            deviceId: device.id,
            name,
            credentials: { key: k.accessKey.key, secret: k.secret },
            behaviour: plan.behaviour,
            transport: plan.transport,
          },
          keyId: k.accessKey.id,
          n,
        };
      }),
    );
    configs.push(...out);
    say(`created ${configs.length}/${f.count} devices, each with its own key`, {
      type: 'progress',
      phase: 'creating',
      created: configs.length,
      size: f.count,
    });
  }
  return configs;
}

export async function removeMade(target: SimTarget, made: Made): Promise<void> {
  const api = target.api!;
  for (const [method, ids] of [
    ['keys.delete', made.keyIds],
    ['devices.delete', made.deviceIds],
  ] as const) {
    for (let i = 0; i < ids.length; i += 50)
      await Promise.all(ids.slice(i, i + 50).map((id) => api.call(method, { id }).catch(() => {})));
  }
}
