import { describe, it, expect } from 'vitest';
import {
  MAX_TOPIC_BYTES,
  MAX_TOPIC_LEVELS,
  filterCovers,
  filtersIntersect,
  topicMatches,
  validateTopicFilter,
  validateTopicName,
} from '../../../src-main/core/topics.ts';

const levels = (n: number): string => Array.from({ length: n }, () => 'a').join('/');

describe('limits', () => {
  it('are 65535 bytes and 100 levels', () => {
    expect(MAX_TOPIC_BYTES).toBe(65535);
    expect(MAX_TOPIC_LEVELS).toBe(100);
  });
});

describe('validateTopicName', () => {
  it.each([
    ['a'],
    ['a/b/c'],
    ['a//b'],
    ['a/'],
    ['/'],
    ['/a'],
    ['$SYS/broker/uptime'],
    ['losant/abc/state'],
    ['caf\u00e9/€/😀'],
    [' spaced topic '],
  ])('%j is valid', (topic) => {
    expect(validateTopicName(topic)).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['a/+', /"\+".*wildcards/],
    ['+', /"\+"/],
    ['a/#', /"#".*wildcards/],
    ['a#b', /"#"/],
    ['a\u0000b', /U\+0000/],
    ['\u0000', /U\+0000/],
    ['a\ud800', /surrogate/],
    ['\udc00a', /surrogate/],
  ])('%j is invalid (%s)', (topic, message) => {
    expect(validateTopicName(topic)).toMatch(message);
  });

  it('accepts 100 levels and rejects 101', () => {
    expect(validateTopicName(levels(100))).toBeNull();
    expect(validateTopicName('/'.repeat(99))).toBeNull(); // 100 empty levels
    expect(validateTopicName(levels(101))).toBe('topic name has 101 levels; at most 100 are allowed');
    expect(validateTopicName('/'.repeat(100))).toMatch(/101 levels/);
  });

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    expect(validateTopicName('x'.repeat(65535))).toBeNull();
    expect(validateTopicName('x'.repeat(65536))).toBe('topic name is 65536 bytes in UTF-8; at most 65535 are allowed');
    expect(validateTopicName('€'.repeat(21845))).toBeNull(); // 65,535 bytes
    expect(validateTopicName('€'.repeat(21846))).toMatch(/65538 bytes/);
    expect(validateTopicName('é'.repeat(32768))).toMatch(/65536 bytes/);
    expect(validateTopicName('😀'.repeat(16383) + 'abc')).toBeNull(); // 65,532 + 3
    expect(validateTopicName('😀'.repeat(16384))).toMatch(/65536 bytes/);
  });
});

describe('validateTopicFilter', () => {
  it.each([['a'], ['#'], ['+'], ['a/#'], ['a/+/b'], ['+/+'], ['+/#'], ['/+'], ['+/'], ['a//b'], ['a/'], ['$SYS/#']])(
    '%j is valid',
    (filter) => {
      expect(validateTopicFilter(filter)).toBeNull();
    },
  );

  it.each([
    ['', /empty/],
    ['a/#/b', /"#" must be the whole last level/],
    ['#/a', /"#" must be the whole last level/],
    ['a/b#', /"#" must be the whole last level/],
    ['a#', /"#"/],
    ['##', /"#"/],
    ['a+', /"\+" must occupy a whole level/],
    ['a/+b/c', /"\+" must occupy a whole level/],
    ['++', /"\+"/],
    ['a\u0000/#', /U\+0000/],
    ['\ud83d', /surrogate/],
  ])('%j is invalid (%s)', (filter, message) => {
    expect(validateTopicFilter(filter)).toMatch(message);
  });

  it('applies the same level and byte limits as topic names', () => {
    expect(validateTopicFilter(levels(99) + '/#')).toBeNull();
    expect(validateTopicFilter(levels(100) + '/#')).toBe('topic filter has 101 levels; at most 100 are allowed');
    expect(validateTopicFilter('+/'.repeat(99) + '+')).toBeNull();
    expect(validateTopicFilter('x'.repeat(65535))).toBeNull();
    expect(validateTopicFilter('x'.repeat(65534) + '/#')).toMatch(/65536 bytes/);
    expect(validateTopicFilter('€'.repeat(21846))).toMatch(/65538 bytes/);
  });
});

