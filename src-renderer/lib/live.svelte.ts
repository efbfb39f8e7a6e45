// Live state shared by the views, kept in sync by contract events. Views read these; they call
// api.call(...) to change things and let the events update the lists.
import type { BrokerStatus } from '../../src-main/contract.ts';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { api, errorMessage } from './api.ts';
import { appendDecisions } from './decision-list.ts';

export const live = $state<{
  devices: Device[];
  keys: AccessKey[];
  decisions: DecisionEvent[];
  status: BrokerStatus | null;
  loaded: boolean;
  loadError: string;
}>({ devices: [], keys: [], decisions: [], status: null, loaded: false, loadError: '' });

function upsert<T extends { id: string }>(list: T[], item: T): T[] {
  const i = list.findIndex((x) => x.id === item.id);
  if (i < 0) return [...list, item];
  const next = [...list];
  next[i] = item;
  return next;
}

export async function refresh(): Promise<void> {
  try {
    const [devices, keys, decisions, status] = await Promise.all([
      api.call('devices.list', {}),
      api.call('keys.list', {}),
      api.call('decisions.list', { limit: 500 }),
      api.call('broker.status', {}).catch(() => null),
    ]);
    live.devices = devices;
    live.keys = keys;
    live.decisions = decisions;
    live.status = status;
    live.loaded = true;
    live.loadError = '';
  } catch (err) {
    live.loadError = errorMessage(err);
  }
}

let started = false;
export function startLive(): void {
  if (started) return;
  started = true;
  api.on('device.changed', (d) => (live.devices = upsert(live.devices, d)));
  api.on('device.deleted', ({ id }) => (live.devices = live.devices.filter((d) => d.id !== id)));
  api.on('key.changed', (k) => (live.keys = upsert(live.keys, k)));
  api.on('key.deleted', ({ id }) => (live.keys = live.keys.filter((k) => k.id !== id)));
  api.on('broker.status', (s) => {
    live.status = s;
  });
  api.on('decisions', (batch) => (live.decisions = appendDecisions(live.decisions, batch)));
  void refresh();
}

export function deviceName(id: string | undefined): string {
  if (!id) return '';
  return live.devices.find((d) => d.id === id)?.name ?? id;
}

export function keyLabel(id: string | undefined): string {
  if (!id) return '';
  const k = live.keys.find((x) => x.id === id);
  return k?.name ?? (k ? k.key.slice(0, 8) + '…' : id);
}
