import { describe, it, expect } from 'vitest';
import {
  MAX_TOPIC_RULES,
  customFilterDecision,
  customTopicDecision,
  validateTopicRule,
  validateTopicRules,
} from '../../../src-main/core/topic-rules.ts';
import type { Decision, ReasonCode, TopicFilterType } from '../../../src-main/core/types.ts';

describe('validateTopicRule', () => {
  it.each([
    ['sensors/+/temp'],
    ['#'],
    ['+'],
    ['a/#'],
    ['a//b'],
    ['a/'],
    ['Losant/x'],
    ['losantx/y'],
    ['my/losant/x'],
    ['a/$b'],
  ])('%j is accepted', (rule) => {
    expect(validateTopicRule(rule)).toBeNull();
  });

  it.each([
    ['$SYS/#', '"$SYS/#" is a system topic; rules cannot start with "$"'],
    ['$SYS/x', '"$SYS/x" is a system topic; rules cannot start with "$"'],
    ['$', '"$" is a system topic; rules cannot start with "$"'],
    ['losant/abc/state', '"losant/abc/state" is reserved by Losant; rules cannot be "losant" or start with "losant/"'],
    ['losant', '"losant" is reserved by Losant; rules cannot be "losant" or start with "losant/"'],
    ['losant/#', '"losant/#" is reserved by Losant; rules cannot be "losant" or start with "losant/"'],
    ['a/#/b', '"a/#/b" is not a valid MQTT topic filter: "#" must be the whole last level (like "a/#")'],
    ['a/b#', '"a/b#" is not a valid MQTT topic filter: "#" must be the whole last level (like "a/#")'],
    ['a+', '"a+" is not a valid MQTT topic filter: "+" must occupy a whole level (like "a/+/b")'],
    ['', 'a topic rule cannot be empty'],
    ['a\u0000b', '"a\\u0000b" is not a valid MQTT topic filter: topic filter contains the null character U+0000'],
  ])('%j is rejected', (rule, message) => {
    expect(validateTopicRule(rule)).toBe(message);
  });

  it('rejects over-deep and over-long rules, quoting them shortened', () => {
    const deep = Array.from({ length: 101 }, () => 'a').join('/');
    expect(validateTopicRule(deep)).toMatch(/has 101 levels; at most 100 are allowed$/);
    const long = validateTopicRule('x'.repeat(65536));
    expect(long).toMatch(/is 65536 bytes in UTF-8; at most 65535 are allowed$/);
    expect(long!.length).toBeLessThan(300);
  });
});

describe('validateTopicRules', () => {
  it('accepts an empty list and a full list of valid rules', () => {
    expect(validateTopicRules('pubTopics', [])).toEqual([]);
    expect(MAX_TOPIC_RULES).toBe(100);
    const full = Array.from({ length: 100 }, (_, i) => `t/${i}`);
    expect(validateTopicRules('subTopics', full)).toEqual([]);
  });

  it('names each bad entry by index', () => {
    expect(validateTopicRules('pubTopics', ['ok/+', 'fine', '$SYS/#', 42, '', 'losant/abc/state', null])).toEqual([
      { field: 'pubTopics[2]', message: '"$SYS/#" is a system topic; rules cannot start with "$"' },
      { field: 'pubTopics[3]', message: 'each entry must be a string (got number)' },
      { field: 'pubTopics[4]', message: 'a topic rule cannot be empty' },
      {
        field: 'pubTopics[5]',
        message: '"losant/abc/state" is reserved by Losant; rules cannot be "losant" or start with "losant/"',
      },
      { field: 'pubTopics[6]', message: 'each entry must be a string (got null)' },
    ]);
    expect(validateTopicRules('subTopics', ['a/#/b'])).toEqual([
      {
        field: 'subTopics[0]',
        message: '"a/#/b" is not a valid MQTT topic filter: "#" must be the whole last level (like "a/#")',
      },
    ]);
  });

  it.each([['a/b'], [null], [undefined], [{ 0: 'a' }], [7]])('rejects a non-array value %j', (value) => {
    expect(validateTopicRules('subTopics', value)).toEqual([
      { field: 'subTopics', message: 'subTopics must be an array of strings' },
    ]);
  });

  it('rejects 101 entries with one error', () => {
    const rules = Array.from({ length: 101 }, (_, i) => `t/${i}`);
    expect(validateTopicRules('pubTopics', rules)).toEqual([
      { field: 'pubTopics', message: 'pubTopics has 101 entries; at most 100 are allowed' },
    ]);
  });
});

