// "Would this be allowed, and why?" without connecting (docs/design.md §12a). Pure: it runs the
// very functions the broker runs (evaluateConnect with a trace, publishDecision, subscribeDecision,
// deliverDecision) on the same inputs and reports their decisions; nothing is connected and
// nothing is recorded in the decision feed.
import { evaluateConnect, type ConnectEnv, type ConnectRequest } from './connect.ts';
import { resolveScope, type DeviceScope } from './device-scope.ts';
import {
  classifyTopic,
  deliverDecision,
  publishDecision,
  subscribeDecision,
  type SessionView,
  type TopicRules,
} from './topic-access.ts';
import { filterCovers, filtersIntersect, topicMatches, validateTopicFilter, validateTopicName } from './topics.ts';
import { deny, type Decision } from './types.ts';

import type {
  Check,
  ConnectExplanation,
  ExplainRequest,
  Explanation,
  TopicExplanation,
  WildcardReach,
} from './explain-types.ts';

export type { Check, ConnectExplanation, ExplainRequest, Explanation, TopicExplanation, WildcardReach };

export type ExplainEnv = ConnectEnv;

export const MAX_REACH = 50;
const NO_RULES: TopicRules = { filterType: 'none', pubTopics: [], subTopics: [] };

const check = (name: string, ok: boolean, detail: string): Check => ({
  check: name,
  status: ok ? 'passed' : 'failed',
  detail,
});

function kindCheck(topic: string): Check {
  const c = classifyTopic(topic);
  switch (c.kind) {
    case 'system':
      return check('topic kind', false, 'system topic ("$…")');
    case 'reserved':
      return check('topic kind', false, 'Losant-reserved topic (not losant/{deviceId}/state|command)');
    case 'device':
      return check('topic kind', true, `device ${c.channel} topic of ${c.deviceId}: the key's device scope decides`);
    case 'custom':
      return check('topic kind', true, "custom topic: the key's filterType and topic lists decide");
  }
}

function ruleCheck(d: Decision): Check {
  return check('rule', d.allowed, `${d.reason}: ${d.rule}`);
}

function explainPublish(session: SessionView, topic: string, action: 'publish' | 'deliver'): TopicExplanation {
  const invalid = validateTopicName(topic);
  // A delivery is always of a valid topic name (the broker only forwards accepted PUBLISHes).
  const decision =
    action === 'publish'
      ? publishDecision(session, topic)
      : invalid !== null
        ? deny('topic.invalid', invalid)
        : deliverDecision(session, topic);
  const chain: Check[] = [];
  if (invalid !== null) chain.push(check('topic name', false, invalid));
  else {
    chain.push(check('topic name', true, 'a valid MQTT topic name'));
    const kind = kindCheck(topic);
    chain.push(kind);
    if (kind.status === 'passed') chain.push(ruleCheck(decision));
  }
  return { action, topic, decision, chain, reachable: true };
}

const isWildcard = (filter: string): boolean => filter.includes('+') || filter.includes('#');

/** Device topics the filter matches, split into delivered and withheld; custom rules by entry. */
function reachOf(session: SessionView, filter: string, env: ExplainEnv): WildcardReach {
  const reach: WildcardReach = { delivered: [], withheld: [], truncated: false };
  const add = (topic: string, d: Decision): void => {
    const list = d.allowed ? reach.delivered : reach.withheld;
    if (list.length >= MAX_REACH) reach.truncated = true;
    else if (d.allowed) reach.delivered.push(topic);
    else reach.withheld.push({ topic, reason: d.reason, rule: d.rule });
  };
  for (const device of env.listDevices()) {
    for (const channel of ['state', 'command']) {
      const topic = `losant/${device.id}/${channel}`;
      if (topicMatches(filter, topic)) add(topic, deliverDecision(session, topic));
    }
  }
  const first = filter.split('/', 1)[0];
  if (first === 'losant' || filter.startsWith('$')) return reach;
  const rules = session.rules;
  if (rules.filterType === 'all' || rules.filterType === 'none') {
    add(`custom topics matching "${filter}"`, deliverDecision(session, customSample(filter)));
    return reach;
  }
  for (const entry of rules.subTopics) {
    // Each overlapping entry stands for the custom topics it names; a sample topic gives the decision.
    if (filtersIntersect(filter, entry))
      add(`custom topics matching "${entry}"`, deliverDecision(session, customSample(entry)));
  }
  // The rest of what the filter matches: withheld by a whitelist, delivered by a blacklist.
  if (!rules.subTopics.some((entry) => filterCovers(entry, filter))) {
    const rest = `other custom topics matching "${filter}"`;
    if (rules.filterType === 'whitelist')
      add(rest, deny('topic.not-whitelisted', 'subTopics whitelist (no entry matches)'));
    else reach.delivered.push(rest);
  }
  return reach;
}

