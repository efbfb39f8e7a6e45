// Keyport records in the field names of Losant's REST schemas (losant-rest lib/schemas):
// applicationKey, applicationKeyPostResponse, device, authedDevice, deviceCommands.
// Keyport-only fields (name, addressFilterType, addresses, lastUsed, createdVia) are added
// alongside; Losant's schemas allow extra properties in responses.
import type { Command } from '../../core/payloads.ts';
import { copyTagMatch } from '../../core/device-scope.ts';
import type { AccessKey, Device, TagMatch } from '../../core/types.ts';

export interface LosantKey {
  id: string;
  applicationKeyId: string;
  applicationId: string;
  creationDate: string;
  lastUpdated: string;
  key: string;
  status: AccessKey['status'];
  name?: string;
  description: string;
  deviceIds?: string[];
  deviceTags?: TagMatch[];
  filterType: AccessKey['filterType'];
  pubTopics: string[];
  subTopics: string[];
  addressFilterType: AccessKey['addressFilterType'];
  addresses: string[];
  lastUsed?: string;
  createdVia: AccessKey['createdVia'];
}

export function keyToLosant(k: AccessKey, applicationId: string): LosantKey {
  return {
    id: k.id,
    applicationKeyId: k.id,
    applicationId,
    creationDate: k.creationDate,
    lastUpdated: k.lastUpdated,
    key: k.key,
    status: k.status,
    ...(k.name !== undefined ? { name: k.name } : {}),
    description: k.description ?? '',
    ...(k.deviceIds?.length ? { deviceIds: [...k.deviceIds] } : {}),
    ...(k.deviceTags?.length ? { deviceTags: k.deviceTags.map(copyTagMatch) } : {}),
    filterType: k.filterType,
    pubTopics: [...k.pubTopics],
    subTopics: [...k.subTopics],
    addressFilterType: k.addressFilterType,
    addresses: [...k.addresses],
    ...(k.lastUsed !== undefined ? { lastUsed: k.lastUsed } : {}),
    createdVia: k.createdVia,
  };
}

/**
 * Losant's `connectionInfo`: `connected` is 1 (connected), 0 (disconnected) or null (never
 * connected); `time` is when that last changed. Keyport adds the address, transport and reason.
 */
export interface LosantConnectionInfo {
  connected: 1 | 0 | null;
  time?: string;
  ipAddress?: string;
  transport?: string;
  disconnectReason?: string;
}

export function connectionInfo(d: Device): LosantConnectionInfo {
  const s = d.connectionStatus;
  if (!s || (s.status === 'disconnected' && !s.connectedAt)) return { connected: null };
  const connected = s.status === 'connected';
  const time = connected ? s.connectedAt : (s.disconnectedAt ?? s.connectedAt);
  return {
    connected: connected ? 1 : 0,
    ...(time ? { time } : {}),
    ...(s.ipAddress ? { ipAddress: s.ipAddress } : {}),
    ...(s.transport ? { transport: s.transport } : {}),
    ...(!connected && s.disconnectReason ? { disconnectReason: s.disconnectReason } : {}),
  };
}

/** Sort key for Losant's `sortField=connectionStatus`: never connected < disconnected < connected. */
export function connectionRank(d: Device): number {
  const c = connectionInfo(d).connected;
  return c === null ? -1 : c;
}

/** Losant's device attribute (schema device.attributes[]): name + dataType, optional description. */
export interface LosantAttribute {
  name: string;
  dataType: string;
  description?: string;
  contentType?: string;
}

/** The declared attributes in Losant's shape (Keyport keeps name and dataType; docs/design.md §2). */
function attributesOf(d: Device): LosantAttribute[] {
  return (d.attributes ?? []).map((a) => ({ name: a.name, dataType: a.dataType }));
}

export interface LosantDevice {
  id: string;
  deviceId: string;
  applicationId: string;
  creationDate: string;
  lastUpdated: string;
  name: string;
  description: string;
  tags: { key: string; value: string }[];
  attributes: LosantAttribute[];
  deviceClass: Device['deviceClass'];
  gatewayId?: string;
  connectionInfo?: LosantConnectionInfo;
}

export function deviceToLosant(
  d: Device,
  applicationId: string,
  opts: { excludeConnectionInfo?: boolean } = {},
): LosantDevice {
  return {
    id: d.id,
    deviceId: d.id,
    applicationId,
    creationDate: d.creationDate,
    lastUpdated: d.lastUpdated,
    name: d.name,
    description: d.description,
    tags: d.tags.map((t) => ({ key: t.key, value: t.value })),
    attributes: attributesOf(d),
    deviceClass: d.deviceClass,
    ...(d.gatewayId !== undefined ? { gatewayId: d.gatewayId } : {}),
    ...(opts.excludeConnectionInfo ? {} : { connectionInfo: connectionInfo(d) }),
  };
}

export function commandToLosant(c: Command): { name: string; payload: unknown; time: string } {
  return { name: c.name, payload: c.payload, time: c.time };
}