type Row = [TopicFilterType, string[], string, boolean, ReasonCode, string];
const expectDecision = (d: Decision, allowed: boolean, reason: ReasonCode, rule: string): void => {
  expect(d).toEqual({ allowed, reason, rule });
};

describe('customTopicDecision — publish (pubTopics)', () => {
  it.each<Row>([
    ['none', ['#'], 'a/b', false, 'topic.custom-none', 'filterType none: no custom topics'],
    ['none', [], 'a/b', false, 'topic.custom-none', 'filterType none: no custom topics'],
    ['all', [], 'a/b', true, 'publish.allowed', 'filterType all'],
    ['all', ['x'], 'a/b', true, 'publish.allowed', 'filterType all'],
    [
      'whitelist',
      ['sensors/+/temp', 'alerts/#'],
      'sensors/s1/temp',
      true,
      'publish.allowed',
      'pubTopics whitelist entry "sensors/+/temp"',
    ],
    [
      'whitelist',
      ['sensors/+/temp', 'alerts/#'],
      'alerts',
      true,
      'publish.allowed',
      'pubTopics whitelist entry "alerts/#"',
    ],
    [
      'whitelist',
      ['sensors/+/temp', 'alerts/#'],
      'alerts/a/b',
      true,
      'publish.allowed',
      'pubTopics whitelist entry "alerts/#"',
    ],
    [
      'whitelist',
      ['sensors/+/temp', 'alerts/#'],
      'sensors/s1/hum',
      false,
      'topic.not-whitelisted',
      'pubTopics whitelist (no entry matches)',
    ],
    [
      'whitelist',
      ['sensors/+/temp'],
      'sensors//temp',
      true,
      'publish.allowed',
      'pubTopics whitelist entry "sensors/+/temp"',
    ],
    ['whitelist', ['a/+'], 'a', false, 'topic.not-whitelisted', 'pubTopics whitelist (no entry matches)'],
    ['whitelist', ['a/+'], 'a/', true, 'publish.allowed', 'pubTopics whitelist entry "a/+"'],
    ['whitelist', ['#'], 'any/thing', true, 'publish.allowed', 'pubTopics whitelist entry "#"'],
    ['whitelist', [], 'a', false, 'topic.not-whitelisted', 'pubTopics whitelist (no entry matches)'],
    [
      'blacklist',
      ['secret/#', '+/private'],
      'secret',
      false,
      'topic.blacklisted',
      'pubTopics blacklist entry "secret/#"',
    ],
    [
      'blacklist',
      ['secret/#', '+/private'],
      'x/private',
      false,
      'topic.blacklisted',
      'pubTopics blacklist entry "+/private"',
    ],
    [
      'blacklist',
      ['secret/#', '+/private'],
      'x/private/y',
      true,
      'publish.allowed',
      'pubTopics blacklist (no entry matches)',
    ],
    [
      'blacklist',
      ['secret/#', '+/private'],
      'public',
      true,
      'publish.allowed',
      'pubTopics blacklist (no entry matches)',
    ],
    ['blacklist', [], 'a', true, 'publish.allowed', 'pubTopics blacklist (no entry matches)'],
  ])('%s %j: %j → allowed=%s (%s)', (filterType, rules, topic, allowed, reason, rule) => {
    expectDecision(customTopicDecision(filterType, rules, topic, 'pubTopics'), allowed, reason, rule);
  });
});

describe('customTopicDecision — delivery (subTopics)', () => {
  it.each<Row>([
    ['none', ['#'], 'a', false, 'topic.custom-none', 'filterType none: no custom topics'],
    ['all', [], 'a', true, 'deliver.allowed', 'filterType all'],
    ['whitelist', ['sensors/+'], 'sensors/s1', true, 'deliver.allowed', 'subTopics whitelist entry "sensors/+"'],
    [
      'whitelist',
      ['sensors/+'],
      'sensors/s1/x',
      false,
      'topic.not-whitelisted',
      'subTopics whitelist (no entry matches)',
    ],
    ['blacklist', ['sensors/+'], 'sensors/s1', false, 'topic.blacklisted', 'subTopics blacklist entry "sensors/+"'],
    ['blacklist', ['sensors/+'], 'sensors', true, 'deliver.allowed', 'subTopics blacklist (no entry matches)'],
  ])('%s %j: %j → allowed=%s (%s)', (filterType, rules, topic, allowed, reason, rule) => {
    expectDecision(customTopicDecision(filterType, rules, topic, 'subTopics'), allowed, reason, rule);
  });
});

