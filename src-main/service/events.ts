// Events the service emits for the broker, the UI bridge and the CLI to follow.
// The rule every service method keeps: an event goes out only AFTER its change is committed: for
// a user edit once the store's put has resolved (durable); for lazy bookkeeping (connection
// status, lastUsed, MQTT state reports; see PutOptions.lazy) once the store has taken the change
// into memory, which it does synchronously or refuses without changing anything. Listeners are
// isolated (shared/typed-emitter.ts): one that throws is logged and cannot fail or undo the change.
import type { AccessKey, Command, Device, DeviceState } from '../core/types.ts';

export interface ServiceEvents {
  'device.created': Device;
  'device.updated': { before: Device; after: Device };
  'device.deleted': Device;
  'key.created': AccessKey;
  'key.updated': { before: AccessKey; after: AccessKey };
  'key.deleted': AccessKey;
  'device.state': { deviceId: string; state: DeviceState };
  'device.command': { deviceId: string; command: Command };
  'device.status': Device;
}
