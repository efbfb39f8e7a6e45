// The one rule for "may this credential still act?", checked at EVERY use of a credential that
// outlives its CONNECT or /auth/device: an HTTP device token on each request today, and (later)
// a live MQTT session when a key or device changes (docs/design.md §4). Pure over the core: the caller hands
// in the key record and device as they are NOW; this returns a core Decision.
//
// Checked in this order, first failure wins:
//   1. the key still exists                                  key.deleted
//   2. the key is active                                     key.inactive
//   3. the key has not changed since the credential was issued (status switched off and on again,
//      address rule, topic rules, name…: any edit moves lastUpdated)   key.changed
//   4. the client address, read with the same forwarded-for rules as an MQTT WebSocket CONNECT,
//      passes the key's address rule NOW                     address.malformed / address.denied
//   5. the device the credential acts for still exists       device.unknown
//   6. that device still matches the key's device restriction NOW (ids, or every tag pair)
//                                                            device.out-of-scope
import { addressDecision } from '../core/addresses.ts';
import { effectiveClientAddress, type TrustedProxies } from '../core/client-address.ts';
import { matchRule } from '../core/device-scope.ts';
import { allow, deny, type AccessKeyRecord, type Decision, type Device } from '../core/types.ts';

export interface CredentialUse {
  /** The key the credential was issued under, as stored now (undefined: it was deleted). */
  key: AccessKeyRecord | undefined;
  /** The device the credential acts for (the token's subject, the session's client id). */
  deviceId: string;
  /** Where the request comes from: the socket peer and any X-Forwarded-For header. */
  client: { peer: string; forwardedFor?: string | string[] | undefined };
  /** The key's state when the credential was issued: its lastUpdated then. */
  issued: { keyRevision: string };
}

export interface AccessEnv {
  trustedProxies: TrustedProxies;
  getDevice(id: string): Device | undefined;
}

/** A Decision, plus the effective client address when it could be worked out (for the feed). */
export type CredentialCheck = Decision & { address?: string };

export function checkCredentialUse(use: CredentialUse, env: AccessEnv): CredentialCheck {
  const { key } = use;
  if (!key) return deny('key.deleted', 'the access key of this credential was deleted');
  if (key.status !== 'active') return deny('key.inactive', 'the key is set to inactive');
  if (key.lastUpdated !== use.issued.keyRevision) {
    return deny(
      'key.changed',
      `the key was changed at ${key.lastUpdated}, after this credential was issued (key as of ${use.issued.keyRevision}); authenticate again`,
    );
  }
  const where = effectiveClientAddress(use.client.peer, use.client.forwardedFor, env.trustedProxies);
  if (!where.ok) return deny(where.reason, where.rule);
  const address = where.address;
  const addr = addressDecision(key.addressFilterType, key.addresses, address);
  if (!addr.allowed) return { ...addr, address };
  const device = env.getDevice(use.deviceId);
  if (!device) return { ...deny('device.unknown', `device ${use.deviceId} was deleted`), address };
  const rule = matchRule(key, device);
  if (rule === null) {
    return {
      ...deny('device.out-of-scope', `device ${device.id} no longer matches the key's device restriction`),
      address,
    };
  }
  return { ...allow('connect.accepted', rule), address };
}
