// CONNECT authentication: the checks of docs/design.md §4, in order, first failure wins.
// Pure: the caller supplies lookups; this returns a Decision and, when accepted, the session grant.
import { addressDecision } from './addresses.ts';
import { effectiveClientAddress, type TrustedProxies } from './client-address.ts';
import { matchRule, resolveScope, type DeviceScope } from './device-scope.ts';
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

export function evaluateConnect(req: ConnectRequest, env: ConnectEnv): ConnectOutcome {
  if (req.protocolVersion !== undefined && req.protocolVersion !== 3 && req.protocolVersion !== 4) {
    return refused(
      1,
      deny('protocol.unsupported', `MQTT protocol level ${req.protocolVersion} is not supported (3.1 and 3.1.1 only)`),
    );
  }
  if (!req.username || !req.password) {
    return refused(4, deny('credentials.missing', 'username (access key) and password (secret) are both required'));
  }
  const key = env.getKeyByKey(req.username);
  // Always verify, even for an unknown key, so both failures cost the same.
  const secretOk = verifySecret(req.password, key?.secretVerifier, env.pepper);
  if (!key) return refused(4, deny('key.unknown', 'no access key with this key'));
  if (!secretOk) return refused(4, deny('secret.mismatch', 'the secret does not match this key'), { key });
  if (key.status !== 'active') return refused(5, deny('key.inactive', 'the key is set to inactive'), { key });

  const where = effectiveClientAddress(req.peerAddress, req.forwardedFor, env.trustedProxies);
  if (!where.ok) return refused(5, deny(where.reason, where.rule), { key });
  const address = where.address;
  const addr = addressDecision(key.addressFilterType, key.addresses, address);
  if (!addr.allowed) return refused(5, addr, { key, address });

  const device = env.getDevice(req.clientId);
  if (!device)
    return refused(5, deny('device.unknown', `client id "${req.clientId}" is not a device id`), { key, address });
  const rule = matchRule(key, device);
  if (rule === null)
    return refused(5, deny('device.out-of-scope', `device ${device.id} does not match the key's device restriction`), {
      key,
      address,
      device,
    });

  const scope = resolveScope(key, () => env.listDevices());
  if (req.willTopic !== undefined) {
    const will = publishDecision({ deviceId: device.id, scope, rules: key, getDevice: env.getDevice }, req.willTopic);
    if (!will.allowed)
      return refused(5, deny('will.denied', `last-will topic "${req.willTopic}": ${will.rule}`), {
        key,
        address,
        device,
      });
  }
  return { decision: allow('connect.accepted', rule), returnCode: 0, address, key, device, scope };
}
