// Builders for core-level values (Device, AccessKeyRecord, ConnectEnv, SessionView) used by the
// unit tests under test/unit/core. Ids are deterministic per call order where a test needs to
// name them; everything else is fresh. Not the store fixtures (see fixtures.ts).
import { generateSecret } from '../../src-main/core/secrets.ts';
import { makeDevice, makeKeyWithSecret } from './fixtures.ts';
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies } from '../../src-main/core/client-address.ts';
import type { ConnectEnv, ConnectRequest } from '../../src-main/core/connect.ts';
import { scanTagLookup, type DeviceScope } from '../../src-main/core/device-scope.ts';
import type { SessionView, TopicRules } from '../../src-main/core/topic-access.ts';
import type { AccessKeyRecord, Device, Tag } from '../../src-main/core/types.ts';

export const T0 = '2026-01-01T00:00:00.000Z';
export const CORE_PEPPER = Buffer.alloc(32, 0x5a);

/** A readable, valid device id: `hexId(1)` = "000000000000000000000001". */
export function hexId(n: number): string {
  return n.toString(16).padStart(24, '0');
}

export function device(overrides: Partial<Device> = {}): Device {
  return makeDevice({ name: 'device', ...overrides });
}

export function tag(key: string, value: string): Tag {
  return { key, value };
}

export interface KeyWithSecret {
  record: AccessKeyRecord;
  secret: string;
}

export function accessKey(overrides: Partial<AccessKeyRecord> = {}, pepper: Buffer = CORE_PEPPER): KeyWithSecret {
  return makeKeyWithSecret(overrides, generateSecret(), pepper);
}

/** An in-memory world for evaluateConnect. `listDevices` and `devicesTagged` calls are counted. */
export function connectEnv(
  keys: AccessKeyRecord[],
  devices: Device[],
  trusted: readonly string[] = DEFAULT_TRUSTED_PROXIES,
) {
  const byKey = new Map(keys.map((k) => [k.key, k]));
  const byId = new Map(devices.map((d) => [d.id, d]));
  const scan = scanTagLookup(() => byId.values());
  const env: ConnectEnv & { listCalls: number; tagCalls: number } = {
    pepper: CORE_PEPPER,
    trustedProxies: parseTrustedProxies(trusted),
    getKeyByKey: (k) => byKey.get(k),
    getDevice: (id) => byId.get(id),
    listDevices() {
      env.listCalls++;
      return byId.values();
    },
    devicesTagged(item) {
      env.tagCalls++;
      return scan(item);
    },
    listCalls: 0,
    tagCalls: 0,
  };
  return env;
}

export function connectRequest(
  k: KeyWithSecret,
  dev: Pick<Device, 'id'>,
  overrides: Partial<ConnectRequest> = {},
): ConnectRequest {
  return {
    transport: 'tcp',
    protocolVersion: 4,
    clientId: dev.id,
    username: k.record.key,
    password: k.secret,
    peerAddress: '127.0.0.1',
    ...overrides,
  };
}

export function idScope(...ids: string[]): DeviceScope {
  return { kind: 'devices', ids: new Set(ids) };
}

/** A session for the topic-access functions. `rules` is returned as-is so tests can mutate it live. */
export function session(
  deviceId: string,
  scope: DeviceScope,
  rules: TopicRules = { filterType: 'none', pubTopics: [], subTopics: [] },
  devices: readonly Device[] = [],
): SessionView {
  const byId = new Map(devices.map((d) => [d.id, d]));
  return { deviceId, scope, rules, getDevice: (id) => byId.get(id) };
}
