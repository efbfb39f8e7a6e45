// The cluster's Redis URL (docs/design.md §12b): checked where it enters, and never shown with its password.
import { describe, expect, it } from 'vitest';
import { checkNodeId, checkRedisUrl, defaultNodeId, maskRedisUrl } from '../../../src-main/broker/cluster-url.ts';

describe('maskRedisUrl', () => {
  it.each([
    ['redis://:s3cret@host:6379', 'redis://:***@host:6379'],
    ['rediss://user:s3cret@host:6380/2', 'rediss://user:***@host:6380/2'],
    ['redis://host:6379', 'redis://host:6379'],
    ['redis:pw@@@ not a url', 'redis:…'],
    ['s3cret', '(not a URL)'],
  ])('%s → %s', (url, shown) => {
    expect(maskRedisUrl(url)).toBe(shown);
    expect(maskRedisUrl(url)).not.toContain('s3cret');
  });
});

describe('checkRedisUrl', () => {
  it('accepts redis:// and rediss:// with a host, optional database number', () => {
    expect(checkRedisUrl('redis://127.0.0.1:6379').port).toBe('6379');
    expect(checkRedisUrl('rediss://:pw@h/15').hostname).toBe('h');
  });
  it.each([
    ['http://h:6379', /scheme must be redis:\/\/ or rediss:\/\//],
    ['redis://h/x', /database number/],
    ['redis://h?db=1', /no query/],
    ['nope', /is not a URL/],
  ])('refuses %s', (url, why) => expect(() => checkRedisUrl(url)).toThrow(why));
  it('names the URL without its password when refusing it', () => {
    expect(() => checkRedisUrl('redis://:s3cret@h/x')).toThrow('redis://:***@h/x');
  });
});

describe('node ids', () => {
  it('are one topic level of letters, digits, . _ -', () => {
    expect(checkNodeId('node-1.eu_west')).toBe('node-1.eu_west');
    for (const bad of ['', 'a/b', 'a+b', '#', '-x', 'x'.repeat(65)]) expect(() => checkNodeId(bad)).toThrow(/node id/);
  });
  it('default to a valid hostname-pid', () => {
    expect(checkNodeId(defaultNodeId())).toMatch(new RegExp(`-${process.pid}$|^node-`));
  });
});
