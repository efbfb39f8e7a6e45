// How management changes reach live sessions (docs/design.md §4): a key set inactive or deleted closes its
// connections at once; a device whose tags change stays connected (scope was resolved at connect)
// and is marked "scope changed since connect"; a deleted device is disconnected.
import { deviceMatches } from '../core/device-scope.ts';
import type { ReasonCode, Tag } from '../core/types.ts';
import type { BrokerBackend } from './broker-backend.ts';
import type { LiveSession, Sessions } from './sessions.ts';

const sameTags = (a: readonly Tag[], b: readonly Tag[]): boolean =>
  a.length === b.length && a.every((t, i) => t.key === b[i]?.key && t.value === b[i]?.value);

export function watchServiceChanges(
  service: BrokerBackend,
  sessions: Sessions,
  close: (s: LiveSession, reason: ReasonCode) => void,
): () => void {
  const offs = [
    service.events.on('key.updated', ({ before, after }) => {
      if (before.status === 'active' && after.status === 'inactive') {
        for (const s of sessions.forKey(after.id)) close(s, 'key.inactive');
      }
    }),
    service.events.on('key.deleted', (key) => {
      for (const s of sessions.forKey(key.id)) close(s, 'key.deleted');
    }),
    service.events.on('device.updated', ({ before, after }) => {
      if (sameTags(before.tags, after.tags)) return;
      const s = sessions.forDevice(after.id);
      const key = s ? service.store.getKey(s.keyId) : undefined;
      if (!s || !key || s.scopeChangedSinceConnect) return;
      if (deviceMatches(key, before) !== deviceMatches(key, after)) {
        s.scopeChangedSinceConnect = true;
        const status = service.store.getDevice(after.id)?.connectionStatus;
        if (status) void service.devices.setConnectionStatus(after.id, { ...status, scopeChangedSinceConnect: true });
      }
    }),
    service.events.on('device.deleted', (device) => {
      const s = sessions.forDevice(device.id);
      if (s) close(s, 'device.unknown');
    }),
  ];
  return () => offs.forEach((off) => off());
}
