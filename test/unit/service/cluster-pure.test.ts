// The pure parts of the cluster views (docs/design.md §8 "Clustered", §7a): input checks, the
// redacted Redis URL, the rate-limited warning, stream id order, the feed's merge and node stamp,
// and the application limits with other nodes' connects and imported bans.
import { describe, expect, it } from 'vitest';
import { ApplicationLimits, LOSANT_LIMITS } from '../../../src-main/core/limits.ts';
import { compareStreamIds } from '../../../src-main/service/cluster-decisions.ts';
import {
  parseNodeId,
  parseRedisUrl,
  rateLimitedWarn,
  redactRedisUrl,
} from '../../../src-main/service/cluster-redis.ts';
import { DecisionFeed } from '../../../src-main/service/decision-feed.ts';
import { parseDecisionLine } from '../../../src-main/service/decision-log.ts';

describe('cluster input checks', () => {
  it('redacts the password of a Redis URL and names what is wrong with a bad one', () => {
    expect(redactRedisUrl('redis://user:hunter2@10.0.0.5:6379/0')).toBe('redis://***@10.0.0.5:6379/0');
    expect(redactRedisUrl('redis://:hunter2@h:1')).not.toContain('hunter2');
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
    expect(parseRedisUrl('rediss://h:6380')).toBe('rediss://h:6380');
    expect(() => parseRedisUrl('http://h:1')).toThrow(/must start with redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl('')).toThrow(/redisUrl/);
    expect(() => parseRedisUrl('not a url :hunter2@')).toThrow(/is not a URL/);
    expect(() => parseRedisUrl('not a url :hunter2@')).not.toThrow(/hunter2/);
  });

  it('accepts node ids that fit a Redis key and the UI, refuses others', () => {
    expect(parseNodeId('node-a.1_x')).toBe('node-a.1_x');
    for (const bad of ['', '-a', 'a b', 'a:b', 'x'.repeat(65), 7])
      expect(() => parseNodeId(bad)).toThrow(/cluster nodeId must be 1-64 letters/);
  });

  it('warns once per interval per kind, then says how many were held back', () => {
    const lines: string[] = [];
    let t = 0;
    const warn = rateLimitedWarn(
      (l) => lines.push(l),
      10_000,
      () => t,
    );
    warn('down', 'Redis is away');
    warn('down', 'Redis is away');
    warn('other', 'something else');
    t = 9_999;
    warn('down', 'Redis is away');
    t = 10_000;
    warn('down', 'Redis is away');
    expect(lines).toEqual([
      'cluster: Redis is away',
      'cluster: something else',
      'cluster: Redis is away (2 more like this not logged)',
    ]);
  });

  it('orders stream ids numerically, milliseconds first', () => {
    expect(compareStreamIds('9-5', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-9')).toBeGreaterThan(0);
    expect(compareStreamIds('1700000000000-0', '1700000000000-0')).toBe(0);
  });
});

describe('the decision feed, clustered', () => {
  it("stamps this node's id on its events and merges another node's keeping its time and node", () => {
    const feed = new DecisionFeed(3);
    feed.node = 'a';
    const local = feed.record({
      transport: 'tcp',
      action: 'connect',
      result: 'allowed',
      reason: 'connect.accepted',
      rule: 'r',
    });
    expect(local.node).toBe('a');
    const seen: string[] = [];
    feed.events.on('decision', (e) => seen.push(`${e.node}:${e.seq}`));
    const remote = feed.merge({
      seq: 77,
      time: '2020-01-01T00:00:00.000Z',
      transport: 'ws',
      action: 'connect',
      result: 'denied',
      reason: 'secret.mismatch',
      rule: 'r',
      node: 'b',
    });
    expect(remote).toMatchObject({ seq: 2, time: '2020-01-01T00:00:00.000Z', node: 'b' });
    expect(feed.list().map((e) => e.node)).toEqual(['a', 'b']);
    expect(seen).toEqual(['b:2']);
    expect(() => feed.merge({ ...remote, node: 'a' })).toThrow(/another node/);
    // The decision log keeps the node across a restart.
    expect(parseDecisionLine(JSON.stringify(remote))?.node).toBe('b');
  });
});

describe('application limits across nodes', () => {
  const limits = { ...LOSANT_LIMITS, connectsPerApplication: 3 };

  it("refuses a CONNECT when this node's window plus the other nodes' counts reach the limit, without counting it", () => {
    const app = new ApplicationLimits(limits);
    expect(app.admit('d1', 0, 1)).toBeNull();
    const refused = app.admit('d2', 1, 2);
    expect(refused?.reason).toBe('limit.connect-rate');
    expect(refused?.rule).toBe('4 device connections in 15 s in this application (2 on other nodes), limit 3');
    expect(app.connectsInWindow(1)).toBe(1);
    expect(app.admit('d3', 2, 1)).toBeNull();
    expect(app.connectsInWindow(15_000)).toBe(1); // d1's connect left the window
  });

  it('enforces a ban imported from another node and escalates the next ban from its level', () => {
    const app = new ApplicationLimits(limits);
    app.importBan('d', { level: 2, until: 60_000 });
    expect(app.admit('d', 1_000)?.reason).toBe('limit.banned');
    app.importBan('d', { level: 1, until: 30_000 }); // an older, shorter ban does not replace it
    expect(app.banOf('d', 40_000)?.level).toBe(2);
    expect(app.admit('d', 60_000)).toBeNull();
    expect(app.ban('d', 61_000).level).toBe(3);
  });
});
