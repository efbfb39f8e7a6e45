// PUBLISH, SUBSCRIBE and DELIVER decisions for a connected session (docs/design.md §5).
// Device-specific topics are governed by the session's device scope; custom topics by the key's
// filterType and pubTopics/subTopics, read LIVE from the key (edits apply to the next message).
import { customFilterDecision, customTopicAllowed, customTopicDecision } from './topic-rules.ts';
import { filtersIntersect, validateTopicFilter, validateTopicName } from './topics.ts';
import { inScope, type DeviceScope } from './device-scope.ts';
import { ID_PATTERN } from './ids.ts';
import { allow, deny, REPORTING_CLASSES, type AccessKey, type Decision, type Device } from './types.ts';

export type TopicRules = Pick<AccessKey, 'filterType' | 'pubTopics' | 'subTopics'>;

export interface SessionView {
  deviceId: string;
  scope: DeviceScope;
  /** The key as it is NOW (rules can change while connected). */
  rules: TopicRules;
  getDevice(id: string): Pick<Device, 'id' | 'deviceClass' | 'gatewayId'> | undefined;
}

export type TopicClass =
  | { kind: 'system' }
  | { kind: 'device'; deviceId: string; channel: 'state' | 'command' }
  | { kind: 'reserved' }
  | { kind: 'custom' };

// Shared results: classifyTopic runs for every PUBLISH, delivery and published message.
const SYSTEM_TOPIC: TopicClass = Object.freeze({ kind: 'system' });
const RESERVED_TOPIC: TopicClass = Object.freeze({ kind: 'reserved' });
const CUSTOM_TOPIC: TopicClass = Object.freeze({ kind: 'custom' });

// The last topic classified and its class: one PUBLISH on a device topic is classified for its
// check, its state intake and each delivery, the same name every time (one string compare, not a
// split, a pattern test and an object).
let lastTopic = '';
let lastClass: TopicClass = CUSTOM_TOPIC;

/** What kind of topic NAME this is. `losant/{24-hex id}/state|command` are the device topics. */
export function classifyTopic(topic: string): TopicClass {
  if (topic === lastTopic) return lastClass;
  const c = classifyName(topic);
  lastTopic = topic;
  lastClass = c;
  return c;
}

function classifyName(topic: string): TopicClass {
  if (topic.startsWith('$')) return SYSTEM_TOPIC;
  if (topic === 'losant' || topic.startsWith('losant/')) {
    const parts = topic.split('/');
    const id = parts[1];
    const channel = parts[2];
    if (
      parts.length === 3 &&
      id !== undefined &&
      ID_PATTERN.test(id) &&
      (channel === 'state' || channel === 'command')
    ) {
      return Object.freeze({ kind: 'device', deviceId: id, channel });
    }
    return RESERVED_TOPIC;
  }
  return CUSTOM_TOPIC;
}

/**
 * A gateway or Edge Compute device may report state for a peripheral bound to it (or bound to any
 * gateway). Losant: "Edge Compute devices ... can also behave as Gateway devices", while embedded
 * devices "may not report state on behalf of any device other than itself"
 * (https://docs.losant.com/devices/overview/, https://docs.losant.com/devices/embedded/).
 */
function gatewayMayReportFor(session: SessionView, peripheralId: string): boolean {
  const me = session.getDevice(session.deviceId);
  if (me === undefined || !REPORTING_CLASSES.includes(me.deviceClass)) return false;
  const p = session.getDevice(peripheralId);
  return p?.deviceClass === 'peripheral' && (p.gatewayId === undefined || p.gatewayId === me.id);
}

// Fixed outcomes, allocated once (they are on the publish/delivery hot path).
const SYSTEM: Decision = Object.freeze(deny('topic.system', 'topics starting with "$" are reserved for the broker'));
const RESERVED: Decision = Object.freeze(
  deny('topic.reserved', 'only losant/{deviceId}/state and losant/{deviceId}/command are open to devices'),
);

// A device's own topics, the decision on nearly every PUBLISH: one object each, not one per message.
const OWN_STATE: Decision = Object.freeze(allow('publish.allowed', 'own state topic'));
const OWN_COMMAND: Decision = Object.freeze(allow('publish.allowed', 'own command topic'));

