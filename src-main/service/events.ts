// Events the service emits for the broker, the UI bridge and the CLI to follow.
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
