// Fleets across machines (docs/design.md §7): --shard I/S parsed and checked, the slices of S shards
// covering a fleet exactly once, and the order in which a device walks a list of brokers.
import { describe, expect, it } from 'vitest';
import { BrokerList } from '../../../src-main/simulator/broker-list.ts';
import { brokerOrder, parseShard, shardRange, type Shard } from '../../../src-main/simulator/shards.ts';

const range = (size: number, shard: Shard) => {
  const r = shardRange(size, shard);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

describe('parseShard', () => {
  it('reads I/S counted from 1', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1/1 ')).toEqual({ index: 1, count: 1 });
  });

  it.each([
    ['0/4', /the shard number must be from 1 to 4 \(counted from 1; got "0\/4"\)/],
    ['5/4', /the shard number must be from 1 to 4/],
    ['1/0', /the shard count must be at least 1/],
    ['2', /must look like I\/S/],
    ['a/b', /must look like I\/S/],
    ['-1/4', /must look like I\/S/],
    ['1.5/4', /must look like I\/S/],
  ])('%s: a sentence saying what is wrong', (text, message) => {
    const r = parseShard(text);
    expect(typeof r).toBe('string');
    expect(r).toMatch(message);
  });
});

describe('shardRange', () => {
  it('--fleet 1000 --shard 2/4 is devices 251–500', () => {
    expect(range(1000, { index: 2, count: 4 })).toEqual({ first: 251, last: 500, size: 1000 });
  });

  it('an uneven split gives the larger slices first', () => {
    const slices = [1, 2, 3].map((index) => range(1000, { index, count: 3 }));
    expect(slices.map((r) => [r.first, r.last])).toEqual([
      [1, 334],
      [335, 667],
      [668, 1000],
    ]);
  });

  it('every split of every small fleet covers each device exactly once', () => {
    for (let size = 1; size <= 40; size++)
      for (let count = 1; count <= size; count++) {
        const seen: number[] = [];
        for (let index = 1; index <= count; index++) {
          const r = range(size, { index, count });
          expect(r.last, `${index}/${count} of ${size}`).toBeGreaterThanOrEqual(r.first);
          for (let n = r.first; n <= r.last; n++) seen.push(n);
        }
        expect(seen, `${count} shards of ${size}`).toEqual(Array.from({ length: size }, (_, i) => i + 1));
      }
  });

  it('more shards than devices is refused, naming the bound', () => {
    expect(shardRange(3, { index: 1, count: 4 })).toBe(
      '4 shards of a fleet of 3 would leave a shard without devices (at most 3 shards)',
    );
  });
});

describe('brokerOrder', () => {
  const urls = ['mqtt://a:1883', 'mqtt://b:1883', 'mqtt://c:1883'];

  it('device n starts on broker (n-1) mod B and then walks the list in order', () => {
    expect(brokerOrder(urls, 1)).toEqual(urls);
    expect(brokerOrder(urls, 2)).toEqual(['mqtt://b:1883', 'mqtt://c:1883', 'mqtt://a:1883']);
    expect(brokerOrder(urls, 6)).toEqual(['mqtt://c:1883', 'mqtt://a:1883', 'mqtt://b:1883']);
  });

  it('spreads a fleet evenly: 300 devices on 3 brokers are 100 on each', () => {
    const first = new Map<string, number>();
    for (let n = 1; n <= 300; n++) {
      const u = brokerOrder(urls, n)[0]!;
      first.set(u, (first.get(u) ?? 0) + 1);
    }
    expect([...first.values()]).toEqual([100, 100, 100]);
  });
});

describe('BrokerList', () => {
  it('goes round the list, counting the moves', () => {
    const b = new BrokerList(['mqtt://a', 'mqtt://b']);
    expect(b.current).toBe('mqtt://a');
    expect(b.next()).toEqual({ from: 'mqtt://a', to: 'mqtt://b' });
    expect(b.next()).toEqual({ from: 'mqtt://b', to: 'mqtt://a' });
    expect(b.moves).toBe(2);
  });

  const entry = (kind: 'publish' | 'disconnect' | 'subscribe', ok: boolean, reason: string) =>
    ({ time: '', kind, ok, reason, source: 'broker' }) as const;

  it.each([
    ['a denied publish', entry('publish', false, 'topic.out-of-scope')],
    ['a key switched off', entry('disconnect', false, 'key.inactive')],
    ['a take-over', entry('disconnect', false, 'session.taken-over')],
  ])('a close after %s (policy in the feed) does not move; the next attempt forgets it', (_l, e) => {
    const b = new BrokerList(['mqtt://a', 'mqtt://b']);
    b.saw({ ...e });
    expect(b.afterClose()).toBeUndefined();
    expect(b.current).toBe('mqtt://a');
    b.attempting();
    expect(b.afterClose()).toEqual({ from: 'mqtt://a', to: 'mqtt://b' });
  });

  it("a close after the broker's shutdown or a refused subscription moves on", () => {
    const b = new BrokerList(['mqtt://a', 'mqtt://b']);
    b.saw({ ...entry('subscribe', false, 'topic.out-of-scope') });
    b.saw({ ...entry('disconnect', true, 'broker.shutdown') });
    expect(b.afterClose()).toEqual({ from: 'mqtt://a', to: 'mqtt://b' });
  });

  it('tags connect outcomes with the broker, only when there is a list', () => {
    const many = { time: '', kind: 'connect' as const, ok: true };
    new BrokerList(['mqtt://a', 'mqtt://b']).saw(many);
    expect(many).toMatchObject({ broker: 'mqtt://a' });
    const one = { time: '', kind: 'connect' as const, ok: true };
    new BrokerList('mqtt://a').saw(one);
    expect(one).not.toHaveProperty('broker');
  });

  it('gives up on refusals after max attempts, on network failures after max rounds of the list', () => {
    const b = new BrokerList(['mqtt://a', 'mqtt://b', 'mqtt://c']);
    expect(b.attemptLimit(5, true)).toBe(5);
    expect(b.attemptLimit(5, false)).toBe(15);
  });

  it('with one broker there is nowhere to move', () => {
    const b = new BrokerList('mqtt://a');
    expect(b.many).toBe(false);
    expect(b.next()).toBeUndefined();
    expect(b.current).toBe('mqtt://a');
    expect(b.moves).toBe(0);
  });
});