describe('customFilterDecision — SUBSCRIBE', () => {
  it.each<Row>([
    ['none', ['#'], 'a/#', false, 'topic.custom-none', 'filterType none: no custom topics'],
    ['all', [], '#', true, 'subscribe.granted', 'filterType all'],
    ['all', [], 'a/+', true, 'subscribe.granted', 'filterType all'],
    // whitelist: granted iff the filter overlaps some entry
    ['whitelist', ['sensors/+'], 'sensors/s1', true, 'subscribe.granted', 'subTopics whitelist entry "sensors/+"'],
    ['whitelist', ['sensors/+'], 'sensors/#', true, 'subscribe.granted', 'subTopics whitelist entry "sensors/+"'],
    ['whitelist', ['sensors/+'], '#', true, 'subscribe.granted', 'subTopics whitelist entry "sensors/+"'],
    ['whitelist', ['sensors/+'], '+/x', true, 'subscribe.granted', 'subTopics whitelist entry "sensors/+"'],
    [
      'whitelist',
      ['sensors/+'],
      'sensors/a/b',
      false,
      'topic.not-whitelisted',
      'subTopics whitelist (no entry overlaps the filter)',
    ],
    [
      'whitelist',
      ['sensors/+'],
      'other/#',
      false,
      'topic.not-whitelisted',
      'subTopics whitelist (no entry overlaps the filter)',
    ],
    ['whitelist', ['a/#', 'b/+/c'], '+/x/c', true, 'subscribe.granted', 'subTopics whitelist entry "a/#"'],
    ['whitelist', ['b/+/c'], '+/x/c', true, 'subscribe.granted', 'subTopics whitelist entry "b/+/c"'],
    ['whitelist', ['a/+'], 'a', false, 'topic.not-whitelisted', 'subTopics whitelist (no entry overlaps the filter)'],
    ['whitelist', ['a/#'], 'a', true, 'subscribe.granted', 'subTopics whitelist entry "a/#"'],
    ['whitelist', [], '#', false, 'topic.not-whitelisted', 'subTopics whitelist (no entry overlaps the filter)'],
    // blacklist: denied only if one entry covers the whole filter
    ['blacklist', ['secret/#'], 'secret/x', false, 'topic.blacklisted', 'subTopics blacklist entry "secret/#"'],
    ['blacklist', ['secret/#'], 'secret/+/y', false, 'topic.blacklisted', 'subTopics blacklist entry "secret/#"'],
    ['blacklist', ['secret/#'], 'secret/#', false, 'topic.blacklisted', 'subTopics blacklist entry "secret/#"'],
    [
      'blacklist',
      ['secret/#'],
      '#',
      true,
      'subscribe.granted',
      'subTopics blacklist (no entry covers the whole filter)',
    ],
    [
      'blacklist',
      ['secret/#'],
      '+/x',
      true,
      'subscribe.granted',
      'subTopics blacklist (no entry covers the whole filter)',
    ],
    ['blacklist', ['#'], '+/x', false, 'topic.blacklisted', 'subTopics blacklist entry "#"'],
    ['blacklist', ['#'], '#', false, 'topic.blacklisted', 'subTopics blacklist entry "#"'],
    ['blacklist', ['+'], '#', true, 'subscribe.granted', 'subTopics blacklist (no entry covers the whole filter)'],
    ['blacklist', ['a/+'], 'a/#', true, 'subscribe.granted', 'subTopics blacklist (no entry covers the whole filter)'],
    ['blacklist', ['a/+'], 'a/+', false, 'topic.blacklisted', 'subTopics blacklist entry "a/+"'],
    ['blacklist', ['+/#'], '#', false, 'topic.blacklisted', 'subTopics blacklist entry "+/#"'],
    ['blacklist', [], '#', true, 'subscribe.granted', 'subTopics blacklist (no entry covers the whole filter)'],
  ])('%s %j: filter %j → allowed=%s (%s)', (filterType, rules, filter, allowed, reason, rule) => {
    expectDecision(customFilterDecision(filterType, rules, filter), allowed, reason, rule);
  });
});
