// CONNECT authentication: the checks of docs/design.md §4, in order, first failure wins.
// Pure: the caller supplies lookups; this returns a Decision and, when accepted, the session grant.
import { addressDecision } from './addresses.ts';
import { effectiveClientAddress, type TrustedProxies } from './client-address.ts';
import { matchRule, resolveScope, type DeviceScope, type TagLookup } from './device-scope.ts';
import { verifySecret } from './secrets.ts';
import { publishDecision } from './topic-access.ts';
import { allow, deny, type AccessKeyRecord, type Decision, type Device, type Transport } from './types.ts';

export interface ConnectRequest {
  transport: Transport;
  /** 3 = MQTT 3.1, 4 = MQTT 3.1.1, 5 = MQTT 5 (refused). Undefined for HTTP device auth. */
  protocolVersion?: number;
  clientId: string;
  username?: string;
  password?: string;
  peerAddress: string;
  forwardedFor?: string | string[];
  willTopic?: string;
}

export interface ConnectEnv {
  pepper: Buffer;
  trustedProxies: TrustedProxies;
  getKeyByKey(key: string): AccessKeyRecord | undefined;
  getDevice(id: string): Device | undefined;
  listDevices(): Iterable<Device>;
  /** Devices by tag (the store's index, Store.devicesTagged): resolves a tag-scoped key's scope. */
  devicesTagged: TagLookup;
  /**
   * The key's scope (default: resolveScope(key, devicesTagged), made afresh). A cache here must
   * give what resolveScope would give NOW: after a change of the key or of a device's tags.
   */
  scopeOf?(key: AccessKeyRecord): DeviceScope;
}

export type { Check } from './explain-types.ts';
import type { Check } from './explain-types.ts';

/**
 * Optional extras of evaluateConnect. The broker passes none (the hot path only tests `trace`).
 * `secretNotGiven`: explain a key by id without its secret — the secret check is reported as
 * skipped instead of failing with credentials.missing / secret.mismatch.
 */
export interface ConnectOptions {
  trace?: Check[];
  secretNotGiven?: boolean;
}

export interface ConnectOutcome {
  decision: Decision;
  /** CONNACK return code: 0 accepted, 1 protocol, 3 server unavailable (limits), 4 bad credentials, 5 not authorised. */
  returnCode: 0 | 1 | 3 | 4 | 5;
  /** The effective client address when it could be worked out. */
  address?: string;
  key?: AccessKeyRecord;
  device?: Device;
  scope?: DeviceScope;
}

function refused(returnCode: 1 | 4 | 5, decision: Decision, extra: Partial<ConnectOutcome> = {}): ConnectOutcome {
  return { decision, returnCode, ...extra };
}

function step(trace: Check[], check: string, d: Decision | null, detail: string): void {
  const failed = d !== null && !d.allowed;
  trace.push({ check, status: failed ? 'failed' : 'passed', detail: failed ? d.rule : detail });
}

export function evaluateConnect(req: ConnectRequest, env: ConnectEnv, opts?: ConnectOptions): ConnectOutcome {
  const trace = opts?.trace;
  if (req.protocolVersion !== undefined && req.protocolVersion !== 3 && req.protocolVersion !== 4) {
    const d = deny(
      'protocol.unsupported',
      `MQTT protocol level ${req.protocolVersion} is not supported (3.1 and 3.1.1 only)`,
    );
    if (trace) step(trace, 'protocol', d, '');
    return refused(1, d);
  }
  if (trace)
    step(
      trace,
      'protocol',
      null,
      req.protocolVersion === undefined ? 'MQTT 3.1.1' : `MQTT level ${req.protocolVersion}`,
    );
  const noSecret = opts?.secretNotGiven === true;
  if (!req.username || (!req.password && !noSecret)) {
    const d = deny('credentials.missing', 'username (access key) and password (secret) are both required');
    if (trace) step(trace, 'credentials', d, '');
    return refused(4, d);
  }
  if (trace) step(trace, 'credentials', null, 'username and password present');
  const key = env.getKeyByKey(req.username);
  // Always verify, even for an unknown key, so both failures cost the same.
  const secretOk = noSecret || verifySecret(req.password ?? '', key?.secretVerifier, env.pepper);
  if (!key) {
    const d = deny('key.unknown', 'no access key with this key');
    if (trace) step(trace, 'key', d, '');
    return refused(4, d);
  }
  if (trace) step(trace, 'key', null, `access key ${key.id}`);
  if (!secretOk) {
    const d = deny('secret.mismatch', 'the secret does not match this key');
    if (trace) step(trace, 'secret', d, '');
    return refused(4, d, { key });
  }
  if (trace) {
    if (noSecret)
      trace.push({ check: 'secret', status: 'skipped', detail: 'no secret given: the key is explained by id' });
    else step(trace, 'secret', null, 'the secret matches the key');
  }
  if (key.status !== 'active') {
    const d = deny('key.inactive', 'the key is set to inactive');
    if (trace) step(trace, 'key status', d, '');
    return refused(5, d, { key });
  }
  if (trace) step(trace, 'key status', null, 'active');

  const where = effectiveClientAddress(req.peerAddress, req.forwardedFor, env.trustedProxies);
  if (!where.ok) {
    const d = deny(where.reason, where.rule);
    if (trace) step(trace, 'client address', d, '');
    return refused(5, d, { key });
  }
  const address = where.address;
  if (trace)
    step(
      trace,
      'client address',
      null,
      where.via === 'peer' ? `${address} (the peer)` : `${address} (from X-Forwarded-For)`,
    );
  const addr = addressDecision(key.addressFilterType, key.addresses, address);
  if (trace) step(trace, 'address restriction', addr, addr.rule);
  if (!addr.allowed) return refused(5, addr, { key, address });

  const device = env.getDevice(req.clientId);
  if (!device) {
    const d = deny('device.unknown', `client id "${req.clientId}" is not a device id`);
    if (trace) step(trace, 'device', d, '');
    return refused(5, d, { key, address });
  }
  if (trace) step(trace, 'device', null, `device ${device.id} (${device.name})`);
  const rule = matchRule(key, device);
  if (rule === null) {
    const d = deny('device.out-of-scope', `device ${device.id} does not match the key's device restriction`);
    if (trace) step(trace, 'device restriction', d, '');
    return refused(5, d, { key, address, device });
  }
  if (trace) step(trace, 'device restriction', null, rule);

  const scope = env.scopeOf ? env.scopeOf(key) : resolveScope(key, env.devicesTagged);
  if (req.willTopic !== undefined) {
    const will = publishDecision({ deviceId: device.id, scope, rules: key, getDevice: env.getDevice }, req.willTopic);
    if (!will.allowed) {
      const d = deny('will.denied', `last-will topic "${req.willTopic}": ${will.rule}`);
      if (trace) step(trace, 'last will', d, '');
      return refused(5, d, { key, address, device });
    }
    if (trace) step(trace, 'last will', null, `"${req.willTopic}": ${will.rule}`);
  }
  return { decision: allow('connect.accepted', rule), returnCode: 0, address, key, device, scope };
}