describe('topicMatches', () => {
  it.each([
    // filter, topic, matches
    ['a', 'a', true],
    ['a', 'a/', false],
    ['a/', 'a', false],
    ['a/', 'a/', true],
    ['a', 'b', false],
    ['a', 'ab', false],
    ['ab', 'a', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/b', 'a//b', false],
    ['a/+/b', 'a//b', true],
    ['a/+/b', 'a/x/b', true],
    ['a/+/b', 'a/x/y/b', false],
    ['a//b', 'a//b', true],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true],
    ['a/#', 'a/', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/#', 'b/a', false],
    ['a/b/#', 'a', false],
    ['+', 'a', true],
    ['+', '/', false],
    ['+/+', '/', true],
    ['+', 'a/b', false],
    ['#', 'a', true],
    ['#', '/', true],
    ['#', 'a/b/c', true],
    ['+/#', 'a', true],
    ['+/#', 'a/b/c', true],
    ['/#', 'a', false],
    ['/+', '/x', true],
    ['sensors/+/temp', 'sensors/s1/temp', true],
    ['sensors/+/temp', 'sensors/s1/hum', false],
    ['A', 'a', false], // case-sensitive, no normalisation [MQTT-4.7.3-4]
    ['caf\u00e9', 'cafe\u0301', false],
    // [MQTT-4.7.2-1]: leading wildcards never reach $ topics
    ['#', '$SYS/x', false],
    ['#', '$SYS', false],
    ['+/x', '$SYS/x', false],
    ['+', '$SYS', false],
    ['+/#', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['$SYS/#', '$SYS', true],
    ['$SYS/+', '$SYS/x', true],
    ['$SYS/x', '$SYS/x', true],
    ['a/#', 'a/$x', true], // the rule is only about the first level
    ['a/+', 'a/$x', true],
    ['#', 'x$', true],
  ])('%j vs %j → %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('handles 100-level topics', () => {
    expect(topicMatches(levels(100), levels(100))).toBe(true);
    expect(topicMatches('+/'.repeat(99) + '+', levels(100))).toBe(true);
    expect(topicMatches('+/'.repeat(98) + '+', levels(100))).toBe(false);
    expect(topicMatches('a/#', levels(100))).toBe(true);
  });
});

describe('filtersIntersect', () => {
  it.each([
    ['a', 'a', true],
    ['a', 'b', false],
    ['a', 'a/', false],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/+', '+/b', true],
    ['a/+', 'b/+', false],
    ['+/+', '+', false],
    ['+/+', '#', true],
    ['+', '#', true],
    ['#', '#', true],
    ['a/b/#', 'a/+/c/d', true],
    ['a/b/#', 'a/c/#', false],
    ['a/+/c', 'a/b/+', true],
    ['a/+/c', 'a/b/d', false],
    ['a//b', 'a/+/b', true],
    ['a//b', 'a/b', false],
    ['sensors/+', 'sensors/#', true],
    // [MQTT-4.7.2-1]
    ['#', '$SYS/x', false],
    ['$SYS/x', '#', false],
    ['+/x', '$SYS/x', false],
    ['+/#', '$SYS/#', false],
    ['$SYS/#', '$SYS/x', true],
    ['$SYS/+', '$SYS/#', true],
    ['#', '$', false],
    ['a/#', 'a/$x', true],
  ])('%j ∩ %j → %s', (a, b, expected) => {
    expect(filtersIntersect(a, b)).toBe(expected);
    expect(filtersIntersect(b, a)).toBe(expected); // symmetric
  });
});

describe('filterCovers', () => {
  it.each([
    // outer, inner, covers
    ['+', '#', false],
    ['a/+', 'a/#', false],
    ['#', 'a/#', true],
    ['#', '+/+', true],
    ['#', '+', true],
    ['#', '#', true],
    ['#', 'a', true],
    ['#', '+/#', true],
    ['+/#', '#', true],
    ['+/#', 'a', true],
    ['+/#', '+/+/x', true],
    ['+/+/#', '#', false],
    ['a/#', 'a/b/#', true],
    ['a/#', 'a', true],
    ['a/#', 'a/', true],
    ['a/#', 'a/+', true],
    ['a/#', '#', false],
    ['a/#', 'b', false],
    ['a/b/#', 'a/#', false],
    ['a/b/#', 'a', false],
    ['+', 'a', true],
    ['+', '+', true],
    ['+', 'a/b', false],
    ['+', 'a/#', false],
    ['+/+', 'a/+', true],
    ['a/+', '+/+', false],
    ['a', 'a', true],
    ['a', 'a/', false],
    ['a/', 'a', false],
    ['a', '+', false],
    ['a', 'a/#', false],
    ['a/+', 'a/', true],
    ['a/+/b', 'a//b', true],
    ['a/b', 'a//b', false],
    ['sensors/+/temp', 'sensors/s1/temp', true],
    ['sensors/+/temp', 'sensors/+/temp', true],
    ['sensors/s1/temp', 'sensors/+/temp', false],
    // [MQTT-4.7.2-1]: leading wildcards never cover $ topics
    ['#', '$SYS/x', false],
    ['#', '$SYS/#', false],
    ['+/x', '$SYS/x', false],
    ['+', '$SYS', false],
    ['+/#', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['$SYS/#', '#', false],
    ['$SYS/+', '+/+', false],
    ['a/#', 'a/$x', true],
    ['a/+', 'a/$x', true],
  ])('%j covers %j → %s', (outer, inner, expected) => {
    expect(filterCovers(outer, inner)).toBe(expected);
  });

  // Cross-check against topicMatches on sampled concrete topics.
  const sample = ['a', 'b', 'a/', 'a/b', 'a//b', 'a/b/c', '/', 'x/y', '$SYS', '$SYS/x', 'a/$x', 'x$'];
  const filters = ['#', '+', '+/+', '+/#', 'a', 'a/#', 'a/+', 'a/+/b', '$SYS/#', '$SYS/+', 'a//b', '/+'];
  it('agrees with topicMatches on sampled topics (covers ⇒ subset; shared topic ⇒ intersect)', () => {
    let covered = 0;
    for (const outer of filters) {
      for (const inner of filters) {
        const both = sample.filter((t) => topicMatches(outer, t) && topicMatches(inner, t));
        if (both.length > 0) expect(filtersIntersect(outer, inner), `${outer} ∩ ${inner}`).toBe(true);
        if (!filterCovers(outer, inner)) continue;
        covered++;
        for (const t of sample) {
          if (topicMatches(inner, t)) expect(topicMatches(outer, t), `${outer} ⊇ ${inner} at ${t}`).toBe(true);
        }
      }
    }
    expect(covered).toBeGreaterThan(filters.length); // more than the reflexive pairs
  });
});
