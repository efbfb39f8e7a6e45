// Which setting of the access key (or which broker check) decided a decision: the "why" a
// decision row opens to (docs/design.md §8), with the X-Forwarded-For chain split into its hops.
// Pure: unit-tested without a DOM.
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';

export interface DecidingSetting {
  /** Where to look: a key section (as the key form names it) or a broker check. */
  where: string;
  /** The key's field(s), when a key setting decided. */
  fields?: string;
}

const KEY_SECTIONS: Record<string, DecidingSetting> = {
  'secret.mismatch': { where: 'Access key: the secret (shown once when the key was made)', fields: 'secret' },
  'key.unknown': { where: 'Access key: no key has this key value', fields: 'key' },
  'key.inactive': { where: 'Access key: Status is inactive', fields: 'status' },
  'key.deleted': { where: 'Access key: it was deleted' },
  'key.changed': { where: 'Access key: edited after the device token was issued' },
  'address.denied': {
    where: 'Access key: Connection Restrictions',
    fields: 'allowedAddresses / deniedAddresses',
  },
  'address.malformed': { where: 'Connection Restrictions: the client address could not be read' },
  'device.out-of-scope': { where: 'Access key: Device Restrictions', fields: 'deviceIds / deviceTags' },
  'topic.out-of-scope': {
    where: 'Access key: Device Restrictions (the topic names another device)',
    fields: 'deviceIds / deviceTags',
  },
  'topic.custom-none': { where: 'Access key: Additional MQTT Topics', fields: 'filterType none' },
  'topic.not-whitelisted': {
    where: 'Access key: Additional MQTT Topics',
    fields: 'filterType whitelist, pubTopics / subTopics',
  },
  'topic.blacklisted': {
    where: 'Access key: Additional MQTT Topics',
    fields: 'filterType blacklist, pubTopics / subTopics',
  },
  'will.denied': { where: 'Access key: Additional MQTT Topics (the last will topic)', fields: 'pubTopics' },
};

const BROKER: Record<string, string> = {
  'protocol.unsupported': 'Broker: MQTT 3.1 and 3.1.1 only',
  'credentials.missing': 'Broker: CONNECT needs a username (the key) and a password (the secret)',
  'device.unknown': 'Devices: no device has this client id',
  'topic.invalid': 'Broker: topic syntax [MQTT-4.7]',
  'topic.system': 'Broker: $ topics are the broker’s',
  'topic.reserved': 'Broker: losant/… topics other than a device’s state and command',
  'state.invalid': 'Device state: the payload is not a valid state report',
};

/** The setting that decided, for a denied decision or one allowed by a key rule. */
export function decidingSetting(e: Pick<DecisionEvent, 'reason' | 'action' | 'result'>): DecidingSetting {
  const key = KEY_SECTIONS[e.reason];
  if (key) return key;
  const broker = BROKER[e.reason];
  if (broker) return { where: broker };
  if (e.reason.startsWith('limit.') || e.reason.endsWith('.unsupported'))
    return { where: 'Broker: Losant limits mode (Broker page)' };
  if (e.result === 'allowed' && (e.action === 'publish' || e.action === 'subscribe' || e.action === 'deliver'))
    return { where: 'Access key: Device Restrictions and Additional MQTT Topics' };
  if (e.result === 'allowed' && e.action === 'connect')
    return { where: 'Access key: every CONNECT check passed (secret, status, addresses, device scope)' };
  return { where: 'Broker: the connection itself' };
}

/** The X-Forwarded-For header as received, split into its hops (client first). */
export function forwardedChain(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
}