/** A concrete custom topic a filter matches (wildcards filled in), for asking deliverDecision. */
function customSample(filter: string): string {
  const levels = filter.split('/').map((l) => (l === '+' ? 'x' : l));
  if (levels[levels.length - 1] === '#') levels[levels.length - 1] = 'x';
  return levels.join('/');
}

function explainSubscribe(session: SessionView, filter: string, env: ExplainEnv): TopicExplanation {
  const decision = subscribeDecision(session, filter);
  const chain: Check[] = [];
  const invalid = validateTopicFilter(filter);
  if (invalid !== null) chain.push(check('topic filter', false, invalid));
  else {
    chain.push(check('topic filter', true, 'a valid MQTT topic filter'));
    if (filter.startsWith('$')) chain.push(check('topic kind', false, 'system topic ("$…")'));
    else chain.push(ruleCheck(decision));
  }
  const out: TopicExplanation = { action: 'subscribe', topic: filter, decision, chain, reachable: true };
  if (decision.allowed && isWildcard(filter)) out.reach = reachOf(session, filter, env);
  return out;
}

/**
 * Explains a CONNECT and the packets after it. When the CONNECT is refused the topics are still
 * evaluated against the key (if it is known) and the device id, marked `reachable: false`.
 */
export function explain(req: ExplainRequest, env: ExplainEnv): Explanation {
  const chain: Check[] = [];
  const connectReq: ConnectRequest = {
    transport: req.transport,
    protocolVersion: req.protocolVersion ?? 4,
    clientId: req.clientId,
    username: req.key,
    peerAddress: req.address,
    ...(req.secret !== undefined ? { password: req.secret } : {}),
    ...(req.forwardedFor !== undefined ? { forwardedFor: req.forwardedFor } : {}),
    ...(req.willTopic !== undefined ? { willTopic: req.willTopic } : {}),
  };
  const outcome = evaluateConnect(connectReq, env, { trace: chain, secretNotGiven: req.secret === undefined });
  const key = outcome.key ?? env.getKeyByKey(req.key);
  const scope: DeviceScope =
    outcome.scope ?? (key ? resolveScope(key, env.devicesTagged) : { kind: 'devices', ids: new Set() });
  const session: SessionView = {
    deviceId: req.clientId,
    scope,
    rules: key ?? NO_RULES,
    getDevice: env.getDevice,
  };
  const reachable = outcome.returnCode === 0;
  const topics: TopicExplanation[] = [
    ...req.publish.map((t) => explainPublish(session, t, 'publish')),
    ...req.subscribe.map((f) => explainSubscribe(session, f, env)),
    ...(req.deliver ?? []).map((t) => explainPublish(session, t, 'deliver')),
  ].map((t) => ({ ...t, reachable }));
  return {
    connect: {
      decision: outcome.decision,
      returnCode: outcome.returnCode,
      ...(outcome.address !== undefined ? { address: outcome.address } : {}),
      ...(key ? { keyId: key.id } : {}),
      chain,
    },
    topics,
    allowed: reachable && topics.every((t) => t.decision.allowed),
  };
}
