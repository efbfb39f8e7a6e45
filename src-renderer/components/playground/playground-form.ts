// The playground's inputs (docs/design.md §12a), the access.explain request built from them, a
// decision row turned back into inputs ("Replay in playground") and what changed since. Pure.
import type { ExplainQuery, Explanation } from '../../../src-main/contract.ts';
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';
import type { AccessKey, Decision, Device } from '../../../src-main/core/types.ts';

export type PlaygroundTransport = 'tcp' | 'ws' | 'tls';

export interface PlaygroundForm {
  /** `pick`: one of the keys by id (the secret check is skipped); `paste`: a key text and maybe its secret. */
  keyMode: 'pick' | 'paste';
  keyId: string;
  keyText: string;
  secret: string;
  /** `pick`: one of the devices; `type`: any client id (an unknown one explains device.unknown). */
  deviceMode: 'pick' | 'type';
  deviceId: string;
  clientId: string;
  transport: PlaygroundTransport;
  address: string;
  forwardedFor: string;
  /** One IP or CIDR a line; the server's list until the user edits it. */
  trustedProxies: string;
  /** One topic (or filter) a line. */
  publish: string;
  subscribe: string;
  deliver: string;
}

export function emptyPlayground(keys: readonly AccessKey[], devices: readonly Device[]): PlaygroundForm {
  return {
    keyMode: keys.length ? 'pick' : 'paste',
    keyId: keys[0]?.id ?? '',
    keyText: '',
    secret: '',
    deviceMode: devices.length ? 'pick' : 'type',
    deviceId: devices[0]?.id ?? '',
    clientId: '',
    transport: 'tcp',
    address: '127.0.0.1',
    forwardedFor: '',
    trustedProxies: '',
    publish: '',
    subscribe: '',
    deliver: '',
  };
}

/** The non-blank lines of a textarea, trimmed. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** What is missing before the form can be asked at all (null when it can). */
export function missingInput(f: PlaygroundForm): string | null {
  if (f.keyMode === 'pick' ? f.keyId === '' : f.keyText.trim() === '') return 'Pick an access key or paste one.';
  if ((f.deviceMode === 'pick' ? f.deviceId : f.clientId.trim()) === '') return 'Pick a device or type a client id.';
  return null;
}

/**
 * The access.explain request. Topics are sent as typed (a leading space is part of an MQTT topic),
 * only blank lines dropped; trusted proxies are sent only when they differ from the server's.
 */
export function explainQuery(f: PlaygroundForm, serverProxies: readonly string[]): ExplainQuery {
  const topicLines = (t: string) => t.split('\n').filter((l) => l.trim() !== '');
  const proxies = lines(f.trustedProxies);
  const sameProxies = proxies.length === serverProxies.length && proxies.every((p, i) => p === serverProxies[i]);
  return {
    key: f.keyMode === 'pick' ? f.keyId : f.keyText.trim(),
    ...(f.keyMode === 'paste' && f.secret !== '' ? { secret: f.secret } : {}),
    deviceId: f.deviceMode === 'pick' ? f.deviceId : f.clientId.trim(),
    transport: f.transport,
    address: f.address.trim() || '127.0.0.1',
    ...(f.transport === 'ws' && f.forwardedFor.trim() !== '' ? { forwardedFor: f.forwardedFor.trim() } : {}),
    ...(f.transport === 'ws' && !sameProxies ? { trustedProxies: proxies } : {}),
    publish: topicLines(f.publish),
    subscribe: topicLines(f.subscribe),
    deliver: topicLines(f.deliver),
  };
}

/** Decision rows the playground can replay: MQTT attempts (HTTP device calls are not MQTT packets). */
export function canReplay(e: DecisionEvent): boolean {
  if (e.transport === 'http') return false;
  if (e.action === 'connect') return true;
  return (e.action === 'publish' || e.action === 'subscribe' || e.action === 'deliver') && e.topic !== undefined;
}

/** The attempt's inputs, against the keys and devices as they are now. */
export function replayForm(
  e: DecisionEvent,
  keys: readonly AccessKey[],
  devices: readonly Device[],
  serverProxies: readonly string[],
): PlaygroundForm {
  const f = emptyPlayground(keys, devices);
  const key = e.keyId !== undefined ? keys.find((k) => k.id === e.keyId) : undefined;
  if (key) Object.assign(f, { keyMode: 'pick', keyId: key.id });
  else Object.assign(f, { keyMode: 'paste', keyId: '' });
  const id = e.deviceId ?? '';
  if (devices.some((d) => d.id === id)) Object.assign(f, { deviceMode: 'pick', deviceId: id });
  else Object.assign(f, { deviceMode: 'type', clientId: id });
  f.transport = e.transport === 'http' ? 'tcp' : e.transport;
  // The peer the broker saw; without X-Forwarded-For it is the recorded (effective) address.
  f.address = e.peerAddress ?? e.sourceAddress ?? '127.0.0.1';
  f.forwardedFor = e.forwardedFor ?? '';
  f.trustedProxies = serverProxies.join('\n');
  if (e.topic !== undefined) {
    if (e.action === 'publish') f.publish = e.topic;
    if (e.action === 'subscribe') f.subscribe = e.topic;
    if (e.action === 'deliver') f.deliver = e.topic;
  }
  return f;
}

export interface ReplayVerdict {
  then: Decision;
  now: Decision;
  changed: boolean;
  /** Why the new decision differs, in words, when it does. */
  note: string;
}

/** The replayed attempt's decision then and now: a packet is refused now too when its CONNECT is. */
export function replayVerdict(e: DecisionEvent, x: Explanation): ReplayVerdict {
  const then: Decision = { allowed: e.result === 'allowed', reason: e.reason, rule: e.rule };
  let now: Decision = x.connect.decision;
  let note = '';
  if (e.action !== 'connect') {
    const t = x.topics.find((t) => t.action === e.action && t.topic === e.topic);
    if (t && x.connect.decision.allowed) now = t.decision;
    else if (t) note = 'the CONNECT is refused now, so this packet would never reach the broker';
  }
  const changed = then.allowed !== now.allowed || then.reason !== now.reason;
  if (changed && note === '')
    note = then.allowed
      ? 'allowed then, refused now'
      : now.allowed
        ? 'refused then, allowed now'
        : 'refused for another reason now';
  return { then, now, changed, note };
}
