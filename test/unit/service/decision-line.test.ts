import { describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';
import { decisionLine, DecisionLineEncoder } from '../../../src-main/service/decision-line.ts';
import { parseDecisionLine } from '../../../src-main/service/decision-log.ts';

const base: DecisionEvent = {
  seq: 41,
  time: '2026-12-02T04:00:00.000Z',
  transport: 'tcp',
  action: 'publish',
  result: 'allowed',
  reason: 'publish.allowed',
  rule: 'device topic',
};

describe('decisionLine', () => {
  it('is JSON.stringify of the event plus a newline, for every optional field and strings that need escaping', () => {
    const all: DecisionEvent = {
      ...base,
      rule: 'pubTopics whitelist entry "a/+" \\ \n\t\u0001 é 😀 \ud800',
      deviceId: 'd',
      keyId: 'k',
      sourceAddress: '::1',
      forwardedFor: '10.0.0.1, "x"',
      peerAddress: '127.0.0.1',
      topic: 'a/"b"/\u2028',
    };
    for (const e of [base, all, { ...base, topic: 'x' }, { ...base, deviceId: 'd', sourceAddress: '1.2.3.4' }])
      expect(decisionLine(e)).toBe(JSON.stringify(e) + '\n');
    expect(parseDecisionLine(decisionLine(all).slice(0, -1))).toEqual(all);
  });

  it('quotes the same string the same way after the cache starts afresh', () => {
    const lines = new Set<string>();
    for (let i = 0; i < 5000; i++) decisionLine({ ...base, rule: `rule ${i}` });
    lines.add(decisionLine({ ...base, rule: 'rule 1 "q"' }));
    lines.add(decisionLine({ ...base, rule: 'rule 1 "q"' }));
    expect([...lines]).toEqual([JSON.stringify({ ...base, rule: 'rule 1 "q"' }) + '\n']);
  });
});

describe('DecisionLineEncoder', () => {
  it('writes byte for byte what decisionLine gives, while the fields after time repeat and when they change', () => {
    const enc = new DecisionLineEncoder();
    const pub: DecisionEvent = { ...base, deviceId: 'd', keyId: 'k', sourceAddress: '::1', topic: 'losant/d/state' };
    const events: DecisionEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const e = i % 7 === 3 ? { ...pub, topic: 'é/😀/"q"' } : i % 11 === 5 ? { ...base, rule: `rule ${i}` } : pub;
      events.push({ ...e, seq: 100 + i, time: new Date(1_700_000_000_000 + (i >> 2)).toISOString() });
    }
    // A run of identical tails, then one without an optional field the previous one had.
    events.push({ ...pub, seq: 200, topic: undefined } as DecisionEvent);
    const buf = Buffer.alloc(64 * 1024);
    let off = 0;
    for (const e of events) {
      const n = enc.encodeInto(e, buf, off);
      expect(buf.subarray(off, off + n).toString('utf8')).toBe(decisionLine(e));
      off += n;
    }
    expect(buf.subarray(0, off).toString('utf8')).toBe(events.map((e) => JSON.stringify(e) + '\n').join(''));
  });

  it('writes the seq digits right at every length (the head is written as bytes)', () => {
    const enc = new DecisionLineEncoder();
    const buf = Buffer.alloc(4096);
    for (const seq of [1, 9, 10, 11, 99, 100, 101, 999_999, 1_000_000, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
      const e = { ...base, seq };
      const n = enc.encodeInto(e, buf, 3);
      expect(buf.subarray(3, 3 + n).toString('utf8')).toBe(JSON.stringify(e) + '\n');
    }
  });

  it('writes nothing and says -1 when the line may not fit', () => {
    const enc = new DecisionLineEncoder();
    const line = Buffer.from(decisionLine(base));
    const buf = Buffer.alloc(line.length + 10, 0x2a);
    expect(enc.encodeInto(base, buf, 11)).toBe(-1);
    expect(buf.every((b) => b === 0x2a)).toBe(true);
    expect(enc.encodeInto(base, buf, 10)).toBe(line.length);
    expect(buf.subarray(10)).toEqual(line);
  });
});

describe('decisionLine for connection events', () => {
  it('is JSON.stringify of the event for connect, disconnect and auth events of many devices (quoted without the cache)', () => {
    for (const action of ['connect', 'disconnect', 'auth'] as const)
      for (let i = 0; i < 5000; i++) {
        const e: DecisionEvent = {
          ...base,
          action,
          reason: 'connect.accepted',
          rule: `deviceIds entry "dev-${i}"`,
          deviceId: `dev-${i}`,
          keyId: `key-${i} "\u0001"`,
          sourceAddress: `10.0.${i % 256}.1`,
          forwardedFor: '10.0.0.1, "x"',
          peerAddress: '127.0.0.1',
        };
        if (i % 997 === 0) expect(decisionLine(e)).toBe(JSON.stringify(e) + '\n');
        else decisionLine(e);
      }
  });
});

describe('DecisionLineEncoder for connection events (written straight into the buffer)', () => {
  const connect = (i: number): DecisionEvent => ({
    ...base,
    seq: 500 + i,
    time: new Date(1_700_000_000_000 + i).toISOString(),
    action: i % 3 === 0 ? 'connect' : i % 3 === 1 ? 'disconnect' : 'auth',
    reason: 'connect.accepted',
    rule: `deviceIds entry "dev-${i}" é`,
    deviceId: `dev-${i}`,
    keyId: `key-${i}`,
    sourceAddress: '::1',
    peerAddress: '127.0.0.1',
  });

  it('writes byte for byte what decisionLine gives, between PUBLISHes whose repeated tail it leaves alone', () => {
    const enc = new DecisionLineEncoder();
    const pub: DecisionEvent = { ...base, deviceId: 'd', keyId: 'k', sourceAddress: '::1', topic: 'losant/d/state' };
    const events: DecisionEvent[] = [];
    for (let i = 0; i < 30; i++) events.push(i % 4 === 1 ? connect(i) : { ...pub, seq: 100 + i });
    const buf = Buffer.alloc(64 * 1024);
    let off = 0;
    for (const e of events) off += enc.encodeInto(e, buf, off);
    expect(buf.subarray(0, off).toString('utf8')).toBe(events.map((e) => JSON.stringify(e) + '\n').join(''));
  });

  it('writes nothing and says -1 when the line does not fit, and fits it exactly when it does', () => {
    const enc = new DecisionLineEncoder();
    const e = { ...connect(0), rule: 'é😀'.repeat(20) }; // more bytes than UTF-16 units
    const line = Buffer.from(decisionLine(e));
    const buf = Buffer.alloc(line.length + 10, 0x2a);
    expect(enc.encodeInto(e, buf, 11)).toBe(-1);
    expect(buf.every((b) => b === 0x2a)).toBe(true);
    expect(enc.encodeInto(e, buf, 10)).toBe(line.length);
    expect(buf.subarray(10)).toEqual(line);
  });
});
