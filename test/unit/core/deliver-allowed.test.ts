// deliverAllowed is the broker's fast path for every delivery: it must agree with
// deliverDecision(...).allowed everywhere. Custom-topic decisions are shared, frozen values.
import { describe, expect, it } from 'vitest';
import {
  deliverAllowed,
  deliverDecision,
  publishDecision,
  type TopicRules,
} from '../../../src-main/core/topic-access.ts';
import { customTopicAllowed, customTopicDecision } from '../../../src-main/core/topic-rules.ts';
import type { TopicFilterType } from '../../../src-main/core/types.ts';
import { hexId, idScope, session } from '../../helpers/core-fixtures.ts';

const ME = hexId(1);
const PEER = hexId(2);
const OUT = hexId(3);
const TOPICS = [
  `losant/${ME}/state`,
  `losant/${PEER}/command`,
  `losant/${OUT}/state`,
  `losant/${ME}/other`,
  'losant',
  '$SYS/x',
  '$share/a/b',
  'a',
  'a/b',
  'a/b/c',
  'sensors/temp',
  'sensors/hum/1',
  'other/x',
  'a//b',
  '/lead',
];
const RULES: [TopicFilterType, string[]][] = [
  ['none', []],
  ['all', []],
  ['whitelist', ['a/#', 'sensors/+']],
  ['whitelist', []],
  ['blacklist', ['sensors/#', 'a/b']],
  ['blacklist', []],
];

describe('deliverAllowed agrees with deliverDecision', () => {
  for (const [filterType, subTopics] of RULES) {
    it(`${filterType} ${JSON.stringify(subTopics)}`, () => {
      const rules: TopicRules = { filterType, pubTopics: [], subTopics };
      for (const scope of [idScope(ME, PEER), { kind: 'all' } as const]) {
        const s = session(ME, scope, rules);
        for (const topic of TOPICS)
          expect([topic, deliverAllowed(s, topic)]).toEqual([topic, deliverDecision(s, topic).allowed]);
      }
    });
  }
});

describe('custom-topic decisions', () => {
  it('customTopicAllowed agrees with customTopicDecision', () => {
    for (const [filterType, rules] of RULES) {
      for (const topic of TOPICS) {
        expect(customTopicAllowed(filterType, rules, topic)).toBe(
          customTopicDecision(filterType, rules, topic, 'subTopics').allowed,
        );
      }
    }
  });

  it('are shared and frozen, and name the entry that decided', () => {
    const a = customTopicDecision('whitelist', ['x/#', 'a/#'], 'a/b', 'pubTopics');
    const b = customTopicDecision('whitelist', ['a/#'], 'a/c', 'pubTopics');
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toEqual({ allowed: true, reason: 'publish.allowed', rule: 'pubTopics whitelist entry "a/#"' });
    expect(customTopicDecision('whitelist', ['a/#'], 'a/c', 'subTopics')).toEqual({
      allowed: true,
      reason: 'deliver.allowed',
      rule: 'subTopics whitelist entry "a/#"',
    });
    expect(customTopicDecision('blacklist', ['a/#'], 'a/c', 'subTopics')).toEqual({
      allowed: false,
      reason: 'topic.blacklisted',
      rule: 'subTopics blacklist entry "a/#"',
    });
    const s = session(ME, idScope(ME), { filterType: 'all', pubTopics: [], subTopics: [] });
    expect(publishDecision(s, 'any/topic')).toEqual({
      allowed: true,
      reason: 'publish.allowed',
      rule: 'filterType all',
    });
  });
});