function scopeRule(session: SessionView, deviceId: string, channel: string): string {
  return deviceId === session.deviceId ? `own ${channel} topic` : `device ${deviceId} is in the key's scope`;
}

const outOfScope = (deviceId: string): Decision =>
  deny('topic.out-of-scope', `device ${deviceId} is not in the key's scope`);

export function publishDecision(session: SessionView, topic: string): Decision {
  const invalid = validateTopicName(topic);
  if (invalid) return deny('topic.invalid', invalid);
  const c = classifyTopic(topic);
  switch (c.kind) {
    case 'system':
      return SYSTEM;
    case 'reserved':
      return RESERVED;
    case 'device':
      if (inScope(session.scope, c.deviceId)) {
        if (c.deviceId === session.deviceId) return c.channel === 'state' ? OWN_STATE : OWN_COMMAND;
        return allow('publish.allowed', scopeRule(session, c.deviceId, c.channel));
      }
      if (c.channel === 'state' && gatewayMayReportFor(session, c.deviceId)) {
        return allow(
          'publish.allowed',
          `${session.getDevice(session.deviceId)?.deviceClass} ${session.deviceId} reports for its peripheral ${c.deviceId}`,
        );
      }
      return outOfScope(c.deviceId);
    case 'custom': {
      const rules = session.rules; // read once: the broker's view looks the key up on every read
      return customTopicDecision(rules.filterType, rules.pubTopics, topic, 'pubTopics');
    }
  }
}

/** May this session READ a message on `topic`? Used for every delivery (authorizeForward). */
export function deliverDecision(session: SessionView, topic: string): Decision {
  const c = classifyTopic(topic);
  switch (c.kind) {
    case 'system':
      return SYSTEM;
    case 'reserved':
      return RESERVED;
    case 'device':
      return inScope(session.scope, c.deviceId)
        ? allow('deliver.allowed', scopeRule(session, c.deviceId, c.channel))
        : outOfScope(c.deviceId);
    case 'custom':
      return customTopicDecision(session.rules.filterType, session.rules.subTopics, topic, 'subTopics');
  }
}

/**
 * deliverDecision(session, topic).allowed, without building the decision: an allowed delivery is
 * not recorded, so the broker builds the full decision only for the refused ones.
 */
export function deliverAllowed(session: SessionView, topic: string): boolean {
  const c = classifyTopic(topic);
  switch (c.kind) {
    case 'system':
    case 'reserved':
      return false;
    case 'device':
      return inScope(session.scope, c.deviceId);
    case 'custom': {
      const rules = session.rules;
      return customTopicAllowed(rules.filterType, rules.subTopics, topic);
    }
  }
}

/** Can the filter match a device topic of a device in scope? */
function deviceTopicsGranted(scope: DeviceScope, filter: string): string | null {
  if (scope.kind === 'all') {
    for (const channel of ['state', 'command']) {
      const pattern = `losant/+/${channel}`;
      if (filtersIntersect(filter, pattern)) return `device ${channel} topics (key allows all devices)`;
    }
    return null;
  }
  for (const id of scope.ids) {
    if (filtersIntersect(filter, `losant/${id}/state`)) return `device ${id} is in the key's scope`;
    if (filtersIntersect(filter, `losant/${id}/command`)) return `device ${id} is in the key's scope`;
  }
  return null;
}

/**
 * SUBSCRIBE, per filter: granted when at least one topic the filter can match is readable.
 * Every delivery is re-checked with deliverDecision, so a broad grant never leaks a message.
 */
export function subscribeDecision(session: SessionView, filter: string): Decision {
  const invalid = validateTopicFilter(filter);
  if (invalid) return deny('topic.invalid', invalid);
  if (filter.startsWith('$')) return SYSTEM;
  const deviceRule = deviceTopicsGranted(session.scope, filter);
  if (deviceRule) return allow('subscribe.granted', deviceRule);
  const first = filter.split('/', 1)[0];
  if (first === 'losant') {
    return filtersIntersect(filter, 'losant/+/state') || filtersIntersect(filter, 'losant/+/command')
      ? deny('topic.out-of-scope', "no device in the key's scope has a topic matching this filter")
      : RESERVED;
  }
  return customFilterDecision(session.rules.filterType, session.rules.subTopics, filter);
}
