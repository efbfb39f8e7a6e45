// Changes made by ANOTHER Keyport node reach this node's service as the events a local change
// sends (docs/design.md §11, "Clustered (Redis)"): so watchSessions (access-control.ts) closes the
// sessions of a key switched inactive or deleted on another node, marks a session whose device's
// tags changed there, and the UI bridge shows the change, all by the same path a local edit takes.
import type { AccessKeyRecord, Device } from '../core/types.ts';
import type { TypedEmitter } from '../shared/typed-emitter.ts';
import type { ExternalChange } from '../store/store.ts';
import type { ServiceEvents } from './events.ts';
import { publicKey } from './keys.ts';

/** What a store that other nodes write to offers (RedisStore); other stores lack it. */
export interface SharedStore {
  onExternalChange?(listener: (c: ExternalChange) => void): () => void;
}

/** Everything of a device but its live bookkeeping, to tell an edit from a status change. */
function edited(a: Device, b: Device): boolean {
  const { connectionStatus: _c1, lastState: _s1, ...x } = a;
  const { connectionStatus: _c2, lastState: _s2, ...y } = b;
  return JSON.stringify(x) !== JSON.stringify(y);
}

function deviceEvents(
  events: TypedEmitter<ServiceEvents>,
  before: Device | undefined,
  after: Device | undefined,
): void {
  if (!after) {
    if (before) events.emit('device.deleted', before);
    return;
  }
  if (!before) {
    events.emit('device.created', after);
    return;
  }
  if (edited(before, after)) events.emit('device.updated', { before, after });
  if (JSON.stringify(before.connectionStatus) !== JSON.stringify(after.connectionStatus))
    events.emit('device.status', after);
  if (after.lastState && before.lastState !== after.lastState && after.lastState.time !== before.lastState?.time)
    events.emit('device.state', { deviceId: after.id, state: after.lastState });
}

function keyEvents(
  events: TypedEmitter<ServiceEvents>,
  before: AccessKeyRecord | undefined,
  after: AccessKeyRecord | undefined,
): void {
  if (!after) {
    if (before) events.emit('key.deleted', publicKey(before));
  } else if (!before) events.emit('key.created', publicKey(after));
  else events.emit('key.updated', { before: publicKey(before), after: publicKey(after) });
}

/**
 * Sends the service's events for every change another node makes. Returns the unsubscribe. A store
 * no other node writes to (lowdb, memory) has nothing to follow: a no-op, so callers need not ask.
 */
export function followClusterChanges(service: { events: TypedEmitter<ServiceEvents> }, store: SharedStore): () => void {
  if (!store.onExternalChange) return () => undefined;
  return store.onExternalChange((c) => {
    if (c.kind === 'device') deviceEvents(service.events, c.before, c.after);
    else keyEvents(service.events, c.before, c.after);
  });
}
